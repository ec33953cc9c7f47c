import { headersFor, PROXY_HEADERS, type ProxyPurpose } from '../config/proxy-headers.js';
import { formatIp, inAnyRange, type IpRange, parseIp, parseIpRange } from '../util/ip-address.js';
import { type ForwardedElement, parseForwarded, splitNode } from './forwarded-header.js';

/**
 * What the application sees of a request that came through proxies, as mod_wsgi's
 * WSGITrustedProxies / WSGITrustedProxyHeaders decide it:
 *
 * - Only purposes that have a configured header are handled; other headers pass as they are.
 * - From a trusted peer, the configured header of each purpose is believed and passed on; the
 *   other headers of that purpose are removed (they could come from the client).
 * - From any other peer, every header of a handled purpose is removed, the configured one too:
 *   never passed on as if it were true.
 * - The client address is the right-most address that is not a trusted proxy (X-Forwarded-For
 *   and Forwarded are walked from the right, skipping trusted proxies), as mod_wsgi does; a
 *   malformed or hidden entry stops the walk at the last address known to be good.
 *
 * Pure: the HTTP layer passes the peer address and the raw headers, and applies the result.
 */

export interface ProxyTrust {
  readonly ranges: readonly IpRange[];
  /** Configured headers, lower case, by purpose. */
  readonly byPurpose: ReadonlyMap<ProxyPurpose, string>;
  /** Every header of a handled purpose (lower case): candidates for removal. */
  readonly handled: ReadonlySet<string>;
}

/** Compiles validated config values (trusted-proxies, trusted-proxy-headers). */
export function compileProxyTrust(trustedProxies: readonly string[], trustedProxyHeaders: readonly string[]): ProxyTrust {
  const ranges: IpRange[] = [];
  for (const t of trustedProxies) {
    const r = parseIpRange(t);
    if (typeof r === 'string') throw new TypeError(`trusted-proxies: ${r}`); // the config model validated it
    ranges.push(r);
  }
  const byPurpose = new Map<ProxyPurpose, string>();
  const handled = new Set<string>();
  for (const h of trustedProxyHeaders) {
    for (const p of PROXY_HEADERS[h] ?? []) {
      byPurpose.set(p, h.toLowerCase());
      for (const other of headersFor(p)) handled.add(other);
    }
  }
  return { ranges, byPurpose, handled };
}

/** Whether a peer address (as Node reports it) is a trusted proxy. */
export function isTrustedPeer(trust: ProxyTrust, address: string | undefined): boolean {
  if (address === undefined || trust.ranges.length === 0) return false;
  const bytes = parseIp(address);
  return bytes !== undefined && inAnyRange(bytes, trust.ranges);
}

export interface ProxyView {
  /** The peer was a trusted proxy. */
  trusted: boolean;
  /** REMOTE_ADDR, when a believed header changed it (canonical text). */
  remoteAddr?: string;
  /** REMOTE_PORT, when the believed header gave one with the address (Forwarded for="[..]:port"). */
  remotePort?: string;
  /** wsgi.url_scheme. */
  scheme?: 'http' | 'https';
  /** HTTP_HOST (host[:port]). */
  host?: string;
  /** SERVER_NAME (X-Forwarded-Server). */
  serverName?: string;
  /** SERVER_PORT (X-Forwarded-Port). */
  serverPort?: string;
  /** SCRIPT_NAME prefix (X-Script-Name). */
  scriptName?: string;
  /**
   * X-Forwarded-For as the application sees it when it gave REMOTE_ADDR: from that address to the
   * right, as mod_wsgi rewrites it (what the client claimed before it is dropped).
   */
  forwardedFor?: string;
  /** Lower-case names of the headers to remove before the application sees the request. */
  strip: Set<string>;
  /** The headers that were believed (lower case), for the debug log. */
  used: string[];
}

/** Headers as Node's rawHeaders: name, value, name, value... */
export type RawHeaders = readonly string[];

/** Every value of a header (lower-case name), joined with ', ' in the order received; undefined if absent. */
function joined(raw: RawHeaders, name: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).length === name.length && (raw[i] as string).toLowerCase() === name) {
      out = out === undefined ? (raw[i + 1] as string) : `${out}, ${raw[i + 1] as string}`;
    }
  }
  return out;
}

/** The right-most element of a comma list (the one the nearest, trusted, proxy wrote). */
function rightMost(value: string): string {
  const parts = value.split(',');
  return (parts[parts.length - 1] as string).trim();
}

const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252}))(:\d{1,5})?$/;
const NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})$/;
const SCRIPT_NAME = /^\/[\x21-\x7e]*$/;

function validPort(p: string): boolean {
  return /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535;
}

function schemeOf(header: string, value: string): 'http' | 'https' | undefined {
  const v = value.toLowerCase();
  if (header === 'x-forwarded-ssl' || header === 'x-forwarded-https' || header === 'x-https') {
    if (v === 'on' || v === '1' || v === 'true' || v === 'yes') return 'https';
    if (v === 'off' || v === '0' || v === 'false' || v === 'no') return 'http';
    return undefined;
  }
  return v === 'https' || v === 'http' ? v : undefined;
}

/**
 * Walks addresses from the right, skipping trusted proxies. Returns the index of the element the
 * walk stopped at (the first one, from the right, that is not a trusted proxy; else the left-most)
 * and the client address: that element's address when it has a valid one, else the last trusted
 * address passed (or the peer's).
 */
function walk(trust: ProxyTrust, peer: string, nodes: (string | undefined)[]): { index: number; address: string; port?: string; from?: number } {
  let address = peer;
  let port: string | undefined;
  /** The element the address comes from (undefined: the peer's). */
  let from: number | undefined;
  let index = nodes.length - 1;
  for (; index >= 0; index--) {
    const node = nodes[index];
    const split = node === undefined ? undefined : splitNode(node);
    const bytes = split === undefined ? undefined : parseIp(split.address);
    if (bytes === undefined) return { index, address, ...(port !== undefined ? { port } : {}), ...(from !== undefined ? { from } : {}) };
    address = formatIp(bytes);
    port = split?.port;
    from = index;
    if (!inAnyRange(bytes, trust.ranges)) break;
  }
  return { index: Math.max(index, 0), address, ...(port !== undefined ? { port } : {}), ...(from !== undefined ? { from } : {}) };
}

/**
 * What the application should see of this request. `peer` is the address the connection came
 * from (after the PROXY protocol, when the listener speaks it).
 */
export function resolveProxyView(trust: ProxyTrust, peer: string | undefined, raw: RawHeaders): ProxyView {
  const view: ProxyView = { trusted: false, strip: new Set(), used: [] };
  if (trust.byPurpose.size === 0) return view;
  const present = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (trust.handled.has(name)) present.add(name);
  }
  view.trusted = isTrustedPeer(trust, peer);
  const believed = new Set<string>();
  if (view.trusted) for (const h of trust.byPurpose.values()) believed.add(h);
  for (const h of present) if (!believed.has(h)) view.strip.add(h);
  if (!view.trusted || present.size === 0) return view;

  const peerText = formatIp(parseIp(peer as string) as Uint8Array);
  const forwarded =
    trust.byPurpose.get('client-address') === 'forwarded' || trust.byPurpose.get('scheme') === 'forwarded' || trust.byPurpose.get('host') === 'forwarded';
  let chosen: ForwardedElement | undefined;
  if (forwarded && present.has('forwarded')) {
    const elements = parseForwarded(joined(raw, 'forwarded') as string);
    const r = walk(
      trust,
      peerText,
      elements.map((e) => e?.for),
    );
    chosen = elements[r.index];
    view.used.push('forwarded');
    if (trust.byPurpose.get('client-address') === 'forwarded' && r.address !== peerText) {
      view.remoteAddr = r.address;
      if (r.port !== undefined) view.remotePort = r.port;
    }
    if (chosen !== undefined) {
      if (trust.byPurpose.get('scheme') === 'forwarded' && chosen.proto !== undefined) {
        const s = schemeOf('forwarded', chosen.proto);
        if (s !== undefined) view.scheme = s;
      }
      if (trust.byPurpose.get('host') === 'forwarded' && chosen.host !== undefined && HOST.test(chosen.host)) view.host = chosen.host;
    }
  }

  const address = trust.byPurpose.get('client-address');
  if (address !== undefined && address !== 'forwarded' && present.has(address)) {
    const value = joined(raw, address) as string;
    view.used.push(address);
    if (address === 'x-forwarded-for') {
      const nodes = value.split(',');
      const r = walk(trust, peerText, nodes);
      if (r.address !== peerText) {
        view.remoteAddr = r.address;
        if (r.port !== undefined) view.remotePort = r.port;
      }
      if (r.from !== undefined && r.from > 0) {
        view.forwardedFor = nodes
          .slice(r.from)
          .map((n) => n.trim())
          .join(', ');
      }
    } else {
      // X-Real-IP, X-Client-IP: one address, set by the proxy.
      const bytes = parseIp(rightMost(value));
      if (bytes !== undefined) view.remoteAddr = formatIp(bytes);
    }
  }
  const scheme = trust.byPurpose.get('scheme');
  if (scheme !== undefined && scheme !== 'forwarded' && present.has(scheme)) {
    const s = schemeOf(scheme, rightMost(joined(raw, scheme) as string));
    view.used.push(scheme);
    if (s !== undefined) view.scheme = s;
  }
  const host = trust.byPurpose.get('host');
  if (host !== undefined && host !== 'forwarded' && present.has(host)) {
    const h = rightMost(joined(raw, host) as string);
    view.used.push(host);
    if (HOST.test(h)) view.host = h;
  }
  const port = trust.byPurpose.get('port');
  if (port !== undefined && present.has(port)) {
    const p = rightMost(joined(raw, port) as string);
    view.used.push(port);
    if (validPort(p)) view.serverPort = String(Number(p));
  }
  const server = trust.byPurpose.get('server-name');
  if (server !== undefined && present.has(server)) {
    const s = rightMost(joined(raw, server) as string);
    view.used.push(server);
    if (NAME.test(s)) view.serverName = s;
  }
  const script = trust.byPurpose.get('script-name');
  if (script !== undefined && present.has(script)) {
    const s = (joined(raw, script) as string).trim();
    view.used.push(script);
    if (SCRIPT_NAME.test(s) && !s.split('/').some((seg) => seg === '..' || seg === '.')) view.scriptName = s.replace(/\/+$/, '');
  }
  return view;
}
