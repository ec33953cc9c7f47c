import { at, type Where } from '../errors.js';
import type { NoteCollector } from '../notes.js';
import { underPrefix } from '../paths.js';

/**
 * Where Apache and wsgi-host would send a URL differently. Apache applies every Alias before any
 * WSGIScriptAlias, a VirtualHost's own before the server-level ones, and otherwise the first
 * declared that matches; wsgi-host picks the longest matching prefix (a host's own on a tie).
 */
export interface Route {
  kind: 'static' | 'mount';
  /** Declared by Alias (mod_alias, tried before mod_wsgi), even when it became a mount. */
  byAlias: boolean;
  prefix: string;
  /** Output host index; undefined at server level. */
  host: number | undefined;
  order: number;
  at: Where;
  label: string;
  target: string;
}

/** Apache's order of trying the routes of one host. */
const apacheOrder = (a: Route, b: Route): number =>
  kindRank(a) - kindRank(b) || scopeRank(a) - scopeRank(b) || a.order - b.order;
const kindRank = (r: Route): number => (r.byAlias ? 0 : 1);
const scopeRank = (r: Route): number => (r.host === undefined ? 1 : 0);

/** Keeps the first of the routes one context maps to the same prefix, as Apache reaches only that one. */
export function dropUnreachable(routes: Route[], notes: NoteCollector): Route[] {
  const kept: Route[] = [];
  for (const r of [...routes].sort(apacheOrder)) {
    const first = kept.find((k) => k.host === r.host && k.prefix === r.prefix);
    if (first === undefined) kept.push(r);
    else if (first.kind !== r.kind || first.target !== r.target) {
      notes.add('order', `${r.label} (${r.target}) is never reached in Apache: ${first.label} (${first.target}) at ${at(first.at)} takes the same URLs first, so it is left out; remove it, or give it another URL.`, r.at);
    }
  }
  return kept.sort((a, b) => a.order - b.order);
}

/** One 'order' note for each route that Apache would not reach where wsgi-host does. */
export function reportOrder(routes: Route[], hostCount: number, notes: NoteCollector): void {
  const contexts: (number | undefined)[] = hostCount > 0 ? [...Array(hostCount).keys()] : [undefined];
  for (const host of contexts) {
    const list = routes.filter((r) => r.host === undefined || r.host === host).sort(apacheOrder);
    for (const r of list) {
      const covering = list.filter((c) => underPrefix(r.prefix, c.prefix));
      const apache = covering[0] as Route;
      const ours = [...covering].sort((a, b) => b.prefix.length - a.prefix.length || scopeRank(a) - scopeRank(b))[0] as Route;
      if (apache !== ours && ours === r) notes.add('order', orderMessage(apache, ours), ours.at);
    }
  }
}

function orderMessage(apache: Route, ours: Route): string {
  const urls = ours.prefix === '/' ? 'every URL' : `${ours.prefix} and the URLs below it`;
  const why = apache.byAlias && !ours.byAlias
    ? 'Apache applies every Alias before any WSGIScriptAlias'
    : apache.host !== ours.host
      ? "Apache tries a VirtualHost's own aliases before the server-level ones"
      : 'mod_wsgi tries the aliases of a context in the order they are declared and the first that matches wins';
  const fix = apache.byAlias === ours.byAlias && apache.host === ours.host
    ? `Declare ${ours.label} before ${apache.label} so that Apache agrees, or remove it to keep Apache's behaviour.`
    : `Remove ${ours.label} to keep Apache's behaviour.`;
  return `${ours.label} (${ours.target}) gets ${urls} in wsgi-host, which picks the longest matching prefix, but Apache would send them to ${apache.label} (${apache.target}) at ${at(apache.at)}, because ${why}. ${fix}`;
}
