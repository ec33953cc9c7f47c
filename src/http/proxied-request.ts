/**
 * What a request that came through proxies looks like to the application, its access rules and the
 * access log: the client as the PROXY header (proxy-protocol-stage.ts) and, from a trusted proxy,
 * the configured proxy headers (src/frontdoor/trusted-proxies.ts, mod_wsgi's
 * WSGITrustedProxyHeaders) tell it. Headers of a handled purpose that are not believed are removed
 * before the application sees the request: never passed on as if true.
 *
 * Nothing here runs unless trusted-proxy-headers is set (ProxyHeaders.active): the hot path of a
 * server without it reads one boolean.
 */
import type { Socket } from 'node:net';
import { compileProxyTrust, isTrustedPeer, type ProxyTrust, type ProxyView, type RawHeaders, resolveProxyView } from '../frontdoor/trusted-proxies.js';
import { clientAddress } from './proxy-protocol-stage.js';

export interface ProxyHeaders {
  readonly trust: ProxyTrust;
  /** Some header is trusted: requests are looked at. */
  readonly active: boolean;
}

/** trusted-proxies and trusted-proxy-headers of a configuration, compiled. */
export function compileProxyHeaders(trustedProxies: readonly string[], trustedProxyHeaders: readonly string[]): ProxyHeaders {
  const trust = compileProxyTrust(trustedProxies, trustedProxyHeaders);
  return { trust, active: trust.byPurpose.size > 0 };
}

/** Whether a connection's peer is a trusted proxy (the PROXY protocol stage asks before reading a byte). */
export function trustedPeer(proxies: ProxyHeaders | undefined, address: string | undefined): boolean {
  return proxies !== undefined && isTrustedPeer(proxies.trust, address);
}

/**
 * What the trusted headers of this request say (undefined: nothing to change). The peer is the
 * client of the connection: after a PROXY header, the address it carried.
 */
export function proxyViewOf(proxies: ProxyHeaders | undefined, socket: Socket, raw: RawHeaders): ProxyView | undefined {
  if (proxies === undefined || !proxies.active) return undefined;
  const view = resolveProxyView(proxies.trust, clientAddress(socket), raw);
  return view.strip.size === 0 && view.used.length === 0 ? undefined : view;
}

/**
 * The header lines for the worker (each name and value preceded by NUL) without the headers the
 * view strips, with Host replaced by the forwarded host when one was believed (HTTP_HOST, as
 * mod_wsgi sets it from X-Forwarded-Host), and X-Forwarded-For from the client's address on (as
 * mod_wsgi rewrites it).
 */
export function proxiedHeaders(headers: string, view: ProxyView): string {
  if (view.strip.size === 0 && view.host === undefined && view.forwardedFor === undefined) return headers;
  const fields = headers.split('\0'); // NUL never occurs in a name or value: the parser refuses it
  let out = '';
  let hostDone = false;
  let forDone = false;
  for (let i = 1; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string;
    const lower = name.toLowerCase();
    if (view.strip.has(lower)) continue;
    if (lower === 'x-forwarded-for' && view.forwardedFor !== undefined) {
      if (!forDone) out += `\0${name}\0${view.forwardedFor}`;
      forDone = true;
      continue;
    }
    if (lower === 'host' && view.host !== undefined) {
      if (!hostDone) out += `\0${name}\0${view.host}`;
      hostDone = true;
      continue;
    }
    out += `\0${name}\0${fields[i + 1] as string}`;
  }
  if (view.host !== undefined && !hostDone) out = `\0Host\0${view.host}${out}`;
  return out;
}
