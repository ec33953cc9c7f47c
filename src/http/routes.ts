/**
 * Where a request goes: the routes of one configuration (virtual hosts, application mounts with
 * their group's port, static aliases), and the resolution of one request that passed the rules
 * into a static file, an application request with the head its application sees, or a refusal.
 */
import type { TLSSocket } from 'node:tls';
import type { CompressConfig } from '../config/frontdoor-schema.js';
import type { ServePlan } from '../config/plan.js';
import type { RequestHead, RequestPort } from '../contract/request-port.js';
import { httpsLocation } from '../frontdoor/https-redirect.js';
import type { GroupStats } from '../observability/group-stats.js';
import type { ConnectionFields } from './connection-fields.js';
import type { AppLabel } from './exchange.js';
import { type RequestRefusal, targetRefusal } from './http-refusal.js';
import type { HttpRequest } from './message.js';
import { compileProxyHeaders, type ProxyHeaders, proxiedHeaders, proxyViewOf } from './proxied-request.js';
import { clientAddress, clientPort } from './proxy-protocol-stage.js';
import { type CheckedHead, withoutAuthorization } from './request-rules.js';
import { type EncodedSlashes, normalizePath } from './request-target.js';
import { appDenied, type RouteAccess, routeAccess } from './route-access.js';
import { type MountRoute, Router } from './router.js';
import type { StaticAlias } from './static-files.js';

/** What an application mount routes to. */
export interface AppTarget {
  port: RequestPort;
  appIndex: number;
  passAuthorization: boolean;
  stats: GroupStats;
  /** Its group and mount point, for log lines. */
  label: AppLabel;
  /** Response compression (undefined: off). */
  compress?: CompressConfig;
}

export type RouteTarget = AppTarget | StaticAlias;

export interface Routes {
  router: Router<RouteTarget>;
  /** Server names by host index, for SERVER_NAME when the request has no Host header. */
  serverNames: string[];
  /** AllowEncodedSlashes by host index. */
  encodedSlashes: EncodedSlashes[];
  /** AllowEncodedSlashes where no virtual host is declared for the connection's address (the main server). */
  mainEncodedSlashes: EncodedSlashes;
  /** redirect-to-https by host index. */
  redirectToHttps: boolean[];
  /** trusted-proxies and trusted-proxy-headers (none: no peer is trusted, no header handled). */
  proxies?: ProxyHeaders;
}

/** The routes of a plan, with each group's port (by the plan's pool key) and statistics. */
export function buildRoutes(plan: ServePlan, ports: Map<string, RequestPort>, statsFor: (label: string) => GroupStats): Routes {
  const app = (m: ServePlan['mounts'][number]): MountRoute<RouteTarget> => {
    const port = ports.get(m.pool) as RequestPort;
    const label = { group: port.label, mount: m.prefix === '' ? '/' : m.prefix };
    const guard = routeAccess(plan, m.path, plan.pools.find((p) => p.key === m.pool)?.apps[m.appIndex]?.target);
    return {
      kind: 'app',
      prefix: m.prefix,
      slash: guard.slash,
      guard,
      target: {
        port,
        appIndex: m.appIndex,
        passAuthorization: m.passAuthorization,
        stats: statsFor(port.label),
        label,
        ...(m.compress !== undefined ? { compress: m.compress } : {}),
      },
    };
  };
  const files = (s: ServePlan['statics'][number]): MountRoute<RouteTarget> => {
    const guard = routeAccess(plan, s.path);
    const target: StaticAlias = { directory: s.directory, dotfiles: s.dotfiles, ...(s.compress !== undefined ? { compress: s.compress } : {}) };
    return { kind: 'static', prefix: s.prefix, slash: guard.slash, guard, target };
  };
  const scope = (host: number | undefined): MountRoute<RouteTarget>[] => [
    ...plan.mounts.filter((m) => m.host === host).map(app),
    ...plan.statics.filter((s) => s.host === host).map(files),
  ];
  const hosts = plan.hosts.map((h, i) => ({ names: h.names, addresses: plan.config.host[i]?.addresses, mounts: scope(i) }));
  const global = scope(undefined);
  return {
    router: new Router(hosts, global, plan.defaultHost),
    serverNames: plan.hosts.map((h) => h.serverName),
    // Without [[host]] tables the router has one host: the server-wide setting applies.
    encodedSlashes: plan.hosts.length > 0 ? plan.hosts.map((h) => h.encodedSlashes) : [plan.config.allowEncodedSlashes],
    mainEncodedSlashes: plan.config.allowEncodedSlashes,
    redirectToHttps: plan.config.host.map((h) => h.redirectToHttps),
    proxies: compileProxyHeaders(plan.config.trustedProxies, plan.config.trustedProxyHeaders),
  };
}

export type Resolved =
  | { kind: 'refused'; why: RequestRefusal }
  | { kind: 'none' }
  | { kind: 'denied' }
  /** client: the client's address, for the access rules (as resolveRequest's doc says). */
  | { kind: 'static'; alias: StaticAlias; pathInfo: string; path: string; guard: RouteAccess; client: string }
  | { kind: 'app'; app: AppTarget; head: RequestHead }
  /** redirect-to-https: the Location for the HTTPS listener's port (undefined: none is open). */
  | { kind: 'redirect'; location: (httpsPort: number | undefined) => string | undefined };

/**
 * Where a request goes, with the head its application sees when it goes to one. The virtual host is
 * the one of the Host received (as Apache routes), never a forwarded host. The client (REMOTE_ADDR,
 * REMOTE_PORT, the address access rules check) is the connection's peer, or the client its PROXY
 * header names, or, from a trusted proxy, the one its trusted header names (proxied-request.ts),
 * which also gives the scheme, HTTP_HOST, SERVER_NAME, SERVER_PORT and SCRIPT_NAME it is trusted for.
 */
export function resolveRequest(req: HttpRequest, checked: CheckedHead, routes: Routes, requestId: string, fields: ConnectionFields): Resolved {
  const socket = req.socket;
  const hostIndex = routes.router.hostAt(checked.authority?.name, socket.localAddress, socket.localPort);
  const view = proxyViewOf(routes.proxies, socket, req.rawHeaders);
  // The scheme a trusted proxy received the request with, else this connection's: behind a proxy
  // that terminates TLS, redirect-to-https never loops.
  const scheme = view?.scheme ?? ((socket as TLSSocket).encrypted === true ? 'https' : 'http');
  if (scheme === 'http' && routes.redirectToHttps[hostIndex] === true) return redirectOf(req, checked, routes, hostIndex);
  const path = normalizePath(checked.target.rawPath, routes.encodedSlashes[hostIndex] ?? routes.mainEncodedSlashes);
  if (typeof path === 'string') return { kind: 'refused', why: targetRefusal(path) };
  const match = routes.router.matchIn(hostIndex, path.path);
  if (match === undefined) return { kind: 'none' };
  const guard = match.route.guard ?? {};
  const client = view?.remoteAddr ?? clientAddress(socket);
  if (match.route.kind === 'static') {
    return { kind: 'static', alias: match.route.target as StaticAlias, pathInfo: match.pathInfo, path: path.path, guard, client };
  }
  if (appDenied(guard, req, path.path, match.pathInfo, client)) return { kind: 'denied' };
  const app = match.route.target as AppTarget;
  let headers = checked.headers;
  if (checked.hasAuthorization && !app.passAuthorization) headers = withoutAuthorization(headers);
  if (view !== undefined) headers = proxiedHeaders(headers, view);
  const authority = checked.authority;
  const head: RequestHead = {
    appIndex: app.appIndex,
    method: req.method as string,
    scriptName: view?.scriptName ?? match.scriptName,
    pathInfo: match.pathInfo,
    queryString: checked.target.query,
    requestUri: req.url as string,
    protocol: 'HTTP/' + req.httpVersion,
    remoteAddr: client,
    // A header that names the address without a port leaves the connection's (as mod_wsgi does).
    remotePort: view?.remotePort ?? String(clientPort(socket)),
    serverName:
      view?.serverName ??
      (authority !== undefined && authority.name !== '' ? authority.name : (routes.serverNames[match.host] ?? (socket.localAddress as string))),
    serverPort: view?.serverPort ?? authority?.port ?? String(socket.localPort),
    scheme,
    requestId,
    headers: fields.fields(req) + headers,
  };
  return { kind: 'app', app, head };
}

function redirectOf(req: HttpRequest, checked: CheckedHead, routes: Routes, hostIndex: number): Resolved {
  const name = checked.authority?.name;
  const serverName = routes.serverNames[hostIndex] ?? '';
  const hostMatched = routes.router.hasName(hostIndex, name);
  return {
    kind: 'redirect',
    location: (httpsPort) =>
      httpsPort === undefined ? undefined : httpsLocation({ host: checked.hostValue, hostMatched, serverName, httpsPort, requestUri: req.url as string }),
  };
}
