import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { AdminError, AdminErrorCode as A } from './admin-errors.js';

/**
 * Where admin sockets live, and whether a folder or socket can be trusted with them.
 *
 * The automatic admin socket is never put straight into the shared temporary folder: another
 * local user could create it first and receive the token of `wsgi-host reload`. It goes into a
 * private folder of the user: /run/wsgi-host as root, $XDG_RUNTIME_DIR/wsgi-host otherwise, or
 * else a folder of the user's own in the temporary folder (wsgi-host-admin-UID, mode 0700). Both
 * the server and the commands that connect check the folder and the socket: a directory (not a
 * link) owned by the user (or root), that nobody else can write to, and a socket owned by the user
 * (or root). Anything else is refused with what is wrong, before a token is sent.
 */

export function currentUid(): number {
  return process.geteuid?.() ?? process.getuid?.() ?? -1;
}

/** The owners a socket may have: the user, and root (who can do anything anyway). */
export function trustedOwner(uid: number, me: number): boolean {
  return uid === me || uid === 0;
}

/** 'uid 65534 (nobody)'. */
export function describeUser(uid: number): string {
  try {
    const row = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((r) => r[2] === String(uid));
    if (row?.[0]) return `uid ${uid} (${row[0]})`;
  } catch {
    /* no passwd file */
  }
  return `uid ${uid}`;
}

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8)}`;

/**
 * The folders an automatic admin socket may be in, the one `serve` uses first. A client looks in
 * each (a server started from cron has no XDG_RUNTIME_DIR, a login shell has one).
 */
export function runtimeFolders(me = currentUid(), env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (me === 0) {
    // Root always uses /run/wsgi-host: a login shell's XDG_RUNTIME_DIR (/run/user/0) would differ from a service's.
    if (existsSync('/run')) out.push('/run/wsgi-host');
  } else {
    const xdg = env.XDG_RUNTIME_DIR;
    if (xdg && isAbsolute(xdg) && folderProblem(xdg, me) === undefined) out.push(join(xdg, 'wsgi-host'));
  }
  out.push(join(tmpdir(), `wsgi-host-admin-${me}`));
  return out;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AdminError(A.DIR_UNTRUSTED, `${path} cannot be examined (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      cause: err,
      hint: 'Check the permissions of its folders',
    });
  }
}

/**
 * Why a folder cannot be trusted to hold an admin socket (undefined: it can). It must be a
 * directory, not a link, owned by the user or root, and not writable by others unless sticky
 * (like /tmp, where only a file's owner may remove or rename it).
 */
export function folderProblem(path: string, me = currentUid(), options: { allowSticky?: boolean } = {}): string | undefined {
  const st = lstatOrUndefined(path);
  if (st === undefined) return `${path} does not exist`;
  if (st.isSymbolicLink()) return `${path} is a symbolic link, not a folder of its own`;
  if (!st.isDirectory()) return `${path} is not a folder`;
  if (!trustedOwner(st.uid, me)) return `${path} belongs to ${describeUser(st.uid)}, not to ${describeUser(me)}${me === 0 ? '' : ' or root'}`;
  const sticky = (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o022) !== 0 && !(options.allowSticky && sticky)) return `${path} can be written by other users (mode ${octal(st.mode)})`;
  return undefined;
}

/** Why a path cannot be trusted as a wsgi-host admin socket, 'missing' when there is none. */
export function socketProblem(path: string, me = currentUid()): string | 'missing' | undefined {
  const st = lstatOrUndefined(path);
  if (st === undefined) return 'missing';
  if (st.isSymbolicLink()) return `${path} is a symbolic link, not a socket`;
  if (!st.isSocket()) return `${path} is not a socket (it is a ${st.isDirectory() ? 'folder' : st.isFile() ? 'file' : 'special file'})`;
  if (!trustedOwner(st.uid, me)) return `${path} belongs to ${describeUser(st.uid)}, not to ${describeUser(me)}${me === 0 ? '' : ' or root'}`;
  return undefined;
}

const SQUAT_HINT =
  'Another user may have created it to take over the admin listener (and receive its token). Find out who made it and remove it ' +
  '(it needs root when it is not yours), or choose the admin listener yourself: --admin PATH (admin.listen) in a folder only you can write to';

export function untrustedFolder(problem: string): AdminError {
  return new AdminError(A.DIR_UNTRUSTED, `the admin socket's folder cannot be trusted: ${problem}`, { hint: SQUAT_HINT });
}

export function untrustedSocket(problem: string): AdminError {
  return new AdminError(A.SOCKET_UNTRUSTED, `the admin socket cannot be trusted: ${problem}`, { hint: SQUAT_HINT });
}

/**
 * Checks a socket path and its folder before connecting to it or replacing it. Returns false when
 * there is no socket; throws when what is there cannot be trusted.
 */
export function checkSocketPath(path: string, me = currentUid()): boolean {
  if (!existsSync(dirname(path))) return false;
  const folder = folderProblem(dirname(path), me, { allowSticky: true });
  if (folder !== undefined) throw untrustedFolder(folder);
  const problem = socketProblem(path, me);
  if (problem === 'missing') return false;
  if (problem !== undefined) throw untrustedSocket(problem);
  return true;
}

/** `serve`: the private folder for automatic admin sockets, made (0700) when missing, and checked. */
export function ensureRuntimeFolder(me = currentUid(), env: NodeJS.ProcessEnv = process.env): string {
  const folder = runtimeFolders(me, env)[0] as string;
  try {
    mkdirSync(folder, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new AdminError(A.DIR_FAILED, `cannot make the admin socket's folder ${folder} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
        cause: err,
        hint: 'Check the permissions of its parent, or choose the admin listener yourself: --admin PATH or HOST:PORT (admin.listen)',
      });
    }
  }
  const problem = folderProblem(folder, me);
  if (problem !== undefined) throw untrustedFolder(problem);
  const st = lstatSync(folder);
  if (st.uid === me && (st.mode & 0o077) !== 0) chmodSync(folder, 0o700);
  return folder;
}
