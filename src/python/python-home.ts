import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, type Stats, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { PythonEnvironmentError, PythonErrorCode as E } from './errors.js';
import { settingWithValue } from './setting-form.js';

/** What a python-home names once checked: the environment's top folder and its interpreter. */
export interface PythonHome {
  /** The top directory of the environment (its sys.prefix), absolute. */
  home: string;
  /** The interpreter the workers run: <home>/bin/python (or python3...), never resolved. */
  interpreter: string;
  /** The settings in <home>/pyvenv.cfg when it is a virtual environment. */
  venv: Record<string, string> | undefined;
}

const SITE_PACKAGES = /^(.*?)[\\/](lib|lib64)[\\/](python\d+(\.\d+)?|pypy\d*(\.\d+)?)[\\/](site|dist)-packages[\\/]?$/i;
const WINDOWS_SITE_PACKAGES = /^(.*?)[\\/]Lib[\\/]site-packages[\\/]?$/;

/** "--python-home '/x'", "WSGIDaemonProcess blog python-home='/x'" (no space after '='). */
function named(what: string, show: string): string {
  return what.endsWith('=') ? `${what}${show}` : `${what} ${show}`;
}

/** `what` names the setting in messages: "python-home", "--python-home", "WSGIPythonHome". */
export function resolvePythonHome(given: string, what = 'python-home'): PythonHome {
  const home = resolve(given);
  const show = given === home ? `'${given}'` : `'${given}' (${home})`;
  let st: Stats;
  try {
    st = statSync(home);
  } catch {
    const broken = brokenSymlink(home);
    throw new PythonEnvironmentError(
      E.HOME_NOT_FOUND,
      `${named(what, show)} does not exist${broken ? ` (it is a symbolic link to the missing '${broken}')` : ''}. ` +
        `It must be the top directory of a Python virtual environment (that environment's sys.prefix).`,
      { hint: nearestEnvironmentHint(home) ?? `Create one with: python3 -m venv ${home}` },
    );
  }
  if (!st.isDirectory()) {
    const name = basename(home);
    if (/^(python|pypy)[\d.]*(\.exe)?$/i.test(name)) {
      const parent = dirname(home);
      const suggestion = basename(parent) === 'bin' || basename(parent) === 'Scripts' ? dirname(parent) : parent;
      throw new PythonEnvironmentError(
        E.HOME_IS_EXECUTABLE,
        `${named(what, show)} is the Python executable, not the environment's top directory; ` +
          `a python-home that names the executable is the "all too common mistake" that mod_wsgi silently ignores.`,
        { hint: `Use ${settingWithValue(what, suggestion)}` },
      );
    }
    throw new PythonEnvironmentError(
      E.HOME_IS_FILE,
      `${named(what, show)} is a file, not a directory; it must be the top directory of a Python virtual environment.`,
      { hint: nearestEnvironmentHint(dirname(home)) ?? 'Point it at the folder you created with python3 -m venv' },
    );
  }
  const sp = SITE_PACKAGES.exec(home) ?? WINDOWS_SITE_PACKAGES.exec(home);
  if (sp) {
    const top = sp[1] || sep;
    throw new PythonEnvironmentError(
      E.HOME_IS_SITE_PACKAGES,
      `${named(what, show)} is a site-packages folder inside an environment, not the environment itself; ` +
        `naming it ties the setting to one Python version.`,
      { hint: `Use ${settingWithValue(what, top)}` },
    );
  }
  const venv = readVenvConfig(home);
  const interpreter = findInterpreter(home);
  if (interpreter === undefined && venv === undefined) {
    const top = enclosingEnvironment(home);
    if (top !== undefined) {
      throw new PythonEnvironmentError(
        E.HOME_INSIDE_ENVIRONMENT,
        `${named(what, show)} is the ${relative(top, home)} folder inside the Python environment ${top}, not the environment's top directory (its sys.prefix).`,
        { hint: `Use ${settingWithValue(what, top)}` },
      );
    }
  }
  if (interpreter === undefined) {
    const dangling = danglingInterpreter(home);
    if (venv !== undefined || dangling !== undefined) {
      throw brokenVenv(home, show, what, venv, dangling);
    }
    throw new PythonEnvironmentError(
      E.NO_INTERPRETER,
      `${named(what, show)} is a directory with no Python interpreter in it (no bin/python or bin/python3), ` + `so it is not a Python environment.`,
      { hint: nearestEnvironmentHint(home) ?? `Create a virtual environment there with: python3 -m venv ${home}` },
    );
  }
  if (venv !== undefined && venv.home !== undefined && !existsSync(venv.home)) {
    throw brokenVenv(home, show, what, venv, undefined);
  }
  return { home, interpreter, venv };
}

function brokenVenv(
  home: string,
  show: string,
  what: string,
  venv: Record<string, string> | undefined,
  dangling: { link: string; target: string } | undefined,
): PythonEnvironmentError {
  const base = venv?.home;
  const version = venv?.version ?? venv?.version_info;
  const reason = dangling
    ? `its interpreter ${dangling.link} points to '${dangling.target}', which no longer exists`
    : `the Python it was made from${base ? ` ('${base}')` : ''} no longer exists`;
  const py = version ? `python${version.split('.').slice(0, 2).join('.')}` : 'python3';
  return new PythonEnvironmentError(
    E.BROKEN_VENV,
    `${named(what, show)} is a virtual environment whose base interpreter is gone: ${reason}` + `${version ? ` (it was made with Python ${version})` : ''}.`,
    { hint: `Recreate it with an interpreter that exists: ${py} -m venv --clear ${home} (then reinstall its packages)` },
  );
}

export function readVenvConfig(home: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(join(home, 'pyvenv.cfg'), 'utf8');
  } catch {
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[(m[1] as string).toLowerCase()] = m[2] as string;
  }
  return out;
}

const CANDIDATES = ['python', 'python3'];

/** <home>/bin/python, python3 or python3.X (highest), whichever runs; undefined when none. */
export function findInterpreter(home: string): string | undefined {
  const bin = join(home, 'bin');
  for (const name of CANDIDATES) {
    const p = join(bin, name);
    if (isExecutableFile(p)) return p;
  }
  let names: string[] = [];
  try {
    names = readdirSync(bin);
  } catch {
    return undefined;
  }
  const versioned = names.filter((n) => /^python3\.\d+$/.test(n) || /^pypy3(\.\d+)?$/.test(n)).sort((a, b) => versionKey(b) - versionKey(a));
  for (const name of versioned) {
    const p = join(bin, name);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

function versionKey(name: string): number {
  const m = /(\d+)(?:\.(\d+))?$/.exec(name);
  return m ? Number(m[1]) * 1000 + Number(m[2] ?? 0) : 0;
}

function isExecutableFile(p: string): boolean {
  try {
    const st = statSync(p);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function danglingInterpreter(home: string): { link: string; target: string } | undefined {
  for (const name of CANDIDATES) {
    const link = join(home, 'bin', name);
    const target = brokenSymlink(link);
    if (target !== undefined) return { link, target };
  }
  return undefined;
}

/** The missing target of a dangling symbolic link; undefined when p is not one. */
function brokenSymlink(p: string): string | undefined {
  try {
    if (!lstatSync(p).isSymbolicLink()) return undefined;
    realpathSync(p);
    return undefined;
  } catch {
    try {
      return resolve(dirname(p), readlinkSync(p));
    } catch {
      return undefined;
    }
  }
}

/** The folders an environment's top directory holds, where a python-home may wrongly point. */
const ENVIRONMENT_PARTS = new Set(['bin', 'Scripts', 'lib', 'lib64', 'include', 'share', 'Lib', 'Include']);

/** The environment a folder is inside of (venv/bin, venv/lib, venv/lib/python3.11): up to 3 levels up. */
function enclosingEnvironment(dir: string): string | undefined {
  let d = dir;
  for (let i = 0; i < 3; i++) {
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
    if (!ENVIRONMENT_PARTS.has(relative(d, dir).split(sep)[0] as string)) continue;
    if (findInterpreter(d) !== undefined || readVenvConfig(d) !== undefined) return d;
  }
  return undefined;
}

/** When a folder holds (or sits next to) a virtual environment, name it as the value to use. */
function nearestEnvironmentHint(dir: string): string | undefined {
  for (const name of ['.venv', 'venv', 'env', '.env']) {
    const candidate = join(dir, name);
    if (findInterpreter(candidate) !== undefined) return `Did you mean ${candidate}? It holds a Python environment.`;
  }
  return undefined;
}
