/**
 * Addresses with ports as configurations write them: where to listen (TOML's listen, Apache's
 * Listen) and which connections a virtual host takes (<VirtualHost>, the model's host.addresses).
 * The Host header is parsed by the HTTP side's rules (src/http/host-header.ts).
 */
import { canonicalAddress } from './ip-address.js';

/**
 * "port", ":port", "*:port", "host:port" or "[v6]:port": where to listen. No host, '' or '*' is
 * every IPv4 address (0.0.0.0, as Apache's Listen 80). Undefined when it is none of those; the
 * port is not range-checked here (the model says what is wrong with it).
 */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  const t = text.trim();
  let m = /^(\d+)$/.exec(t);
  if (m !== null) return { host: '0.0.0.0', port: Number(m[1]) };
  m = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  if (m !== null) return { host: m[1] as string, port: Number(m[2]) };
  m = /^([^:\s[\]]*):(\d+)$/.exec(t);
  if (m !== null) return { host: m[1] === '' || m[1] === '*' ? '0.0.0.0' : (m[1] as string), port: Number(m[2]) };
  return undefined;
}

/** An address of Apache's <VirtualHost> (and the model's host.addresses). */
export interface VhostAddress {
  /** A canonical IP address, or '*' (also `_default_`). */
  ip: string;
  /** A port, or '*' (any port; also an address written without a port). */
  port: number | '*';
}

/** '*:80', '_default_:*', '127.0.0.1', '127.0.0.1:8080', '[::1]:80', '::1'; or why it is not an address. */
export function parseVhostAddress(text: string): VhostAddress | string {
  const t = text.trim();
  let host: string;
  let port: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\*|\d+))?$/.exec(t);
  if (v6 !== null) {
    host = v6[1] as string;
    port = v6[2];
  } else if ((t.match(/:/g) ?? []).length > 1) {
    host = t; // a bare IPv6 address: no port
  } else {
    const m = /^([^:]+)(?::(\*|\d+))?$/.exec(t);
    if (m === null) return `'${text}' is not an address`;
    host = m[1] as string;
    port = m[2];
  }
  let ip: string;
  if (host === '*' || host.toLowerCase() === '_default_') ip = '*';
  else {
    ip = canonicalAddress(host);
    if (!/^[\d.]+$/.test(ip) && !ip.includes(':'))
      return `'${host}' is not an IP address (Apache resolves names in <VirtualHost> once, at start: write the address)`;
  }
  if (port === undefined || port === '*') return { ip, port: '*' };
  const n = Number(port);
  if (n < 1 || n > 65535) return `'${port}' is not a port`;
  return { ip, port: n };
}
