import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseListen } from '../config/schema.js';

export type AdminAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number } | { kind: 'off' };

/** Where the admin listener of a configuration is: 'auto' names a socket after the configuration. */
export function adminAddress(listen: string, identity: string): AdminAddress {
  if (listen === 'off') return { kind: 'off' };
  if (listen === 'auto') {
    const hash = createHash('sha256').update(identity).digest('hex').slice(0, 16);
    return { kind: 'unix', path: join(tmpdir(), `wsgi-host-${hash}.sock`) };
  }
  if (listen.includes('/')) return { kind: 'unix', path: listen };
  const hp = parseListen(listen);
  if (typeof hp === 'string') return { kind: 'unix', path: listen };
  return { kind: 'tcp', host: hp.host, port: hp.port };
}

export function describeAdmin(a: AdminAddress): string {
  if (a.kind === 'unix') return a.path;
  if (a.kind === 'tcp') return `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
  return 'off';
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
