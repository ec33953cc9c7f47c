/**
 * wsgi.file_wrapper offload: a worker offers one of its open descriptors (FILE frame) and the front
 * end sends that file to the client itself, without the bytes crossing the worker's connection.
 * This module opens the offered file, or says why not; the HTTP side sends what was opened
 * (src/http/file-send.ts, as it sends static files).
 *
 * The privilege rule: the front end never reads a file with more privilege than the worker that
 * named it. The worker names a descriptor NUMBER, never a path; the front end takes it only when
 * the worker itself holds it open for reading:
 *
 *   1. /proc/<worker pid>/fdinfo/<fd>: the access mode must allow reading (O_RDONLY or O_RDWR) and
 *      the descriptor must not be O_PATH (which a process may hold on files it cannot read).
 *   2. stat(/proc/<pid>/fd/<fd>) must be a regular file: FIFOs, sockets, devices and directories are
 *      never opened.
 *   3. open(/proc/<pid>/fd/<fd>, O_RDONLY | O_NONBLOCK | O_NOCTTY): nothing can block the open.
 *   4. fstat of what was opened must be a regular file, with the offered range inside it, and the
 *      same file (mount id and inode, from /proc/self/fdinfo) as the worker's descriptor, read again
 *      AFTER the open, and still readable, with the worker still alive: a dup2() of another file
 *      onto that number between the checks and the open is caught here.
 *
 * Anything else is refused (FILE_DONE 1) and the worker streams the file itself, with its own
 * rights. The pid is the one the front end spawned, never what the worker says.
 */
import { constants } from 'node:fs';
import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import type { FileOffer } from '../protocol/messages.js';

/** The worker the offer came from. */
export interface OfferingWorker {
  /** The pid of the process the front end started. */
  readonly pid: number | undefined;
  /** Whether that process is still running (not exited, so its pid was not reused). */
  readonly alive: boolean;
}

const O_PATH = 0o10000000;
const O_ACCMODE = 0o3;
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

interface FdInfo {
  flags: number;
  mntId: string;
  ino: string;
}

/** Whether this system lets the front end check an offered descriptor (Linux /proc). */
export const OFFLOAD_SUPPORTED = process.platform === 'linux';

async function fdInfo(pid: number | 'self', fd: number): Promise<FdInfo | string> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/fdinfo/${fd}`, 'latin1');
  } catch (err) {
    return `descriptor ${fd} is not open in the worker (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`;
  }
  const flags = /^flags:\s*([0-7]+)$/m.exec(text);
  const mnt = /^mnt_id:\s*(\d+)$/m.exec(text);
  const ino = /^ino:\s*(\d+)$/m.exec(text);
  if (flags === null || mnt === null || ino === null) return 'this kernel does not report mnt_id and ino in fdinfo (Linux 5.14+ does)';
  return { flags: parseInt(flags[1] as string, 8), mntId: mnt[1] as string, ino: ino[1] as string };
}

function unreadable(info: FdInfo, fd: number): string | undefined {
  if (info.flags & O_PATH) return `descriptor ${fd} is an O_PATH descriptor, which does not allow reading`;
  const mode = info.flags & O_ACCMODE;
  if (mode !== constants.O_RDONLY && mode !== constants.O_RDWR) return `descriptor ${fd} is not open for reading`;
  return undefined;
}

/** Opens the offered descriptor's file under the rule above: a handle, or why not. */
export async function openOffered(worker: OfferingWorker, offer: FileOffer): Promise<FileHandle | string> {
  if (!OFFLOAD_SUPPORTED) return 'file offload needs Linux /proc';
  const pid = worker.pid;
  if (pid === undefined || !worker.alive) return 'the worker is gone';
  const { fd } = offer;
  const link = `/proc/${pid}/fd/${fd}`;
  const before = await fdInfo(pid, fd);
  if (typeof before === 'string') return before;
  const refused = unreadable(before, fd);
  if (refused !== undefined) return refused;
  const target = await stat(link).catch((err: NodeJS.ErrnoException) => err.code ?? 'error');
  if (typeof target === 'string') return `descriptor ${fd} cannot be examined (${target})`;
  if (!target.isFile()) return `descriptor ${fd} is not a regular file`;
  let handle: FileHandle;
  try {
    handle = await open(link, OPEN_FLAGS);
  } catch (err) {
    return `descriptor ${fd} cannot be opened (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  try {
    const st = await handle.stat();
    const ours = await fdInfo('self', handle.fd);
    const after = await fdInfo(pid, fd);
    let why: string | undefined;
    if (!st.isFile()) why = `descriptor ${fd} is not a regular file`;
    else if (offer.offset + offer.length > st.size) why = `the range ${offer.offset}+${offer.length} is past the end of the file (${st.size} bytes)`;
    else if (typeof ours === 'string') why = ours;
    else if (typeof after === 'string') why = after;
    else if (after.mntId !== ours.mntId || after.ino !== ours.ino) why = `descriptor ${fd} changed while it was opened`;
    else why = unreadable(after, fd);
    if (why === undefined && !worker.alive) why = 'the worker is gone';
    if (why === undefined) return handle;
    await handle.close();
    return why;
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}
