/** Apache's address forms: Listen [ip:]port, <VirtualHost addr[:port] ...>, ServerName name[:port]. */
import { parseListenAddress as parseHostPort } from '../../../util/host-port.js';

export interface HostPort {
  host: string;
  port: number;
}

/** Listen 80 | 127.0.0.1:8080 | [::1]:8080 (util/host-port.ts); undefined when not one of those, or the port is over 65535. */
export function parseListenAddress(text: string): HostPort | undefined {
  const a = parseHostPort(text);
  return a === undefined || a.port > 65535 ? undefined : a;
}

/** The port of a VirtualHost address ('*:8080' -> 8080; '*' -> undefined). */
export function addressPort(address: string): number | undefined {
  const m = /:(\d+)$/.exec(address);
  return m !== null && !address.endsWith(']') ? Number(m[1]) : undefined;
}

/** ServerName [scheme://]name[:port] -> name and port. */
export function splitServerName(text: string): { name: string; port: number | undefined } {
  const bare = text.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(bare);
  if (m === null) return { name: bare, port: undefined };
  return { name: m[1] as string, port: m[2] !== undefined ? Number(m[2]) : undefined };
}

/** mod_wsgi's %{SERVER}: the host name, with the port when it is not 80 or 443. */
export function serverIdentity(name: string, port: number | undefined): string {
  return port === undefined || port === 80 || port === 443 ? name : `${name}:${port}`;
}
