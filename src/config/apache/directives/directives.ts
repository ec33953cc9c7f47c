import type { Ctx } from './site.js';
import { CORE_HANDLERS } from './core-directives.js';
import { ACCESS_KEYS, dispositionOf, isPlainAccessLine, NO_ACCESS_CONTROL } from './directive-table.js';
import { ApacheErrorCode as E, apacheError } from '../errors.js';
import type { DirectiveNode } from '../read/nodes.js';
import type { Site } from './site.js';
import { type HandlerSpec, WSGI_HANDLERS } from './wsgi-directives.js';

/** Dispatches one directive: translate it, or say once why it is ignored. */
export function handleDirective(d: DirectiveNode, ctx: Ctx, site: Site): void {
  const spec: HandlerSpec | undefined = WSGI_HANDLERS[d.key] ?? CORE_HANDLERS[d.key];
  if (spec !== undefined) {
    checkContext(d, ctx, spec);
    spec.run(d, ctx, site);
    return;
  }
  if (ACCESS_KEYS.has(d.key) && ctx.accessBlock) return accessLine(d, ctx, site);
  const { kind, reason } = dispositionOf(d.key);
  if (kind === 'ignored') site.notes.ignore(d.name, reason, d);
  else site.notes.add('not-honoured', `${d.name} ${d.args.join(' ')} in ${ctx.label} is not honoured: ${reason}`, d);
}

/** Apache refuses a directive outside its contexts; so do we, saying where it may go. */
function checkContext(d: DirectiveNode, ctx: Ctx, spec: HandlerSpec): void {
  if (spec.contexts.includes(ctx.level)) return;
  const allowed = spec.contexts.map((c) => (c === 'server' ? 'the server level' : c === 'vhost' ? 'a <VirtualHost>' : '<Directory>/<Location>')).join(' or ');
  throw apacheError(E.SYNTAX, `${d.name} is not allowed in ${ctx.label} (Apache refuses it there too)`, d, d.name, `Move it to ${allowed}`);
}

/** Require all granted and the like come with every <Directory>; restrictions are another matter. */
function accessLine(d: DirectiveNode, ctx: Ctx, site: Site): void {
  if (isPlainAccessLine(d.key, d.args)) return;
  site.notes.add('not-honoured', `${d.name} ${d.args.join(' ')} in ${ctx.label} is not honoured: ${NO_ACCESS_CONTROL}`, d);
}
