import { execFile } from 'node:child_process';
import { PythonEnvironmentError, PythonErrorCode as E } from './errors.js';
import { workerArgs, workerEnvironment } from './worker-program.js';

export interface PythonInfo {
  executable: string;
  version: string;
  implementation: string;
  prefix: string;
  base_prefix: string;
  path: string[];
  site_packages: string[];
}

export interface AppSpec {
  kind: 'script' | 'module';
  target: string;
  callable: string;
}

export interface AppProbe {
  target: string;
  ok: boolean;
  error?: string;
  traceback?: string;
}

export interface ProbeResult {
  python: PythonInfo;
  apps: AppProbe[];
  pythonPathError?: string;
}

export interface ProbeOptions {
  pythonPath?: string[];
  apps?: AppSpec[];
  addWorkingDirectory?: boolean;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  uid?: number;
  gid?: number;
}

const MARKER = '@@wsgi-host-probe@@';

/** Runs the interpreter once (the worker program in probe mode) and reports what it sees. */
export function probeInterpreter(interpreter: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const spec = JSON.stringify({
    pythonPath: options.pythonPath ?? [],
    apps: options.apps ?? [],
    addWorkingDirectory: options.addWorkingDirectory ?? false,
  });
  return new Promise((resolve, reject) => {
    execFile(
      interpreter,
      workerArgs(['probe', spec]),
      {
        cwd: options.cwd,
        env: workerEnvironment(process.env, options.env ?? {}),
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
        ...(options.uid !== undefined ? { uid: options.uid } : {}),
        ...(options.gid !== undefined ? { gid: options.gid } : {}),
      },
      (err, stdout, stderr) => {
        const at = stdout.lastIndexOf(MARKER);
        if (at >= 0) {
          try {
            resolve(JSON.parse(stdout.slice(at + MARKER.length)) as ProbeResult);
            return;
          } catch {
            /* fall through */
          }
        }
        const why = err ? err.message.split('\n')[0] : 'it printed no report';
        reject(
          new PythonEnvironmentError(
            E.PROBE_FAILED,
            `could not run the Python interpreter ${interpreter}: ${why}` +
              (stderr.trim() ? `\n${indent(stderr.trim())}` : ''),
            { cause: err ?? undefined, hint: 'Check that the interpreter starts: run it with --version' },
          ),
        );
      },
    );
  });
}

export function indent(text: string, by = '    '): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

export function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = version.split('.').map(Number);
  return (a ?? 0) > major || ((a ?? 0) === major && (b ?? 0) >= minor);
}
