import { GroupSettingsSchema } from '../../schema.js';
import type { Scope } from '../directives/scopes.js';
import type { GroupField, Site } from '../directives/site.js';
import { at } from '../errors.js';
import type { HostPlan } from './hosts.js';
import type { ResolvedMount } from './mounts.js';

/** Notes on where mod_wsgi's defaults and wsgi-host's differ, with what to write to choose. */
export function addAdvice(site: Site, mounts: ResolvedMount[], plan: HostPlan): void {
  adviseResourceGroups(site, mounts, plan);
  advisePerHostSettings(site, mounts);
  adviseTimeouts(site);
  adviseImportScripts(site, mounts);
}

function adviseResourceGroups(site: Site, mounts: ResolvedMount[], plan: HostPlan): void {
  const byResource = mounts.filter((m) => m.defaultApplicationGroup);
  const first = byResource[0];
  if (first === undefined) return;
  const serverLevel =
    plan.hosts.length > 0 && byResource.some((m) => m.host === undefined)
      ? ` For a server-level WSGIScriptAlias the main server's name (${plan.mainIdentity}) is used, where mod_wsgi would use the name of each VirtualHost.`
      : '';
  site.notes.add(
    'info',
    `mod_wsgi's default application group is %{RESOURCE}, one sub-interpreter per application named after the server and URL, so ${first.candidate.label} runs in application group '${first.applicationGroup.value}'; wsgi-host keeps these names and gives each application group processes of its own. Add WSGIApplicationGroup %{GLOBAL} (or application-group=%{GLOBAL}) to let the applications of a process group share its processes, which is also what C extensions such as numpy need.${serverLevel}`,
    first.candidate.at,
  );
}

function advisePerHostSettings(site: Site, mounts: ResolvedMount[]): void {
  const byScope = new Map<Scope, string[]>();
  for (const m of mounts) for (const s of m.perHost) byScope.set(s, [...(byScope.get(s) ?? []), m.candidate.label]);
  for (const [s, labels] of byScope) {
    site.notes.refuse(
      `${s.label} at ${at(s.at)} sets mod_wsgi settings that Apache applies, for requests to that host only, to the server-level ${list(labels)}; wsgi-host gives a server-level mount one set of settings for every host, so they are left out: move the WSGIScriptAlias into the VirtualHost to apply them.`,
      s.at,
    );
  }
}

/** Groups without request-timeout or queue-timeout, one note per set of missing options. */
function adviseTimeouts(site: Site): void {
  const g = GroupSettingsSchema.parse({});
  const defaults: [GroupField, string, number][] = [
    ['requestTimeout', 'request-timeout', g.requestTimeout],
    ['queueTimeout', 'queue-timeout', g.queueTimeout],
  ];
  const byMissing = new Map<string, { groups: Site['groups']; missing: typeof defaults }>();
  for (const g of site.groups) {
    const missing = defaults.filter(([field]) => !g.fields.has(field));
    if (missing.length === 0) continue;
    const key = missing.map(([, n]) => n).join(' and ');
    const entry = byMissing.get(key) ?? { groups: [], missing };
    entry.groups.push(g);
    byMissing.set(key, entry);
  }
  for (const [names, { groups, missing }] of byMissing) {
    const values = missing.map(([, n, s]) => `${n} ${s} seconds`).join(' and ');
    const options = missing.map(([, n]) => `${n}=SECONDS`).join(' ');
    const which = groups.length === 1 ? `WSGIDaemonProcess ${groups[0]?.name} sets` : `The WSGIDaemonProcess groups ${list(groups.map((g) => g.name))} set`;
    site.notes.add(
      'info',
      `${which} no ${names}: mod_wsgi then lets requests run and wait without a limit, while wsgi-host applies its defaults (${values}); add ${options} to choose.`,
      (groups[0] as Site['groups'][number]).at,
    );
  }
}

/** 'a', 'a and b', 'a, b and c'. */
function list(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function adviseImportScripts(site: Site, mounts: ResolvedMount[]): void {
  for (const s of site.importScripts) {
    if (mounts.some((m) => m.candidate.script === s.value)) {
      site.notes.add('info', `WSGIImportScript ${s.value} needs no translation: wsgi-host loads each mounted script when its processes start.`, s.at);
    } else {
      site.notes.add(
        'not-honoured',
        `WSGIImportScript ${s.value} is not honoured: wsgi-host loads only the scripts it mounts; import that code from the WSGI script instead.`,
        s.at,
      );
    }
  }
}
