import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The front end's private folder (mode 0700) for the unix sockets its workers listen on. A worker
 * of another user gets its socket bound there by the root-owned launcher; only where Node itself
 * switches ids (no such launcher) does the worker get a subfolder of its own to bind in. Removed on exit;
 * folders left by front ends that were killed are removed at start.
 */
let dir: string | undefined;
let counter = 0;

export function workerSocketPath(uid?: number, gid?: number): string {
  if (dir === undefined) {
    removeStale();
    dir = mkdtempSync(join(tmpdir(), `wsgi-host-${process.pid}-`));
    process.once('exit', () => rmSync(dir as string, { recursive: true, force: true }));
  }
  const n = counter++;
  if (uid === undefined || uid === process.getuid?.()) return join(dir, `w${n}.sock`);
  // A worker running as another user needs a folder of its own to listen in.
  // The front end's folder must then be searchable (not listable) by that user: 0711.
  chmodSync(dir, 0o711);
  const own = join(dir, `u${n}`);
  mkdirSync(own, { mode: 0o700 });
  chownSync(own, uid, gid ?? -1);
  return join(own, 'w.sock');
}

function removeStale(): void {
  let names: string[] = [];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^wsgi-host-(\d+)-/.exec(name);
    if (m === null) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}
