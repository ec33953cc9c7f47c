import type { MountCandidate } from './candidates.js';
import { at } from '../errors.js';
import type { HostPlan } from './hosts.js';
import type { Sourced } from '../read/nodes.js';
import { underPrefix } from '../paths.js';
import { mergeScopes, type Scope } from '../directives/scopes.js';
import type { Site } from '../directives/site.js';
import { expandApplicationGroup, expandProcessGroup } from './variables.js';

/** A mount with its settings merged from every context that applies, as Apache merges them. */
export interface ResolvedMount {
  candidate: MountCandidate;
  /** Output host index; undefined for a server-level mount. */
  host: number | undefined;
  group?: Sourced<string>;
  applicationGroup: Sourced<string>;
  /** No WSGIApplicationGroup applies: mod_wsgi's %{RESOURCE}. */
  defaultApplicationGroup: boolean;
  callable: Sourced<string>;
  passAuthorization: Sourced<boolean>;
  scriptReloading?: Sourced<boolean>;
  environ: Map<string, Sourced<string>>;
  /** VirtualHost contexts whose settings Apache would apply to this server-level mount per host. */
  perHost: Scope[];
}

/** The URL prefixes declared for each host (undefined: server level), to see which mount a URL reaches. */
export type DeclaredPrefixes = { url: string; host: number | undefined }[];

export function resolveMount(c: MountCandidate, site: Site, plan: HostPlan, declared: DeclaredPrefixes): ResolvedMount {
  const merged = mergeScopes(site.scopes, { url: c.url, script: c.script }, c.host);
  merged.partial = merged.partial.filter((s) => s.prefix === undefined || !takenByLongerPrefix(s.prefix, c, declared));
  const values = { ...merged.values };
  for (const [k, v] of Object.entries(c.options)) if (v !== undefined) Object.assign(values, { [k]: v });
  reportPartial(c, merged.partial, site);
  const env = (name: string): string | undefined => merged.env.get(name)?.value ?? process.env[name];
  const ctx = {
    server: c.host === undefined ? plan.mainIdentity : (plan.identity[c.host] as string),
    scriptName: c.url === '/' ? '' : c.url,
    env,
    missing: (what: string, name: string, where: Sourced<unknown>['at']) =>
      site.notes.add('not-honoured', `${what} %{ENV:${name}} for ${c.label} is not honoured: ${name} is set by no SetEnv that applies and is not in the environment at translation time, so mod_wsgi's empty value is used; set it with SetEnv ${name} VALUE.`, where),
  };
  const pg = values.processGroup as Sourced<string> | undefined;
  const ag = values.applicationGroup as Sourced<string> | undefined;
  const group = pg === undefined ? undefined : expandProcessGroup(pg, ctx);
  return {
    candidate: c,
    host: c.host === undefined ? undefined : plan.outIndex[c.host],
    ...(group !== undefined ? { group } : {}),
    applicationGroup: expandApplicationGroup(ag ?? { value: '%{RESOURCE}', at: c.at }, ctx),
    defaultApplicationGroup: ag === undefined,
    callable: (values.callable as Sourced<string> | undefined) ?? { value: 'application', at: c.at },
    passAuthorization: (values.passAuthorization as Sourced<boolean> | undefined) ?? { value: false, at: c.at },
    ...(values.scriptReloading !== undefined ? { scriptReloading: values.scriptReloading as Sourced<boolean> } : {}),
    environ: merged.env,
    perHost: merged.perHost,
  };
}

/** Whether the URLs of a <Location> go to a mount or Alias longer than c's, not to c. */
function takenByLongerPrefix(location: string, c: MountCandidate, declared: DeclaredPrefixes): boolean {
  return declared.some((d) => (d.host === c.host || d.host === undefined) && d.url.length > c.url.length && underPrefix(location, d.url));
}

/** Settings Apache would apply to part of a mount's URLs only. */
function reportPartial(c: MountCandidate, partial: Scope[], site: Site): void {
  for (const s of partial) {
    site.notes.add('not-honoured', `${s.label} at ${at(s.at)} sets mod_wsgi settings for part of the URLs of ${c.label} only, which wsgi-host cannot do: it chooses settings per mount; to run those URLs differently, give them a WSGIScriptAlias of their own (their SCRIPT_NAME then changes).`, s.at);
  }
}
