import type { DirectiveNode } from '../read/nodes.js';
import type { Ctx, Site } from './site.js';

/**
 * Access-control directives (Require, Order, Allow, Deny, Satisfy). wsgi-host does no access
 * control yet, so a line that only opens or closes the door of a <Directory>/<Location>/<Files> as a
 * whole is dropped, a restriction there is named at its place, and one outside a section is named
 * once. The handlers of issue 14's access directives belong in this file, each a row in table.ts.
 */

export function accessLine(d: DirectiveNode, ctx: Ctx, site: Site, reason: string): void {
  if (!ctx.accessBlock) return site.notes.ignore(d.name, reason, d);
  if (isPlainAccessLine(d.key, d.args)) return;
  site.notes.add('not-honoured', `${d.name} ${d.args.join(' ')} in ${ctx.label} is not honoured: ${reason}`, d);
}

/** Require all granted and the like come with every <Directory>; restrictions are another matter. */
function isPlainAccessLine(key: string, args: string[]): boolean {
  const words = args.map((a) => a.toLowerCase());
  if (key === 'require') return words.length === 2 && words[0] === 'all';
  if (key === 'order' || key === 'satisfy') return true;
  if (key === 'allow' || key === 'deny') return words.join(' ') === 'from all';
  return false;
}
