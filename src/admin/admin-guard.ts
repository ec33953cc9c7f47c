import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isLoopback } from './admin-address.js';

/**
 * The checks an admin request passes before any route runs: its token, its Host (a loopback
 * listener answers only loopback names, against DNS rebinding), and, for a route that changes
 * something, proof that it is not a simple cross-site request a web page could send.
 */

/** State-changing routes need this header: a web page can only add it after a CORS preflight, which is never granted. */
export const ADMIN_REQUEST_HEADER = 'X-Wsgi-Host-Admin';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Authorization: Bearer TOKEN, compared in constant time (equal-length digests). */
export function tokenMatches(authorization: string | undefined, token: string): boolean {
  return timingSafeEqual(digest(authorization ?? ''), digest(`Bearer ${token}`));
}

/**
 * Why a Host header is refused by a loopback TCP listener on `port` (undefined: accepted). A DNS
 * rebinding page reaches 127.0.0.1 under its own name; only localhost, 127.x.y.z and [::1] with
 * the listener's port are this listener's names. A request without Host (HTTP/1.0) comes from no
 * browser and is accepted.
 */
export function hostProblem(host: string | undefined, port: number): string | undefined {
  if (host === undefined) return undefined;
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]*)(?::(\d{1,5}))?$/.exec(host.trim());
  if (m === null) return `Host '${host}' is not a host name`;
  const name = m[1] as string;
  const p = m[2] === undefined ? 80 : Number(m[2]);
  if (!isLoopback(name)) return `Host '${host}' is not a loopback name: this admin listener answers only localhost, 127.0.0.1 or [::1]`;
  if (p !== port) return `Host '${host}' names port ${p}, but this admin listener is on port ${port}`;
  return undefined;
}

/** Why a request to a route that changes something is refused as possibly cross-site (undefined: accepted). */
export function crossSiteProblem(headers: IncomingHttpHeaders): string | undefined {
  if (headers[ADMIN_REQUEST_HEADER.toLowerCase()] === undefined) {
    return `this route changes the server, so it needs the header ${ADMIN_REQUEST_HEADER}: 1 (which web pages of other sites cannot send)`;
  }
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `the request came from another site (Sec-Fetch-Site: ${site})`;
  const origin = headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      /* 'null' and other opaque origins */
    }
    if (originHost === undefined || originHost !== headers.host) return `the request came from another origin (Origin: ${origin})`;
  }
  return undefined;
}
