import { accessSync, chmodSync, constants, cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './wsgi-host.js';

let copy: string | undefined;

/**
 * The path of the wsgi-host command line that another user (nobody) can run. The checkout itself
 * when every folder on its path is searchable by others; otherwise (a clone under /root, mode 0700,
 * as on a fresh machine) a world-readable copy of the built package made once per test process:
 * package.json, dist/src, worker, status-page and node_modules, removed when the test process exits.
 */
export function cliForOtherUsers(): string {
  if (searchableByOthers(ROOT)) return join(ROOT, 'dist', 'src', 'cli', 'main.js');
  if (copy === undefined) {
    const base = mkdtempSync(join(tmpdir(), 'wsgi-host-package-'));
    chmodSync(base, 0o755);
    for (const part of ['package.json', 'dist/src', 'worker', 'status-page', 'node_modules']) {
      cpSync(join(ROOT, part), join(base, part), { recursive: true });
    }
    openUp(base);
    copy = base;
    process.once('exit', () => rmSync(base, { recursive: true, force: true }));
  }
  return join(copy, 'dist', 'src', 'cli', 'main.js');
}

function searchableByOthers(dir: string): boolean {
  for (let d = dir; ; d = join(d, '..')) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === '/') return true;
  }
}

/** Folders 0755, files readable by all (cpSync keeps the modes of the checkout). */
function openUp(dir: string): void {
  chmodSync(dir, 0o755);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) openUp(p);
    else if (e.isFile()) {
      try {
        accessSync(p, constants.R_OK);
        chmodSync(p, statSync(p).mode | 0o444);
      } catch {
        /* not ours to open */
      }
    }
  }
}
