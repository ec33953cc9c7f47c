import { existsSync, readFileSync } from 'node:fs';
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

export const WORKER_PROGRAM = join(packageRoot(), 'worker', 'wsgi_host_worker', 'wsgi.py');

/** The oldest Python the worker program runs on (older ones are reported by version). */
export const MIN_PYTHON: [number, number] = [3, 8];

/** What an interpreter too old for the worker prints, so the probe can name its version. */
export const PROBE_MARKER = '@@wsgi-host-probe@@';

let program: Buffer | undefined;

/**
 * The worker program as the front end sends it on the process's stdin: "<length>\n<source>". The
 * front end reads it (once); the worker never opens our install folder, so a group's user= needs
 * no access to it (a clone under /root, mode 0700, works).
 */
export function workerProgram(): Buffer {
  if (program === undefined) {
    const source = readFileSync(WORKER_PROGRAM);
    program = Buffer.concat([Buffer.from(`${source.length}\n`), source]);
  }
  return program;
}

/**
 * `python -c BOOT <label> ...`: reads the program from stdin and runs it as __main__, named by
 * <label> (our file's path, for tracebacks). -c would put '' (the current directory) first on
 * sys.path; the bootstrap removes it, as mod_wsgi never has it. An interpreter older than
 * MIN_PYTHON reads nothing and prints what the probe needs to name its version (this code runs on
 * Python 2.7 too), then exits with status 3.
 */
const BOOT = [
  'import sys',
  "if sys.path and sys.path[0] == '': del sys.path[0]",
  'import os',
  '_wsgi_host_args = sys.argv[2:]',
  '__file__ = sys.argv[1]',
  "sys.argv[:] = ['wsgi-host']",
  `if sys.version_info[:2] < (${MIN_PYTHON.join(', ')}):`,
  '    import json, platform',
  "    sys.stdout.write('\\n' + " +
    `'${PROBE_MARKER}'` +
    " + json.dumps({'python': {'executable': sys.executable, 'version': '%d.%d.%d' % tuple(sys.version_info[:3]), " +
    "'implementation': platform.python_implementation().lower(), 'prefix': sys.prefix, " +
    "'base_prefix': getattr(sys, 'base_prefix', sys.prefix), 'path': sys.path, 'site_packages': []}, 'apps': []}) + '\\n')",
  '    sys.stdout.flush()',
  '    os._exit(3)',
  'def _wsgi_host_read():',
  "    head = b''",
  "    while not head.endswith(b'\\n'):",
  '        c = os.read(0, 1)',
  '        if not c or len(head) > 20:',
  "            sys.stderr.write('wsgi-host worker: no program on stdin; this program is started by wsgi-host, not by hand\\n')",
  '            os._exit(2)',
  '        head += c',
  '    n = int(head)',
  '    parts = []',
  '    while n > 0:',
  '        c = os.read(0, min(n, 65536))',
  '        if not c:',
  "            sys.stderr.write('wsgi-host worker: the program on stdin was cut short\\n')",
  '            os._exit(2)',
  '        parts.append(c)',
  '        n -= len(c)',
  "    return b''.join(parts)",
  "exec(compile(_wsgi_host_read(), __file__, 'exec'))",
].join('\n');

/** Arguments for the interpreter: run the worker program (sent on stdin) with these arguments. */
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
