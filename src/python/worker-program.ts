import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's top folder (the one holding package.json). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'worker'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('wsgi-host: cannot find its own package folder');
    dir = up;
  }
}

export const WORKER_PROGRAM = join(packageRoot(), 'worker', 'wsgi_host_worker.py');

/**
 * Run the worker program without putting its folder on sys.path: `python -c BOOT <worker> ...`.
 * -c would put '' (the current directory) first on sys.path; the bootstrap removes it, as mod_wsgi
 * never has it. Works on every Python the probe may meet, so old ones can be reported by version.
 */
const BOOT = [
  'import sys',
  "if sys.path and sys.path[0] == '': del sys.path[0]",
  '_wsgi_host_args = sys.argv[2:]',
  '__file__ = sys.argv[1]',
  "sys.argv[:] = ['wsgi-host']",
  "exec(compile(open(__file__, 'rb').read(), __file__, 'exec'))",
].join('\n');

export function workerArgs(extra: readonly string[] = []): string[] {
  return ['-c', BOOT, WORKER_PROGRAM, ...extra];
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
