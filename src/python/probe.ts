import { execFile } from 'node:child_process';
import type { MissingModule, PythonInfo } from '../protocol/messages.js';
import { PythonEnvironmentError, PythonErrorCode as E } from './errors.js';
import { identityEnvironment, launchFailure, planLaunch, type RunAs } from './worker-launch.js';
import { PROBE_MARKER, workerArgs, workerEnvironment, workerProgram } from './worker-program.js';

export type { MissingModule, PythonInfo } from '../protocol/messages.js';

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
  missing?: MissingModule;
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
  /** Probe as this user (a group's user=, when running as root): nothing runs as root first. */
  runAs?: RunAs;
  /** The group, for messages ('web'). */
  label?: string;
}

const MARKER = PROBE_MARKER;

/** Runs the interpreter once (the worker program in probe mode) and reports what it sees. */
export function probeInterpreter(interpreter: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const spec = JSON.stringify({
    pythonPath: options.pythonPath ?? [],
    apps: options.apps ?? [],
    addWorkingDirectory: options.addWorkingDirectory ?? false,
  });
  const launch = planLaunch(interpreter, workerArgs(['probe', spec]), options.runAs);
  return new Promise((resolve, reject) => {
    const child = execFile(
      launch.command,
      launch.args,
      {
        cwd: options.cwd,
        env: workerEnvironment(process.env, { ...identityEnvironment(options.runAs), ...(options.env ?? {}) }),
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
        ...(launch.uid !== undefined ? { uid: launch.uid } : {}),
        ...(launch.gid !== undefined ? { gid: launch.gid } : {}),
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
        const failed = stderr
          .split('\n')
          .map(launchFailure)
          .find((f) => f !== undefined);
        const spawnCode = (err as NodeJS.ErrnoException | null)?.code;
        if (failed !== undefined || typeof spawnCode === 'string') {
          const code = failed?.code ?? (spawnCode as string);
          const who = options.runAs?.name ?? (options.runAs ? `uid ${options.runAs.uid}` : 'this user');
          reject(
            new PythonEnvironmentError(
              E.NOT_RUNNABLE,
              `the Python interpreter ${interpreter}${options.label ? ` of group ${options.label}` : ''} could not be started (${code}): ` +
                `${failed?.message ?? (err as Error).message}`,
              {
                cause: err ?? undefined,
                hint: `Make the environment (and the Python it was made from) readable and its folders searchable by ${who}, or make the venv from a system-wide Python`,
              },
            ),
          );
          return;
        }
        const why = err ? err.message.split('\n')[0] : 'it printed no report';
        reject(
          new PythonEnvironmentError(
            E.PROBE_FAILED,
            `could not run the Python interpreter ${interpreter}: ${why}` + (stderr.trim() ? `\n${indent(stderr.trim())}` : ''),
            { cause: err ?? undefined, hint: 'Check that the interpreter starts: run it with --version' },
          ),
        );
      },
    );
    child.stdin?.on('error', () => {});
    child.stdin?.end(workerProgram());
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
