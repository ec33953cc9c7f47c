/**
 * Virtual host and mount matching. A mount prefix matches at a segment boundary only ('/app'
 * matches '/app' and '/app/x', not '/apple'); the longest matching prefix wins, a host's own mounts
 * before the server-wide ones on a tie. SCRIPT_NAME is the prefix ('' for '/'), PATH_INFO the rest.
 */
export interface MountRoute<T> {
  kind: 'app' | 'static';
  /** Normalized prefix without a trailing slash; '' for the root. */
  prefix: string;
  target: T;
}

export interface HostRoutes<T> {
  /** Lower-case names and aliases; '*.example.com' style wildcards allowed. */
  names: string[];
  mounts: MountRoute<T>[];
}

export interface RouteMatch<T> {
  route: MountRoute<T>;
  scriptName: string;
  pathInfo: string;
  host: number;
}

interface CompiledHost<T> {
  exact: Set<string>;
  wildcards: RegExp[];
  mounts: MountRoute<T>[];
}

export function normalizePrefix(prefix: string): string {
  let p = prefix.trim().replace(/\/{2,}/g, '/');
  if (!p.startsWith('/')) p = '/' + p;
  while (p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

export class Router<T> {
  private readonly hosts: CompiledHost<T>[];
  private readonly defaultHost: number;
  private readonly hostCache = new Map<string, number>();

  /** hosts[defaultHost] answers when no name matches; global mounts apply in every host. */
  constructor(hosts: HostRoutes<T>[], globalMounts: MountRoute<T>[], defaultHost = 0) {
    const all = hosts.length > 0 ? hosts : [{ names: [], mounts: [] }];
    this.hosts = all.map((h) => ({
      exact: new Set(h.names.filter((n) => !n.includes('*')).map((n) => n.toLowerCase())),
      wildcards: h.names.filter((n) => n.includes('*')).map(wildcard),
      // Stable sort: longest prefix first, the host's own mounts before global ones on a tie.
      mounts: [...h.mounts, ...globalMounts]
        .map((m) => ({ ...m, prefix: normalizePrefix(m.prefix) }))
        .sort((a, b) => b.prefix.length - a.prefix.length),
    }));
    this.defaultHost = defaultHost;
  }

  /** Index of the virtual host for a Host header value (port and case ignored). */
  hostIndex(hostHeader: string | undefined): number {
    if (this.hosts.length === 1 || hostHeader === undefined) return this.defaultHost;
    const cached = this.hostCache.get(hostHeader);
    if (cached !== undefined) return cached;
    const name = hostName(hostHeader).toLowerCase();
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

  match(hostHeader: string | undefined, path: string): RouteMatch<T> | undefined {
    return this.matchIn(this.hostIndex(hostHeader), path);
  }

  /** The mount for a normalized path in the host of that index (from hostIndex). */
  matchIn(host: number, path: string): RouteMatch<T> | undefined {
    const mounts = (this.hosts[host] as CompiledHost<T>).mounts;
    for (let i = 0; i < mounts.length; i++) {
      const m = mounts[i] as MountRoute<T>;
      const p = m.prefix;
      if (p === '' || (path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === 47))) {
        return { route: m, scriptName: p, pathInfo: path.slice(p.length), host };
      }
    }
    return undefined;
  }
}

/** The name part of a Host header: 'example.com:8000' -> 'example.com', '[::1]:80' -> '[::1]'. */
export function hostName(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** The port part of a Host header, or undefined. */
export function hostPort(host: string): string | undefined {
  const close = host.startsWith('[') ? host.indexOf(']') : -1;
  const colon = host.indexOf(':', close + 1);
  if (colon === -1) return undefined;
  const port = host.slice(colon + 1);
  return /^\d+$/.test(port) ? port : undefined;
}

function wildcard(pattern: string): RegExp {
  const re = pattern
    .toLowerCase()
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${re}$`);
}
