import { normalizePrefix } from '../config/url-prefix.js';
import { hostNameOf } from './host-header.js';
import type { RouteAccess } from './route-access.js';
import { MAIN_SERVER, VhostTable } from './vhost-select.js';

/**
 * Virtual host and mount matching. A mount prefix matches at a segment boundary only ('/app'
 * matches '/app' and '/app/x', not '/apple'); the longest matching prefix wins, a host's own mounts
 * before the server-wide ones on a tie. SCRIPT_NAME is the prefix ('' for '/'), PATH_INFO the rest.
 */
export interface MountRoute<T> {
  kind: 'app' | 'static';
  /** Normalized prefix without a trailing slash; '' for the root. */
  prefix: string;
  /** The prefix was written with a trailing slash (Apache's `Alias /static/ ...`): it matches only below it, never the prefix itself. */
  slash?: boolean | undefined;
  /** Access rules and what they match (route-access.ts). */
  guard?: RouteAccess;
  target: T;
}

export interface HostRoutes<T> {
  /** Lower-case names and aliases; '*.example.com' style wildcards allowed. */
  names: string[];
  mounts: MountRoute<T>[];
  /** The addresses the host is declared for ('127.0.0.1:8080', '*:80'): see vhost-select.ts. */
  addresses?: readonly string[] | undefined;
}

export interface RouteMatch<T> {
  route: MountRoute<T>;
  scriptName: string;
  pathInfo: string;
  /** The virtual host; MAIN_SERVER (-1) when no host is declared for the connection's address. */
  host: number;
}

interface CompiledHost<T> {
  exact: Set<string>;
  wildcards: RegExp[];
  mounts: MountRoute<T>[];
}

export class Router<T> {
  private readonly hosts: CompiledHost<T>[];
  private readonly defaultHost: number;
  private readonly hostCache = new Map<string, number>();
  /** Hosts told apart by address too (some host has addresses). */
  private readonly byAddress: VhostTable | undefined;
  private readonly mainMounts: MountRoute<T>[];

  /** hosts[defaultHost] answers when no name matches; global mounts apply in every host. */
  constructor(hosts: HostRoutes<T>[], globalMounts: MountRoute<T>[], defaultHost = 0) {
    this.byAddress = hosts.some((h) => (h.addresses?.length ?? 0) > 0)
      ? new VhostTable(hosts.map((h, i) => ({ names: h.names, addresses: h.addresses, default: i === defaultHost })))
      : undefined;
    this.mainMounts = sortMounts(globalMounts);
    const all = hosts.length > 0 ? hosts : [{ names: [], mounts: [] }];
    this.hosts = all.map((h) => ({
      exact: new Set(h.names.filter((n) => !n.includes('*')).map((n) => n.toLowerCase())),
      wildcards: h.names.filter((n) => n.includes('*')).map(wildcard),
      // Stable sort: longest prefix first, the host's own mounts before global ones on a tie.
      mounts: sortMounts([...h.mounts, ...globalMounts]),
    }));
    this.defaultHost = defaultHost;
  }

  /** Index of the virtual host for a Host header value (port and case ignored). */
  hostIndex(hostHeader: string | undefined): number {
    if (this.hosts.length === 1 || hostHeader === undefined) return this.defaultHost;
    const cached = this.hostCache.get(hostHeader);
    if (cached !== undefined) return cached;
    const name = hostNameOf(hostHeader);
    let found = this.defaultHost;
    for (let i = 0; i < this.hosts.length; i++) {
      const h = this.hosts[i] as CompiledHost<T>;
      if (h.exact.has(name) || h.wildcards.some((w) => w.test(name))) {
        found = i;
        break;
      }
    }
    if (this.hostCache.size > 1000) this.hostCache.clear();
    this.hostCache.set(hostHeader, found);
    return found;
  }

  /** The virtual host for a connection's local address and port and its Host header (Apache's rules). */
  hostAt(hostHeader: string | undefined, localAddress: string | undefined, localPort: number | undefined): number {
    if (this.byAddress === undefined || localAddress === undefined || localPort === undefined) return this.hostIndex(hostHeader);
    const key = `${localAddress}|${localPort}|${hostHeader ?? ''}`;
    const cached = this.hostCache.get(key);
    if (cached !== undefined) return cached;
    const found = this.byAddress.select(localAddress, localPort, hostHeader);
    if (this.hostCache.size > 1000) this.hostCache.clear();
    this.hostCache.set(key, found);
    return found;
  }

  match(hostHeader: string | undefined, path: string, localAddress?: string, localPort?: number): RouteMatch<T> | undefined {
    return this.matchIn(this.hostAt(hostHeader, localAddress, localPort), path);
  }

  /** The mount for a normalized path in the host of that index (from hostAt; MAIN_SERVER for the main server). */
  matchIn(host: number, path: string): RouteMatch<T> | undefined {
    const mounts = host === MAIN_SERVER ? this.mainMounts : (this.hosts[host] as CompiledHost<T>).mounts;
    for (let i = 0; i < mounts.length; i++) {
      const m = mounts[i] as MountRoute<T>;
      const p = m.prefix;
      if (p === '' || (path.startsWith(p) && (path.length === p.length ? m.slash !== true : path.charCodeAt(p.length) === 47))) {
        return { route: m, scriptName: p, pathInfo: path.slice(p.length), host };
      }
    }
    return undefined;
  }
}

/** Longest prefix first (stable: a host's own mounts before global ones on a tie). */
function sortMounts<T>(mounts: MountRoute<T>[]): MountRoute<T>[] {
  return mounts.map((m) => ({ ...m, prefix: normalizePrefix(m.prefix) })).sort((a, b) => b.prefix.length - a.prefix.length);
}

function wildcard(pattern: string): RegExp {
  const re = pattern
    .toLowerCase()
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${re}$`);
}
