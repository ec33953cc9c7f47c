import { hostname } from 'node:os';
import { canonicalAddress } from '../../../util/ip-address.js';
import { parseVhostAddress } from '../../../util/host-port.js';
import { serverIdentity } from '../directives/addresses.js';
import type { HostDecl, Site } from '../directives/site.js';
import { ApacheErrorCode as E, apacheError } from '../errors.js';
import type { Sourced } from '../read/nodes.js';

/**
 * Virtual hosts as Apache has them: one model host per <VirtualHost>, with the addresses it is
 * declared for, so that a connection reaches the hosts of its own address first and then the one
 * its Host header names (src/http/vhost-select.ts). The first VirtualHost is marked default, as
 * it is the first of every address it is declared for.
 */

export interface MergedHost {
  serverName: Sourced<string>;
  aliases: Sourced<string>[];
  decls: HostDecl[];
  /** The <VirtualHost> addresses, normalized ('*:80', '127.0.0.1:8080', '[::1]:443', '10.0.0.5:*'). */
  addresses: string[];
}

export interface HostPlan {
  hosts: MergedHost[];
  /** Output index of each VirtualHost (by declaration index). */
  outIndex: number[];
  /** mod_wsgi's %{SERVER} of each VirtualHost (by declaration index). */
  identity: string[];
  /** %{SERVER} of the main server, for server-level mounts. */
  mainIdentity: string;
  /**
   * The hosts must be told apart by address: they are not all declared for the same addresses,
   * or some listener is not covered by them (its connections go to the main server).
   */
  byAddress: boolean;
}

export function planHosts(site: Site, listeners: { host: string; port: number }[]): HostPlan {
  const hosts: MergedHost[] = [];
  const outIndex: number[] = [];
  const identity: string[] = [];
  const firstPort = listeners[0]?.port;
  for (const decl of site.hosts) {
    const name = hostName(decl, site);
    identity.push(serverIdentity(name.value, decl.serverNamePort ?? decl.addressPort ?? firstPort));
    outIndex.push(hosts.push({ serverName: name, aliases: [...decl.aliases], decls: [decl], addresses: vhostAddresses(decl) }) - 1);
  }
  const main = site.serverName?.value ?? hostname();
  return { hosts, outIndex, identity, mainIdentity: serverIdentity(main, site.serverNamePort ?? firstPort), byAddress: needsAddresses(hosts, listeners) };
}

/** The addresses of a <VirtualHost>, checked and normalized; a name is refused (Apache resolves it once, at start). */
function vhostAddresses(decl: HostDecl): string[] {
  return decl.address
    .split(/\s+/)
    .filter((a) => a !== '')
    .map((text) => {
      const a = parseVhostAddress(text);
      if (typeof a === 'string') {
        throw apacheError(
          E.BAD_VALUE,
          `<VirtualHost ${decl.address}>: ${a}`,
          decl.at,
          '<VirtualHost>',
          'Write the IP address and port, e.g. <VirtualHost *:80> or <VirtualHost 192.0.2.1:80>',
        );
      }
      const ip = a.ip === '*' ? '*' : a.ip.includes(':') ? `[${a.ip}]` : a.ip;
      return `${ip}:${a.port}`;
    });
}

/** Whether every connection would find all the hosts in its set: then names alone tell them apart. */
function needsAddresses(hosts: MergedHost[], listeners: { host: string; port: number }[]): boolean {
  if (hosts.length === 0) return false;
  const key = (h: MergedHost): string => [...new Set(h.addresses)].sort().join(' ');
  const first = key(hosts[0] as MergedHost);
  if (hosts.some((h) => key(h) !== first)) return true;
  const addresses = (hosts[0] as MergedHost).addresses.map((a) => parseVhostAddress(a.replace(/^\[(.*)\]/, '[$1]'))).filter((a) => typeof a !== 'string');
  const covers = (l: { host: string; port: number }): boolean => {
    const wildcardListener = l.host === '0.0.0.0' || l.host === '::' || l.host === '*';
    return addresses.some((a) => (a.port === '*' || a.port === l.port) && (a.ip === '*' || (!wildcardListener && a.ip === canonicalAddress(l.host))));
  };
  return !listeners.every(covers);
}

/** The ServerName of a VirtualHost; without one, Apache uses the main server's name. */
function hostName(decl: HostDecl, site: Site): Sourced<string> {
  if (decl.serverName !== undefined) return decl.serverName;
  const addressHost =
    decl.address
      .split(/\s+/)[0]
      ?.replace(/:(\d+|\*)$/, '')
      .replace(/^\[|\]$/g, '') ?? '*';
  const fallback = site.serverName?.value ?? (addressHost !== '*' && addressHost.toLowerCase() !== '_default_' ? addressHost : hostname());
  site.notes.add(
    'info',
    `<VirtualHost ${decl.address}> has no ServerName: as in Apache, it is named ${fallback}; add a ServerName to choose the name.`,
    decl.at,
  );
  return { value: fallback, at: decl.at };
}

/**
 * The listeners when the configuration has no Listen (Debian keeps them in ports.conf, which a
 * site file does not include): the addresses its VirtualHosts name with a port. None: undefined.
 */
export function listenersFromHosts(site: Site): { host: string; port: number }[] | undefined {
  const out: { host: string; port: number }[] = [];
  for (const decl of site.hosts) {
    for (const text of decl.address.split(/\s+/).filter((a) => a !== '')) {
      const a = parseVhostAddress(text);
      if (typeof a === 'string' || a.port === '*') continue;
      const host = a.ip === '*' ? '0.0.0.0' : a.ip;
      if (!out.some((l) => l.port === a.port && (l.host === host || l.host === '0.0.0.0'))) out.push({ host, port: a.port });
    }
  }
  // A wildcard listener on a port takes the specific addresses of that port (Apache's Listen rule too).
  const kept = out.filter((l) => l.host === '0.0.0.0' || !out.some((w) => w.host === '0.0.0.0' && w.port === l.port));
  return kept.length > 0 ? kept : undefined;
}
