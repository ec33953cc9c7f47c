import { hostname } from 'node:os';
import { serverIdentity } from '../directives/addresses.js';
import type { HostDecl, Site } from '../directives/site.js';
import { at } from '../errors.js';
import type { Sourced } from '../read/nodes.js';

/**
 * Virtual hosts as wsgi-host has them: by name only. VirtualHosts with one ServerName (the usual
 * :80 and :443 pair) become one host; the first VirtualHost is the default one, as in Apache.
 */

export interface MergedHost {
  serverName: Sourced<string>;
  aliases: Sourced<string>[];
  decls: HostDecl[];
}

export interface HostPlan {
  hosts: MergedHost[];
  /** Output index of each VirtualHost (by declaration index). */
  outIndex: number[];
  /** mod_wsgi's %{SERVER} of each VirtualHost (by declaration index). */
  identity: string[];
  /** %{SERVER} of the main server, for server-level mounts. */
  mainIdentity: string;
}

export function planHosts(site: Site): HostPlan {
  const hosts: MergedHost[] = [];
  const outIndex: number[] = [];
  const identity: string[] = [];
  const firstPort = site.listen[0]?.value.port;
  for (const decl of site.hosts) {
    const name = hostName(decl, site);
    identity.push(serverIdentity(name.value, decl.serverNamePort ?? decl.addressPort ?? firstPort));
    const same = hosts.findIndex((h) => h.serverName.value.toLowerCase() === name.value.toLowerCase());
    if (same >= 0) {
      joinHost(hosts[same] as MergedHost, decl, site);
      outIndex.push(same);
    } else {
      outIndex.push(hosts.push({ serverName: name, aliases: [...decl.aliases], decls: [decl] }) - 1);
    }
  }
  const main = site.serverName?.value ?? hostname();
  return { hosts, outIndex, identity, mainIdentity: serverIdentity(main, site.serverNamePort ?? firstPort) };
}

function joinHost(host: MergedHost, decl: HostDecl, site: Site): void {
  const first = host.decls[0] as HostDecl;
  host.decls.push(decl);
  for (const a of decl.aliases) {
    if (!host.aliases.some((x) => x.value.toLowerCase() === a.value.toLowerCase())) host.aliases.push(a);
  }
  site.notes.add('info', `<VirtualHost ${decl.address}> has the same ServerName (${host.serverName.value}) as <VirtualHost ${first.address}> at ${at(first.at)}: wsgi-host tells hosts apart by name only, so the two are served as one host; where both map the same URL, the first one is kept.`, decl.at);
}

/** The ServerName of a VirtualHost; without one, Apache uses the main server's name. */
function hostName(decl: HostDecl, site: Site): Sourced<string> {
  if (decl.serverName !== undefined) return decl.serverName;
  const addressHost = decl.address.split(/\s+/)[0]?.replace(/:\d+$/, '').replace(/^\[|\]$/g, '') ?? '*';
  const fallback = site.serverName?.value ?? (addressHost !== '*' && addressHost !== '_default_' ? addressHost : hostname());
  site.notes.add('info', `<VirtualHost ${decl.address}> has no ServerName: as in Apache, it is named ${fallback}; add a ServerName to choose the name.`, decl.at);
  return { value: fallback, at: decl.at };
}
