import { realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** The user a group's processes run as (user= and group=, applied by a root front end). */
export interface RunAs {
  uid: number;
  gid: number;
  /** The user's name, for initgroups(3) (its supplementary groups); undefined: no passwd entry. */
  name: string | undefined;
  /** The user's home directory (passwd), for HOME. */
  home: string | undefined;
}

/** How to start a Python process: the program, its arguments, and the ids Node should switch to. */
export interface LaunchPlan {
  command: string;
  args: string[];
  /** Set only when no trusted launcher exists: Node then switches ids, without supplementary groups. */
  uid?: number;
  gid?: number;
  /** Something the log should say once (the fallback above). */
  note?: string;
}

/** The line a launcher writes before it gives up: "@@wsgi-host-launch@@ EACCES message". */
export const LAUNCH_MARKER = '@@wsgi-host-launch@@';
/** The launcher's exit status when it could not switch user or run the interpreter. */
export const LAUNCH_FAILED_STATUS = 127;

/**
 * Runs as root in a trusted interpreter (-E -s -S -B: no PYTHON* variables, no site, no .pth, no
 * bytecode written; '' removed from sys.path before any import), binds and listens on the worker's
 * unix socket (WSGI_HOST_SOCKET, in the front end's root-only folder) and hands the descriptor on
 * in WSGI_HOST_SOCKET_FD, switches to the group's user as mod_wsgi does (setgid, initgroups, setuid), keeps the PATH entries that user can search, enters
 * the working directory as that user, then execs the group's interpreter. Nothing of the
 * application or its environment (its venv, .pth files, sitecustomize) runs before the switch.
 */
const LAUNCHER = [
  'import sys',
  'sys.path[:] = [p for p in sys.path if p]',
  'import os, errno',
  'def fail(e, what):',
  "    code = errno.errorcode.get(getattr(e, 'errno', None) or errno.EPERM, 'EPERM')",
  `    os.write(2, ('${LAUNCH_MARKER} %s %s: %s\\n' % (code, what, getattr(e, 'strerror', None) or e)).encode('utf-8', 'replace'))`,
  `    os._exit(${LAUNCH_FAILED_STATUS})`,
  'uid, gid, name, target = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]',
  'who = name or str(uid)',
  // The worker's socket, bound here as root in the front end's own folder: the user's code gets the
  // listening descriptor, never a folder where it could put another socket in its place.
  "path = os.environ.pop('WSGI_HOST_SOCKET', '')",
  'if path:',
  '    import socket',
  '    try:',
  '        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
  '        s.bind(path)',
  '        s.listen(64)',
  '    except OSError as e:',
  "        fail(e, 'cannot listen on %s' % path)",
  '    s.set_inheritable(True)',
  "    os.environ['WSGI_HOST_SOCKET_FD'] = str(s.detach())",
  'try:',
  '    os.setgid(gid)',
  '    if name:',
  '        os.initgroups(name, gid)',
  '    else:',
  '        os.setgroups([gid])',
  '    os.setuid(uid)',
  'except OSError as e:',
  "    fail(e, 'cannot switch to user %s' % who)",
  'if uid != 0 and 0 in (os.getuid(), os.geteuid()):',
  "    fail(OSError(errno.EPERM, 'still root'), 'cannot switch to user %s' % who)",
  'cwd = os.getcwd()',
  'try:',
  '    os.chdir(cwd)',
  'except OSError as e:',
  "    fail(e, 'user %s cannot enter the working directory %s' % (who, cwd))",
  "os.environ['PATH'] = os.pathsep.join([d for d in os.environ.get('PATH', '').split(os.pathsep) if d and os.access(d, os.X_OK)])",
  'try:',
  '    os.execve(target, [target] + sys.argv[5:], os.environ)',
  'except OSError as e:',
  "    fail(e, 'user %s cannot run %s' % (who, target))",
].join('\n');

const trusted = new Map<string, boolean>();
const warned = new Set<string>();

/**
 * Whether root may run this file without running code another user controls: the file and every
 * folder above it belong to root and are writable by no one else.
 */
export function rootOwned(path: string): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return false;
  }
  const known = trusted.get(real);
  if (known !== undefined) return known;
  let ok = true;
  for (let p = real; ; p = dirname(p)) {
    try {
      const st = statSync(p);
      if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
        ok = false;
        break;
      }
    } catch {
      ok = false;
      break;
    }
    if (p === dirname(p)) break;
  }
  trusted.set(real, ok);
  return ok;
}

const SYSTEM_PYTHONS = ['/usr/bin/python3', '/usr/local/bin/python3', '/bin/python3'];

/**
 * Whether every group that switches user gets the launcher (a root-owned system Python exists),
 * whatever its own interpreter: then each worker's socket is bound by root in the front end's
 * folder. Otherwise a group may fall back to Node switching ids, and its worker binds its socket
 * in a folder of its own.
 */
export function launcherForEveryInterpreter(): boolean {
  return SYSTEM_PYTHONS.some((p) => rootOwned(p));
}

/** A root-owned Python to run the launcher: the group's own interpreter's real file, else the system's. */
export function launcherInterpreter(interpreter: string): string | undefined {
  let real: string | undefined;
  try {
    real = realpathSync(interpreter);
  } catch {
    real = undefined;
  }
  for (const candidate of [real, ...SYSTEM_PYTHONS]) {
    if (candidate !== undefined && rootOwned(candidate)) return realpathSync(candidate);
  }
  return undefined;
}

/**
 * How to start `interpreter args` as runAs. Without runAs (or when this process is not root, or
 * runAs is this process's own ids) the interpreter is started directly.
 */
export function planLaunch(interpreter: string, args: string[], runAs: RunAs | undefined): LaunchPlan {
  if (runAs === undefined || process.getuid?.() !== 0 || (runAs.uid === 0 && runAs.gid === process.getgid?.())) {
    return { command: interpreter, args };
  }
  const launcher = launcherInterpreter(interpreter);
  if (launcher === undefined) {
    const key = interpreter;
    const note = warned.has(key)
      ? undefined
      : `no root-owned Python to switch users with (neither ${interpreter}'s real file nor /usr/bin/python3 belongs to root): ` +
        `the processes run as uid ${runAs.uid} without their supplementary groups`;
    warned.add(key);
    return { command: interpreter, args, uid: runAs.uid, gid: runAs.gid, ...(note ? { note } : {}) };
  }
  return {
    command: launcher,
    args: ['-E', '-s', '-S', '-B', '-c', LAUNCHER, String(runAs.uid), String(runAs.gid), runAs.name ?? '', interpreter, ...args],
  };
}

/** The variables a process of runAs gets, as mod_wsgi sets them: HOME, USER and LOGNAME. */
export function identityEnvironment(runAs: RunAs | undefined): Record<string, string> {
  if (runAs === undefined || process.getuid?.() !== 0) return {};
  const env: Record<string, string> = {};
  if (runAs.home !== undefined) env.HOME = runAs.home;
  if (runAs.name !== undefined) {
    env.USER = runAs.name;
    env.LOGNAME = runAs.name;
  }
  return env;
}

/** A launcher's failure line: its errno name and message; undefined for any other line. */
export function launchFailure(line: string): { code: string; message: string } | undefined {
  if (!line.startsWith(LAUNCH_MARKER)) return undefined;
  const rest = line.slice(LAUNCH_MARKER.length).trim();
  const sp = rest.indexOf(' ');
  return sp < 0 ? { code: rest, message: rest } : { code: rest.slice(0, sp), message: rest.slice(sp + 1) };
}
