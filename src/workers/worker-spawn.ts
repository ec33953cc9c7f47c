/**
 * Starting a worker process: the group's interpreter (through a root-owned launcher that switches
 * user when the group has user=), the worker program sent on its stdin, the environment it gets,
 * where its connection will be, and its stdout and stderr as log lines.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { identityEnvironment, launchFailure, planLaunch, type RunAs } from '../python/worker-launch.js';
import { workerArgs, workerEnvironment, workerProgram } from '../python/worker-program.js';
import { workerSocketPath } from './runtime-dir.js';
import { runAsForIds } from './user-ids.js';

/** The longest line of a worker's stdout or stderr kept whole (longer ones are logged in parts). */
const MAX_LINE = 64 * 1024;

export interface SpawnedWorker {
  child: ChildProcess;
  /**
   * On Linux, the unix socket the worker listens on (in the front end's private folder, bound by
   * the worker or its launcher; it accepts only its parent); elsewhere undefined, and file descriptor 3 is a socketpair made at spawn.
   */
  socketName: string | undefined;
  /** What the launcher said about the user switch, to log. */
  note: string | undefined;
}

export function spawnWorker(spec: { interpreter: string; cwd: string; env: Record<string, string>; uid?: number; gid?: number }): SpawnedWorker {
  // user=: a root-owned launcher switches user (with initgroups) before the group's interpreter
  // runs; the worker program itself arrives on stdin, so that user needs no access to our files.
  const runAs: RunAs | undefined = spec.uid !== undefined ? runAsForIds(spec.uid, spec.gid) : undefined;
  const launch = planLaunch(spec.interpreter, workerArgs(), runAs);
  // The socket is in the front end's own folder, bound by the worker or, for another user, by the
  // launcher while still root. Only where Node itself switches ids (no root-owned launcher) does
  // the worker bind it, as that user, in a folder of that user's.
  const socketName = process.platform !== 'linux' ? undefined : launch.uid !== undefined ? workerSocketPath(launch.uid, launch.gid) : workerSocketPath();
  const env = workerEnvironment(process.env, {
    ...identityEnvironment(runAs),
    ...spec.env,
    WSGI_HOST_WATCH_STDIN: '1',
    ...(socketName !== undefined ? { WSGI_HOST_SOCKET: socketName } : {}),
  });
  // Only the launcher names a descriptor for the worker to listen on: never the configuration's
  // env or this process's environment.
  delete env.WSGI_HOST_SOCKET_FD;
  const child = spawn(launch.command, launch.args, {
    cwd: spec.cwd,
    env,
    stdio: socketName !== undefined ? ['pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe', 'pipe'],
    ...(launch.uid !== undefined ? { uid: launch.uid } : {}),
    ...(launch.gid !== undefined ? { gid: launch.gid } : {}),
  });
  child.stdin?.write(workerProgram());
  child.stdin?.on('error', () => {});
  return { child, socketName, note: launch.note };
}

/**
 * A worker's stdout or stderr, line by line, to `line`; a line the launcher writes about a failed
 * user switch goes to `launchFailed`. A line without end is passed on in parts: the worker's output
 * never grows the front end's memory.
 */
export function captureLines(stream: NodeJS.ReadableStream | null, line: (text: string) => void, launchFailed: (why: string) => void): void {
  if (stream === null) return;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    const lines = (rest + text).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) {
      const failed = launchFailure(l);
      if (failed !== undefined) launchFailed(`${failed.code}: ${failed.message}`);
      else line(l);
    }
    if (rest.length > MAX_LINE) {
      line(rest);
      rest = '';
    }
  });
  stream.on('end', () => {
    if (rest) line(rest);
  });
}
