import { type DirectiveNode, whereOf } from '../read/nodes.js';
import { expectArgs } from './args.js';
import type { Ctx, Handler, Site } from './site.js';

/**
 * Access-control directives. Require, AuthMerging, Order, Allow, Deny and Satisfy stay in their
 * section as read (the Scope keeps it, with its <RequireAll>, <Limit>... blocks): translate/access.ts
 * turns each section into an access rule of the routes it covers, checking the lines as Apache
 * does when it starts. Apache allows them in <Directory>, <Files>, <Location> and their Match
 * forms only (the table's `where`), and so does wsgi-host.
 */

const USAGE: Record<string, string> = {
  require: 'Require all granted',
  authmerging: 'AuthMerging Off|And|Or',
  order: 'Order deny,allow',
  allow: 'Allow from 10.0.0.0/8',
  deny: 'Deny from all',
  satisfy: 'Satisfy All|Any',
};

export function accessLine(d: DirectiveNode): void {
  const from = d.key === 'allow' || d.key === 'deny';
  expectArgs(d, from ? 2 : 1, from || d.key === 'require' ? Infinity : 1, USAGE[d.key] ?? d.name);
}

/** A directive refused unless its argument matches `harmless` (SSLVerifyClient none, ProxyRequests Off). */
export function refuseUnless(harmless: RegExp): Handler {
  return (d, ctx, site, reason) => {
    expectArgs(d, 1, Infinity, `${d.name} ${harmless.source.replace(/[\^$]/g, '')}`);
    if (harmless.test(d.args[0] as string)) return site.notes.ignore(d.name, reason, d);
    site.notes.refuse(`${d.name} ${d.args.join(' ')} in ${ctx.label} is not honoured: ${reason}`, d);
  };
}

/** AllowOverride None is what wsgi-host does; other values are checked against the folders served (translate/access.ts). */
export function allowOverride(d: DirectiveNode, ctx: Ctx, site: Site, reason: string): void {
  expectArgs(d, 1, Infinity, 'AllowOverride None');
  if (d.args.length === 1 && (d.args[0] as string).toLowerCase() === 'none') return site.notes.ignore(d.name, reason, d);
  ctx.scope.allowOverride = { value: d.args, at: whereOf(d) };
}

/** A directive noted as ignored here, whose refused forms translate/ finds (Options, against the folders served). */
export function noteIgnored(d: DirectiveNode, _ctx: Ctx, site: Site, reason: string): void {
  site.notes.ignore(d.name, reason, d);
}
