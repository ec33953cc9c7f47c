import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PythonEnvironmentError, PythonErrorCode as E } from './errors.js';
import { type AppSpec, type ProbeResult, type PythonInfo, probeInterpreter, versionAtLeast } from './probe.js';
import { resolvePythonHome } from './python-home.js';
import { settingWithValue } from './setting-form.js';
import type { RunAs } from './worker-launch.js';
import { MIN_PYTHON } from './worker-program.js';

/** Where a group's interpreter came from, for messages and `check`. */
export type EnvironmentSource = 'python-home' | 'VIRTUAL_ENV' | 'PATH';

export interface PythonEnvironment {
  /** The environment's top directory (sys.prefix). */
  home: string;
  /** What the workers run. */
  interpreter: string;
  source: EnvironmentSource;
  info: PythonInfo;
  probe: ProbeResult;
}

export interface EnvironmentRequest {
  /** The configured python-home; undefined for the default ($VIRTUAL_ENV, else python3 on PATH). */
  pythonHome: string | undefined;
  /** How the setting is named in messages: 'python-home', '--python-home', 'WSGIPythonHome'... */
  what: string;
  pythonPath: string[];
  cwd: string;
  env: Record<string, string>;
  apps?: AppSpec[];
  addWorkingDirectory?: boolean;
  /** Probe as this user (a group's user=, when running as root). */
  runAs?: RunAs;
  /** The group, for messages. */
  label?: string;
}

export { MIN_PYTHON };

/** Finds and checks a group's interpreter before any worker starts. */
export async function resolveEnvironment(req: EnvironmentRequest): Promise<PythonEnvironment> {
  let home: string | undefined;
  let interpreter: string;
  let source: EnvironmentSource;
  if (req.pythonHome !== undefined) {
    ({ home, interpreter } = resolvePythonHome(req.pythonHome, req.what));
    source = 'python-home';
  } else if (process.env.VIRTUAL_ENV) {
    ({ home, interpreter } = resolvePythonHome(process.env.VIRTUAL_ENV, '$VIRTUAL_ENV'));
    source = 'VIRTUAL_ENV';
  } else {
    const found = findOnPath('python3');
    if (found === undefined) {
      throw new PythonEnvironmentError(E.NO_PYTHON_ON_PATH, 'no python-home is set, $VIRTUAL_ENV is not set, and there is no python3 on PATH', {
        hint: 'Pass --python-home DIR (a virtual environment made with python3 -m venv DIR)',
      });
    }
    interpreter = found;
    source = 'PATH';
  }
  const probe = await probeInterpreter(interpreter, {
    pythonPath: req.pythonPath,
    apps: req.apps ?? [],
    addWorkingDirectory: req.addWorkingDirectory ?? false,
    cwd: req.cwd,
    env: req.env,
    ...(req.runAs !== undefined ? { runAs: req.runAs } : {}),
    ...(req.label !== undefined ? { label: req.label } : {}),
  });
  const info = probe.python;
  if (source === 'PATH') {
    // A pyenv shim or wrapper script would be re-resolved at every start: run the real binary.
    interpreter = info.executable;
    home = info.prefix;
  }
  if (!versionAtLeast(info.version, MIN_PYTHON[0], MIN_PYTHON[1])) {
    throw new PythonEnvironmentError(
      E.TOO_OLD,
      `${describeSource(source, req.what, home)} runs Python ${info.version} (${interpreter}); ` +
        `wsgi-host's worker needs Python ${MIN_PYTHON.join('.')} or newer.`,
      { hint: 'Make the environment with a newer interpreter: python3.X -m venv DIR' },
    );
  }
  if (source !== 'PATH' && home !== undefined && !samePath(info.prefix, home)) {
    throw new PythonEnvironmentError(
      E.PREFIX_MISMATCH,
      `${describeSource(source, req.what, home)}: its interpreter ${interpreter} runs with sys.prefix ` +
        `${info.prefix}, so ${home} is not a Python environment of its own (no pyvenv.cfg?) and its packages would not apply.`,
      { hint: `Use ${settingWithValue(req.what, info.prefix)}, or make ${home} a virtual environment: python3 -m venv ${home}` },
    );
  }
  return { home: home ?? info.prefix, interpreter, source, info, probe };
}

function describeSource(source: EnvironmentSource, what: string, home: string | undefined): string {
  if (source === 'python-home') return what.endsWith('=') ? `${what}${home}` : `${what} ${home}`;
  if (source === 'VIRTUAL_ENV') return `$VIRTUAL_ENV ${home}`;
  return 'the python3 on PATH';
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return a === b;
  }
}

export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}
