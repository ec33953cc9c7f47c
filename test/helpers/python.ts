import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Interpreter {
  path: string;
  version: string;
  /** [major, minor] */
  mm: [number, number];
  implementation: string;
}

function probe(path: string): Interpreter | undefined {
  try {
    const out = execFileSync(
      path,
      ['-c', 'import sys,platform;sys.stdout.write("%d.%d.%d %s" % (sys.version_info[:3] + (platform.python_implementation(),)))'],
      {
        encoding: 'utf8',
        timeout: 15_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    ).trim();
    const [version, implementation] = out.split(' ');
    const [a, b] = (version as string).split('.').map(Number);
    return { path, version: version as string, mm: [a as number, b as number], implementation: implementation as string };
  } catch {
    return undefined;
  }
}

let cached: Interpreter[] | undefined;

function pyenvVersionDirs(): string[] {
  let root = process.env.PYENV_ROOT;
  if (!root) {
    try {
      root = execFileSync('pyenv', ['root'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return [];
    }
  }
  const versions = join(root, 'versions');
  return existsSync(versions) ? readdirSync(versions).map((v) => join(versions, v)) : [];
}

/**
 * CPython installations older than the worker supports (2.7, 3.6, 3.7...) as python-home values:
 * their top folder, one per minor version (pyenv's versions, /usr/bin/python2*).
 */
export function oldInterpreters(): (Interpreter & { home: string })[] {
  const found = new Map<string, Interpreter & { home: string }>();
  const candidates = pyenvVersionDirs().flatMap((d) => ['python', 'python3', 'python2'].map((n) => join(d, 'bin', n)));
  for (const p of candidates) {
    if (!existsSync(p)) continue;
    const i = probe(p);
    if (i?.implementation !== 'CPython' || (i.mm[0] === 3 && i.mm[1] >= 8)) continue;
    const key = `${i.mm[0]}.${i.mm[1]}`;
    if (!found.has(key)) found.set(key, { ...i, home: join(p, '..', '..') });
  }
  return [...found.values()];
}

/**
 * Every CPython 3.8+ on this machine, one per minor version: python3 on PATH, /usr/bin/python3.*,
 * and pyenv's versions. Never hard-coded; what the machine has decides.
 */
export function discoverInterpreters(): Interpreter[] {
  if (cached) return cached;
  const candidates = new Set<string>();
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && !dir.includes('shims') && existsSync(join(dir, 'python3'))) candidates.add(join(dir, 'python3'));
  }
  for (const dir of ['/usr/bin', '/usr/local/bin']) {
    try {
      for (const n of readdirSync(dir)) if (/^python3\.\d+$/.test(n)) candidates.add(join(dir, n));
    } catch {
      /* none */
    }
  }
  let pyenvRoot = process.env.PYENV_ROOT;
  if (!pyenvRoot) {
    try {
      pyenvRoot = execFileSync('pyenv', ['root'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      pyenvRoot = undefined;
    }
  }
  if (pyenvRoot && existsSync(join(pyenvRoot, 'versions'))) {
    for (const v of readdirSync(join(pyenvRoot, 'versions'))) {
      const p = join(pyenvRoot, 'versions', v, 'bin', 'python3');
      if (existsSync(p)) candidates.add(p);
    }
  }
  const seen = new Map<string, Interpreter>();
  const byReal = new Set<string>();
  for (const c of candidates) {
    let real: string;
    try {
      real = realpathSync(c);
    } catch {
      continue;
    }
    if (byReal.has(real)) continue;
    byReal.add(real);
    const i = probe(c);
    if (i?.implementation !== 'CPython' || i.mm[0] !== 3 || i.mm[1] < 8) continue;
    const key = `${i.mm[0]}.${i.mm[1]}`;
    if (!seen.has(key)) seen.set(key, i);
  }
  cached = [...seen.values()].sort((a, b) => a.mm[1] - b.mm[1]);
  return cached;
}

/** The machine's default python3 (the one on PATH, resolved). */
export function defaultPython(): Interpreter {
  const i = probe('python3');
  if (!i) throw new Error('no python3 on PATH');
  const real = execFileSync('python3', ['-c', 'import sys;print(sys.executable)'], { encoding: 'utf8' }).trim();
  return { ...i, path: real };
}

/** Debian's /usr/bin/python3, which sees Debian's python3-* packages, when it exists. */
export function systemPython(): Interpreter | undefined {
  return existsSync('/usr/bin/python3') ? probe('/usr/bin/python3') : undefined;
}

export interface VenvOptions {
  python?: string;
  systemSitePackages?: boolean;
}

/** A real virtual environment made with `python -m venv --without-pip`. */
export function makeVenv(dir: string, options: VenvOptions = {}): string {
  const args = ['-m', 'venv', '--without-pip'];
  if (options.systemSitePackages) args.push('--system-site-packages');
  execFileSync(options.python ?? defaultPython().path, [...args, dir], { timeout: 60_000, stdio: 'pipe' });
  return dir;
}

/** The venv's site-packages folder. */
export function sitePackages(venv: string): string {
  const out = execFileSync(join(venv, 'bin', 'python'), ['-c', 'import sysconfig;print(sysconfig.get_paths()["purelib"])'], {
    encoding: 'utf8',
    timeout: 15_000,
  }).trim();
  return out;
}

/** Puts a one-module package into a venv's site-packages only. */
export function installModule(venv: string, name: string, source: string): void {
  const dir = join(sitePackages(venv), name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '__init__.py'), source);
}
