import type { z } from 'zod';
import type { MountSchema, ServerConfigInput, StaticSchema, VirtualHostSchema } from '../../schema.js';
import type { ModelPath } from '../../validate.js';
import { type MountCandidate, mountCandidates, type StaticCandidate, staticCandidates } from './candidates.js';
import type { HostPlan, MergedHost } from './hosts.js';
import { type ResolvedMount, resolveMount } from './resolve.js';
import { dropUnreachable, reportOrder, type Route } from './routes.js';
import type { Site } from '../directives/site.js';
import type { SourceMap } from './sources.js';

/** Hosts, mounts and static folders of the model, from the declarations and their contexts. */

type MountInput = z.input<typeof MountSchema>;
type StaticInput = z.input<typeof StaticSchema>;
type HostInput = z.input<typeof VirtualHostSchema>;

export function buildRoutes(site: Site, plan: HostPlan, config: ServerConfigInput, src: SourceMap): ResolvedMount[] {
  const candidates = mountCandidates(site);
  const statics = staticCandidates(site, candidates);
  const declared = [...candidates, ...statics].map((d) => ({ url: d.url, host: d.host }));
  const resolved = candidates.map((c) => resolveMount(c, site, plan, declared));
  const items = new Map<Route, ResolvedMount | StaticCandidate>();
  for (const m of resolved) items.set(mountRoute(m), m);
  for (const s of statics) items.set(staticRoute(s, plan), s);
  const kept = dropUnreachable([...items.keys()], site.notes);
  reportOrder(kept, plan.hosts.length, site.notes);
  if (plan.hosts.length > 0) config.host = plan.hosts.map((h, i) => hostOutput(h, i, src));
  for (const route of kept) {
    const item = items.get(route) as ResolvedMount | StaticCandidate;
    if ('candidate' in item) addMount(item, route.host, config, src);
    else addStatic(item, route.host, config, src);
  }
  return resolved.filter((m) => kept.some((r) => items.get(r) === m));
}

const mountRoute = (m: ResolvedMount): Route => ({
  kind: 'mount', byAlias: m.candidate.label.startsWith('Alias '), prefix: m.candidate.url, host: m.host, order: m.candidate.order, at: m.candidate.at, label: m.candidate.label, target: m.candidate.script,
});

const staticRoute = (s: StaticCandidate, plan: HostPlan): Route => ({
  kind: 'static', byAlias: true, prefix: s.url, host: s.host === undefined ? undefined : plan.outIndex[s.host], order: s.order, at: s.at, label: s.label, target: s.directory,
});

function hostOutput(h: MergedHost, i: number, src: SourceMap): HostInput {
  const first = h.decls[0] as MergedHost['decls'][number];
  src.set(['host', i], first.at);
  src.set(['host', i, 'serverName'], h.serverName.at);
  const out: HostInput = { serverName: h.serverName.value };
  if (h.aliases.length > 0) {
    out.aliases = h.aliases.map((a) => a.value);
    src.set(['host', i, 'aliases'], (h.aliases[0] as (typeof h.aliases)[number]).at);
    h.aliases.forEach((a, j) => src.set(['host', i, 'aliases', j], a.at));
  }
  if (first.index === 0) {
    out.default = true;
    src.set(['host', i, 'default'], first.at);
  }
  return out;
}

/** The list a mount or static folder goes to: the server's, or its host's. */
function listOf<K extends 'mount' | 'static'>(key: K, host: number | undefined, config: ServerConfigInput): { list: NonNullable<ServerConfigInput[K]>; base: ModelPath } {
  if (host === undefined) {
    config[key] ??= [];
    return { list: config[key] as NonNullable<ServerConfigInput[K]>, base: [key] };
  }
  const h = (config.host as HostInput[])[host] as HostInput;
  h[key] ??= [];
  return { list: h[key] as NonNullable<ServerConfigInput[K]>, base: ['host', host, key] };
}

function addMount(m: ResolvedMount, host: number | undefined, config: ServerConfigInput, src: SourceMap): void {
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
  (list as MountInput[]).push(out);
  for (const key of ['', 'path', 'script'] as const) src.set(key === '' ? path : [...path, key], c.at);
  src.set([...path, 'callable'], m.callable.at);
  src.set([...path, 'applicationGroup'], m.applicationGroup.at);
  src.set([...path, 'passAuthorization'], m.passAuthorization.at);
  if (m.group !== undefined) src.set([...path, 'group'], m.group.at);
  for (const [k, v] of m.environ) src.set([...path, 'environ', k], v.at);
}

function addStatic(s: StaticCandidate, host: number | undefined, config: ServerConfigInput, src: SourceMap): void {
  const { list, base } = listOf('static', host, config);
  const path = [...base, list.length];
  (list as StaticInput[]).push({ path: s.url, directory: s.directory });
  for (const key of ['', 'path', 'directory'] as const) src.set(key === '' ? path : [...path, key], s.at);
}
