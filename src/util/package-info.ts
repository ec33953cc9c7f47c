import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's top folder (the one holding package.json and the worker). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'worker'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('wsgi-host: cannot find its own package folder');
    dir = up;
  }
}

let version: string | undefined;

/** wsgi-host's version, from its package.json (read once). */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
