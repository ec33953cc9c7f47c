import { formatIp, parseSubnet, type Subnet } from '../../../util/ip-address.js';
import { proxyHeaderName } from '../../proxy-headers.js';
import { ApacheErrorCode as E, apacheError } from '../errors.js';
import { type DirectiveNode, whereOf } from '../read/nodes.js';
import type { Ctx, Site } from './site.js';

/**
 * mod_wsgi's WSGITrustedProxies and WSGITrustedProxyHeaders, read into the Site; translate/
 * carries them to the model's trusted-proxies and trusted-proxy-headers (one setting for the whole
 * server: see proxySettings() for what happens to values that differ between VirtualHosts).
 */

/** The table's note on the forms of both directives that are not honoured. */
export const PROXIES_SCOPE =
  'Not honoured inside Directory, Location or Files sections (one setting for the whole server), nor when VirtualHosts disagree; refused with a client-address header when an access rule decides by address (translate/proxies.ts).';

/** The headers mod_wsgi knows (its registry); RFC 7239 Forwarded is wsgi-host's own, not mod_wsgi's. */
const MOD_WSGI_HEADERS = new Set([
  'X-Forwarded-For',
  'X-Client-IP',
  'X-Real-IP',
  'X-Forwarded-Host',
  'X-Host',
  'X-Forwarded-Server',
  'X-Forwarded-Port',
  'X-Script-Name',
  'X-Forwarded-Script-Name',
  'X-Forwarded-Proto',
  'X-Forwarded-Scheme',
  'X-Scheme',
  'X-Forwarded-HTTPS',
  'X-Forwarded-SSL',
  'X-HTTPS',
]);

/** A subnet as a CIDR range (the model's form); undefined for a netmask that is not a prefix. */
function cidrOf(s: Subnet): string | undefined {
  let bits = 0;
  let ended = false;
  for (const byte of s.mask) {
    for (let b = 7; b >= 0; b--) {
      const one = ((byte >> b) & 1) === 1;
      if (one && ended) return undefined;
      if (one) bits++;
      else ended = true;
    }
  }
  const bytes = new Uint8Array(16);
  if (s.v6) bytes.set(s.net);
  else {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    bytes.set(s.net, 12);
  }
  return `${formatIp(bytes)}/${bits}`;
}

/** Where a setting stands: the server level, or the VirtualHost (by declaration index). */
function place(ctx: Ctx, d: DirectiveNode, site: Site, name: string): number | 'server' | undefined {
  if (ctx.level === 'server') return 'server';
  if (ctx.level === 'vhost' && ctx.host !== undefined) return ctx.host.index;
  site.notes.add(
    'not-honoured',
    `${name} in ${ctx.label} is not honoured: wsgi-host believes proxy headers for the whole server, not per section. Set it at the server level (or in the VirtualHost).`,
    whereOf(d),
  );
  return undefined;
}

export function trustedProxies(d: DirectiveNode, ctx: Ctx, site: Site): void {
  if (d.args.length === 0) {
    throw apacheError(E.BAD_VALUE, 'WSGITrustedProxies needs at least one address', d, d.name, 'Write e.g. WSGITrustedProxies 10.0.0.5 192.168.1.0/24');
  }
  const ranges: string[] = [];
  for (const arg of d.args) {
    const s = parseSubnet(arg);
    const cidr = typeof s === 'string' ? undefined : cidrOf(s);
    if (cidr === undefined) {
      throw apacheError(
        E.BAD_VALUE,
        `WSGITrustedProxies ${arg}: ${typeof s === 'string' ? s : 'a netmask that is not a prefix'}`,
        d,
        d.name,
        'Write IP addresses or networks: 10.0.0.5, 10.0.0.0/8, 192.168.1.0/255.255.255.0, fd00::/8',
      );
    }
    ranges.push(cidr);
  }
  const at = place(ctx, d, site, 'WSGITrustedProxies');
  if (at !== undefined) site.trustedProxies.push({ place: at, value: ranges, at: whereOf(d) });
}

export function trustedProxyHeaders(d: DirectiveNode, ctx: Ctx, site: Site): void {
  if (d.args.length === 0) {
    throw apacheError(
      E.BAD_VALUE,
      'WSGITrustedProxyHeaders needs at least one header',
      d,
      d.name,
      'Write e.g. WSGITrustedProxyHeaders X-Forwarded-For X-Forwarded-Proto',
    );
  }
  const headers: string[] = [];
  for (const arg of d.args) {
    const name = proxyHeaderName(arg);
    if (name === undefined || !MOD_WSGI_HEADERS.has(name)) {
      site.notes.add('not-honoured', `WSGITrustedProxyHeaders ${arg}: mod_wsgi does not know this header and ignores it; wsgi-host does the same.`, whereOf(d));
      continue;
    }
    headers.push(name);
  }
  const at = place(ctx, d, site, 'WSGITrustedProxyHeaders');
  if (at !== undefined) site.trustedProxyHeaders.push({ place: at, value: headers, at: whereOf(d) });
}
