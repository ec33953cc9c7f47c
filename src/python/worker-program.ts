import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-info.js';

/** The worker package's folder: its modules are sent to the process, never read by it. */
export const WORKER_PACKAGE = join(packageRoot(), 'worker', 'wsgi_host_worker');
/** The boot the interpreter runs with -c (shared with the worker's own tests). */
export const WORKER_BOOT = join(packageRoot(), 'worker', 'boot.py');

/** The oldest Python the worker program runs on (older ones are reported by version). */
export const MIN_PYTHON: [number, number] = [3, 8];

/** What an interpreter too old for the worker prints, so the probe can name its version. */
export const PROBE_MARKER = '@@wsgi-host-probe@@';

let program: Buffer | undefined;
let boot: string | undefined;

/**
 * The worker package as the front end sends it on the process's stdin: "<length>\n" then JSON
 * {module name: source} of every module in WORKER_PACKAGE. The front end reads it (once); the
 * worker never opens our install folder, so a group's user= needs no access to it (a clone under
 * /root, mode 0700, works).
 */
export function workerProgram(): Buffer {
  if (program === undefined) {
    const sources: Record<string, string> = {};
    for (const name of readdirSync(WORKER_PACKAGE).sort()) {
      if (name.endsWith('.py')) sources[name.slice(0, -3)] = readFileSync(join(WORKER_PACKAGE, name), 'utf8');
    }
    const json = Buffer.from(JSON.stringify(sources));
    program = Buffer.concat([Buffer.from(`${json.length}\n`), json]);
  }
  return program;
}

/**
 * `python -c BOOT <package folder> ...` (worker/boot.py): reads the package from stdin, creates
 * it under the private name _wsgi_host_worker (never on sys.path; its modules' __file__ are their
 * real paths, for tracebacks) and runs its main(). -c would put '' (the current directory) first
 * on sys.path; the boot removes it, as mod_wsgi never has it. An interpreter older than MIN_PYTHON
 * reads nothing and prints what the probe needs to name its version (the boot is valid Python 2.7
 * too), then exits with status 3.
 */
export function workerArgs(extra: readonly string[] = []): string[] {
  boot ??= readFileSync(WORKER_BOOT, 'utf8');
  return ['-c', boot, WORKER_PACKAGE, ...extra];
}

/** The environment for a worker: the front end's, without what would redirect the interpreter. */
export function workerEnvironment(base: NodeJS.ProcessEnv, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  delete env.PYTHONHOME; // would override python-home, exactly the silent misconfiguration we refuse
  delete env.PYTHONEXECUTABLE;
  delete env.__PYVENV_LAUNCHER__;
  for (const [k, v] of Object.entries(extra)) env[k] = v;
  return env;
}
