import type { z } from 'zod';
import type { MountSchema, ServerConfigInput, StaticSchema, VirtualHostSchema } from '../../schema.js';
import type { ModelPath } from '../../validate.js';
import type { Site } from '../directives/site.js';
import { at, type Where } from '../errors.js';
import type { NoteCollector } from '../notes.js';
import { underPrefix } from '../paths.js';
import type { HostPlan, MergedHost } from './hosts.js';
import { type MountCandidate, mountCandidates, type MountHost, type ResolvedMount, resolveMount, type StaticCandidate, staticCandidates } from './mounts.js';
import { AccessTranslator, type RouteAccess } from './access.js';
import type { SourceMap } from './sources.js';

/**
 * Hosts, mounts and static folders of the model, from the declarations and their contexts; and
 * where Apache and wsgi-host would send a URL differently (notes of kind 'order').
 */

type MountInput = z.input<typeof MountSchema>;
type StaticInput = z.input<typeof StaticSchema>;
type HostInput = z.input<typeof VirtualHostSchema>;

export function buildRoutes(site: Site, plan: HostPlan, config: ServerConfigInput, src: SourceMap): ResolvedMount[] {
  const candidates = mountCandidates(site);
  const statics = staticCandidates(site, candidates);
  const declared = [...candidates, ...statics].map((d) => ({ url: d.url, host: d.host }));
  const resolved = candidates.map((c) => resolveMount(c, site, mountHost(c, plan), declared));
  const items = new Map<Route, ResolvedMount | StaticCandidate>();
  for (const m of resolved) items.set(mountRoute(m), m);
  for (const s of statics) items.set(staticRoute(s, plan), s);
  const kept = dropUnreachable([...items.keys()], site.notes);
  reportOrder(kept, plan.hosts.length, site.notes);
  if (plan.hosts.length > 0) config.host = plan.hosts.map((h, i) => hostOutput(h, i, plan.byAddress, src));
  const access = new AccessTranslator(site);
  for (const route of kept) {
    const item = items.get(route) as ResolvedMount | StaticCandidate;
    if ('candidate' in item) {
      const c = item.candidate;
      addMount(item, route.host, config, src, access.route({ kind: 'mount', url: c.url, host: c.host, file: c.script, label: c.label, at: c.at }));
    } else {
      addStatic(
        item,
        route.host,
        config,
        src,
        access.route({ kind: 'static', url: item.url, host: item.host, file: item.directory, label: item.label, at: item.at }),
      );
    }
  }
  return resolved.filter((m) => kept.some((r) => items.get(r) === m));
}

const mountHost = (c: MountCandidate, plan: HostPlan): MountHost =>
  c.host === undefined ? { server: plan.mainIdentity, index: undefined } : { server: plan.identity[c.host] as string, index: plan.outIndex[c.host] };

const mountRoute = (m: ResolvedMount): Route => ({
  kind: 'mount',
  byAlias: m.candidate.label.startsWith('Alias '),
  prefix: m.candidate.url,
  host: m.host,
  order: m.candidate.order,
  at: m.candidate.at,
  label: m.candidate.label,
  target: m.candidate.script,
});

const staticRoute = (s: StaticCandidate, plan: HostPlan): Route => ({
  kind: 'static',
  byAlias: true,
  prefix: s.url,
  host: s.host === undefined ? undefined : plan.outIndex[s.host],
  order: s.order,
  at: s.at,
  label: s.label,
  target: s.directory,
});

function hostOutput(h: MergedHost, i: number, byAddress: boolean, src: SourceMap): HostInput {
  const first = h.decls[0] as MergedHost['decls'][number];
  src.set(['host', i], first.at);
  src.set(['host', i, 'serverName'], h.serverName.at);
  const out: HostInput = { serverName: h.serverName.value };
  if (h.aliases.length > 0) {
    out.aliases = h.aliases.map((a) => a.value);
    src.set(['host', i, 'aliases'], (h.aliases[0] as (typeof h.aliases)[number]).at);
    h.aliases.forEach((a, j) => {
      src.set(['host', i, 'aliases', j], a.at);
    });
  }
  if (first.index === 0) {
    out.default = true;
    src.set(['host', i, 'default'], first.at);
  }
  if (byAddress) {
    out.addresses = h.addresses;
    src.set(['host', i, 'addresses'], first.at);
  }
  return out;
}

/** The list a mount or static folder goes to: the server's, or its host's. */
function listOf<K extends 'mount' | 'static'>(
  key: K,
  host: number | undefined,
  config: ServerConfigInput,
): { list: NonNullable<ServerConfigInput[K]>; base: ModelPath } {
  if (host === undefined) {
    config[key] ??= [];
    return { list: config[key] as NonNullable<ServerConfigInput[K]>, base: [key] };
  }
  const h = (config.host as HostInput[])[host] as HostInput;
  h[key] ??= [];
  return { list: h[key] as NonNullable<ServerConfigInput[K]>, base: ['host', host, key] };
}

function addMount(m: ResolvedMount, host: number | undefined, config: ServerConfigInput, src: SourceMap, access: RouteAccess | undefined): void {
  const { list, base } = listOf('mount', host, config);
  const path = [...base, list.length];
  const c: MountCandidate = m.candidate;
  const out: MountInput = {
    path: c.url,
    script: c.script,
    callable: m.callable.value,
    applicationGroup: m.applicationGroup.value,
    passAuthorization: m.passAuthorization.value,
  };
  if (m.group !== undefined) out.group = m.group.value;
  if (m.environ.size > 0) out.environ = Object.fromEntries([...m.environ].map(([k, v]) => [k, v.value]));
  if (access !== undefined) out.access = access.rules;
  (list as MountInput[]).push(out);
  addAccessSources(path, access, src);
  for (const key of ['', 'path', 'script'] as const) src.set(key === '' ? path : [...path, key], c.at);
  src.set([...path, 'callable'], m.callable.at);
  src.set([...path, 'applicationGroup'], m.applicationGroup.at);
  src.set([...path, 'passAuthorization'], m.passAuthorization.at);
  if (m.group !== undefined) src.set([...path, 'group'], m.group.at);
  for (const [k, v] of m.environ) src.set([...path, 'environ', k], v.at);
}

function addStatic(s: StaticCandidate, host: number | undefined, config: ServerConfigInput, src: SourceMap, access: RouteAccess | undefined): void {
  const { list, base } = listOf('static', host, config);
  const path = [...base, list.length];
  const out: StaticInput = { path: s.slash ? `${s.url}/` : s.url, directory: s.directory };
  if (access !== undefined) out.access = access.rules;
  (list as StaticInput[]).push(out);
  for (const key of ['', 'path', 'directory'] as const) src.set(key === '' ? path : [...path, key], s.at);
  addAccessSources(path, access, src);
}

function addAccessSources(path: ModelPath, access: RouteAccess | undefined, src: SourceMap): void {
  if (access === undefined) return;
  src.set([...path, 'access'], access.sources[0] as Where);
  access.sources.forEach((w, i) => {
    src.set([...path, 'access', i], w);
  });
}

// ---- the order in which Apache tries routes -------------------------------------------------------

/**
 * Where Apache and wsgi-host would send a URL differently. Apache applies every Alias before any
 * WSGIScriptAlias, a VirtualHost's own before the server-level ones, and otherwise the first
 * declared that matches; wsgi-host picks the longest matching prefix (a host's own on a tie).
 */
interface Route {
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
const apacheOrder = (a: Route, b: Route): number => kindRank(a) - kindRank(b) || scopeRank(a) - scopeRank(b) || a.order - b.order;
const kindRank = (r: Route): number => (r.byAlias ? 0 : 1);
const scopeRank = (r: Route): number => (r.host === undefined ? 1 : 0);

/** Keeps the first of the routes one context maps to the same prefix, as Apache reaches only that one. */
function dropUnreachable(routes: Route[], notes: NoteCollector): Route[] {
  const kept: Route[] = [];
  for (const r of [...routes].sort(apacheOrder)) {
    const first = kept.find((k) => k.host === r.host && k.prefix === r.prefix);
    if (first === undefined) kept.push(r);
    else if (first.kind !== r.kind || first.target !== r.target) {
      notes.add(
        'order',
        `${r.label} (${r.target}) is never reached in Apache: ${first.label} (${first.target}) at ${at(first.at)} takes the same URLs first, so it is left out; remove it, or give it another URL.`,
        r.at,
      );
    }
  }
  return kept.sort((a, b) => a.order - b.order);
}

/** One 'order' note for each route that Apache would not reach where wsgi-host does. */
function reportOrder(routes: Route[], hostCount: number, notes: NoteCollector): void {
  const contexts: (number | undefined)[] = hostCount > 0 ? [...Array(hostCount).keys()] : [undefined];
  for (const host of contexts) {
    const list = routes.filter((r) => r.host === undefined || r.host === host).sort(apacheOrder);
    for (const r of list) {
      const covering = list.filter((c) => underPrefix(r.prefix, c.prefix));
      const apache = covering[0] as Route;
      const ours = [...covering].sort((a, b) => b.prefix.length - a.prefix.length || scopeRank(a) - scopeRank(b))[0] as Route;
      // A warning, not a refusal: both aliases are honoured, only their precedence differs (check: CHECK_MOUNT_ORDER).
      if (apache !== ours && ours === r) notes.add('order', orderMessage(apache, ours), ours.at);
    }
  }
}

function orderMessage(apache: Route, ours: Route): string {
  const urls = ours.prefix === '/' ? 'every URL' : `${ours.prefix} and the URLs below it`;
  const why =
    apache.byAlias && !ours.byAlias
      ? 'Apache applies every Alias before any WSGIScriptAlias'
      : apache.host !== ours.host
        ? "Apache tries a VirtualHost's own aliases before the server-level ones"
        : 'mod_wsgi tries the aliases of a context in the order they are declared and the first that matches wins';
  const fix =
    apache.byAlias === ours.byAlias && apache.host === ours.host
      ? `Declare ${ours.label} before ${apache.label} so that Apache agrees, or remove it to keep Apache's behaviour.`
      : `Remove ${ours.label} to keep Apache's behaviour.`;
  return `${ours.label} (${ours.target}) gets ${urls} in wsgi-host, which picks the longest matching prefix, but Apache would send them to ${apache.label} (${apache.target}) at ${at(apache.at)}, because ${why}. ${fix}`;
}
