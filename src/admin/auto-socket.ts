import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pingSocket } from './admin-client.js';
import { AdminError, AdminErrorCode as A } from './admin-errors.js';
import { checkSocketPath, currentUid, ensureRuntimeFolder, folderProblem, runtimeFolders, untrustedFolder } from './runtime-folder.js';

/**
 * The automatic admin socket ('auto'), named after the configuration so that `wsgi-host reload`
 * and `status` find the server that serves it, in the user's private runtime folder.
 *
 * `identity` is the configuration itself (its file's real path, or the flags' listen address).
 * `variant` is set when --host/--port moved a file's listeners elsewhere: that server gets a
 * socket of its own (so the same file can be served twice on different ports), and a client
 * that gives no --host/--port finds it when it is the only one.
 */
export interface AutoSocketName {
  identity: string;
  variant?: string | undefined;
}

const hex = (s: string, n: number): string => createHash('sha256').update(s).digest('hex').slice(0, n);

export function autoSocketFile(name: AutoSocketName): string {
  const base = hex(name.identity, 16);
  return name.variant === undefined ? `${base}.sock` : `${base}-${hex(name.variant, 8)}.sock`;
}

/** `serve`: where its automatic admin socket goes (the private folder is made when missing). */
export function autoSocketForServe(name: AutoSocketName): string {
  return join(ensureRuntimeFolder(), autoSocketFile(name));
}

const NOT_RUNNING_HINT =
  'Is the server running with this configuration? Start it with wsgi-host serve. A server started with --host/--port is found with ' +
  'the same --host/--port; one started with --admin, with the same --admin';

/**
 * Clients: the automatic admin socket of the server that serves this configuration. Every runtime
 * folder and socket is checked before it is used; nothing is sent to one that cannot be trusted.
 */
export async function findAutoSocket(name: AutoSocketName, label: string): Promise<string> {
  const me = currentUid();
  const folders = runtimeFolders(me);
  const file = autoSocketFile(name);
  const usable: string[] = [];
  const ignored: string[] = [];
  for (const [i, folder] of folders.entries()) {
    if (!existsSync(folder)) continue;
    const problem = folderProblem(folder, me);
    if (problem !== undefined) {
      // The folder `serve` would use must be sound; another one that is not is only noted.
      if (i === 0) throw untrustedFolder(problem);
      ignored.push(problem);
      continue;
    }
    usable.push(folder);
    const path = join(folder, file);
    if (checkSocketPath(path, me)) return path;
  }
  if (name.variant === undefined) {
    const base = file.slice(0, -'.sock'.length);
    const pattern = new RegExp(`^${base}-[0-9a-f]{8}\\.sock$`);
    const live: string[] = [];
    for (const folder of usable) {
      for (const entry of readdirSync(folder)
        .filter((n) => pattern.test(n))
        .sort()) {
        const path = join(folder, entry);
        if (checkSocketPath(path, me) && (await pingSocket(path))) live.push(path);
      }
    }
    if (live.length === 1) return live[0] as string;
    if (live.length > 1) {
      throw new AdminError(A.AMBIGUOUS, `${live.length} servers serve ${label}, on different addresses (admin sockets ${live.join(', ')})`, {
        hint: 'Add the --host/--port that the one you mean was started with, or give the admin socket path with --admin PATH',
      });
    }
  }
  throw new AdminError(
    A.NOT_RUNNING,
    `no wsgi-host serves ${label}: there is no admin socket ${join(folders[0] as string, file)}${ignored.length ? ` (ignored: ${ignored.join('; ')})` : ''}`,
    { hint: NOT_RUNNING_HINT },
  );
}
