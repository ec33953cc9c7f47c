import { ConfigError, ConfigErrorCode as C } from '../config/errors.js';

/** Where an admin listener is, once resolved: a unix socket, a TCP address, or nowhere. */
export type AdminAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number } | { kind: 'off' };

/** What admin.listen (or --admin) says: 'auto' is resolved to a socket in a private folder later. */
export type AdminListen = AdminAddress | { kind: 'auto' };

export const ADMIN_LISTEN_FORMS = "'auto', 'off', HOST:PORT (127.0.0.1:9100, [::1]:9100), PORT (on 127.0.0.1), or a unix socket path with a / (./admin.sock)";

/**
 * Reads admin.listen: 'auto', 'off', a unix socket path (anything with a '/'), HOST:PORT,
 * [IPv6]:PORT, or a bare PORT, which means 127.0.0.1:PORT (never every interface).
 */
export function parseAdminListen(text: string, where: { path?: (string | number)[]; key?: string } = { path: ['admin', 'listen'] }): AdminListen {
  const t = text.trim();
  if (t === 'auto') return { kind: 'auto' };
  if (t === 'off') return { kind: 'off' };
  if (t.includes('/')) return { kind: 'unix', path: t };
  let host = '127.0.0.1';
  let port: string | undefined;
  const bare = /^(\d{1,5})$/.exec(t);
  const hostPort = bare === null ? (/^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(t) ?? /^([^:\s/[\]]+):(\d{1,5})$/.exec(t)) : null;
  if (bare !== null) port = bare[1];
  else if (hostPort !== null) {
    host = hostPort[1] as string;
    port = hostPort[2];
  }
  if (port === undefined || Number(port) > 65535) {
    throw new ConfigError(C.INVALID_VALUE, `'${text}' is not an admin listener address`, {
      ...(where.path ? { path: where.path } : {}),
      ...(where.key ? { source: { key: where.key } } : {}),
      hint: `Use ${ADMIN_LISTEN_FORMS}`,
    });
  }
  return { kind: 'tcp', host, port: Number(port) };
}

export function describeAdmin(a: AdminAddress): string {
  if (a.kind === 'unix') return a.path;
  if (a.kind === 'tcp') return `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
  return 'off';
}

/** Loopback names and addresses: localhost, 127.0.0.0/8, ::1 (also written out in full). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || /^127(\.\d{1,3}){3}$/.test(h) || /^(0{0,4}:){2,7}0{0,3}1$/.test(h) || h === '::ffff:127.0.0.1';
}
