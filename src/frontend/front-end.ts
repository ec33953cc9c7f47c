import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { HttpLimits, ListenerConfig } from '../config/schema.js';
import type { GroupStats } from '../observability/group-stats.js';
import type { Logger } from '../observability/logger.js';
import type { ServePlan } from '../supervisor/plan.js';
import { encodeRequestHead } from '../protocol/request-head.js';
import type { ProcessPool } from '../supervisor/process-pool.js';
import { REQUEST_WINDOW, RESPONSE_WINDOW } from '../supervisor/supervisor.js';
import { sendError } from './error-response.js';
import { Exchange, type ExchangeSettings } from './exchange.js';
import { ReplyPoller } from './reply-poller.js';
import { parseRequestTarget } from './request-target.js';
import { type StaticAlias, serveStatic } from './static-files.js';
import { RequestFacts } from './request-facts.js';
import { appDenied, guardStatic, routeAccess } from './route-access.js';
import { hostName, hostPort, type MountRoute, Router } from './router.js';

/** What an application mount routes to. */
export interface AppTarget {
  pool: ProcessPool;
  appIndex: number;
  passAuthorization: boolean;
  stats: GroupStats;
}

export type RouteTarget = AppTarget | StaticAlias;

export interface Routes {
  router: Router<RouteTarget>;
  /** Server names by host index, for SERVER_NAME when the request has no Host header. */
  serverNames: string[];
}

export function buildRoutes(plan: ServePlan, pools: Map<string, ProcessPool>, statsFor: (label: string) => GroupStats): Routes {
  const app = (m: ServePlan['mounts'][number]): MountRoute<RouteTarget> => {
    const pool = pools.get(m.pool) as ProcessPool;
    const guard = routeAccess(plan, m.path, plan.pools.find((p) => p.key === m.pool)?.apps[m.appIndex]?.target);
    return { kind: 'app', prefix: m.prefix, slash: guard.slash, guard, target: { pool, appIndex: m.appIndex, passAuthorization: m.passAuthorization, stats: statsFor(pool.label) } };
  };
  const files = (s: ServePlan['statics'][number]): MountRoute<RouteTarget> => {
    const guard = routeAccess(plan, s.path);
    return { kind: 'static', prefix: s.prefix, slash: guard.slash, guard, target: { directory: s.directory } };
  };
  const scope = (host: number | undefined): MountRoute<RouteTarget>[] => [
    ...plan.mounts.filter((m) => m.host === host).map(app),
    ...plan.statics.filter((s) => s.host === host).map(files),
  ];
  const hosts = plan.hosts.map((h, i) => ({ names: h.names, addresses: plan.config.host[i]?.addresses, mounts: scope(i) }));
  const global = scope(undefined);
  return { router: new Router(hosts, global, plan.defaultHost), serverNames: plan.hosts.map((h) => h.serverName) };
}

const VALID_REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

/** Request ids: a random prefix per front-end process, then a counter (unique, cheap to make). */
const ID_PREFIX = randomBytes(6).toString('hex');
let idCounter = 0;
function newRequestId(): string {
  return `${ID_PREFIX}-${(idCounter++).toString(36)}`;
}

/** The HTTP side: listeners, request parsing, routing, and handing requests to pools. */
export class FrontEnd {
  private routes: Routes;
  private readonly servers = new Map<string, Server>();
  private readonly sockets = new Set<Socket>();
  private readonly settings: ExchangeSettings;
  private limits: HttpLimits;
  private readonly log: Logger;
  private closing = false;
  private readonly facts = new RequestFacts();
  inflight = 0;

  constructor(routes: Routes, limits: HttpLimits, log: Logger, busyPollUs: number) {
    this.routes = routes;
    this.limits = limits;
    this.log = log;
    this.settings = {
      log,
      requestWindow: REQUEST_WINDOW,
      responseWindow: RESPONSE_WINDOW,
      maxBodySize: limits.maxBodySize,
      bodyTimeoutMs: limits.bodyTimeout * 1000,
      poller: new ReplyPoller(busyPollUs),
    };
  }

  /** Swap in new routes (a reload); requests in flight keep their pools. */
  setRoutes(routes: Routes): void {
    this.routes = routes;
  }

  /** Applies the limits that can change while listening (a reload); max-header-size cannot. */
  setLimits(limits: HttpLimits, busyPollUs: number): void {
    if (limits.maxHeaderSize !== this.limits.maxHeaderSize) {
      this.log.warn('limits.max-header-size changed: it applies when wsgi-host restarts, not on reload');
    }
    this.limits = { ...limits, maxHeaderSize: this.limits.maxHeaderSize };
    this.settings.maxBodySize = limits.maxBodySize;
    this.settings.bodyTimeoutMs = limits.bodyTimeout * 1000;
    this.settings.poller = new ReplyPoller(busyPollUs);
    for (const s of this.servers.values()) this.applyTimeouts(s);
  }

  private applyTimeouts(server: Server): void {
    server.headersTimeout = this.limits.headerTimeout * 1000;
    server.keepAliveTimeout = this.limits.keepAliveTimeout * 1000;
    server.maxConnections = this.limits.maxConnections > 0 ? this.limits.maxConnections : Number.POSITIVE_INFINITY;
  }

  /** Opens listeners that are new in `listeners` and closes those no longer in it (a reload). */
  async updateListeners(listeners: ListenerConfig[]): Promise<string | undefined> {
    const wanted = new Map(listeners.map((l) => [`${l.host}:${l.port}`, l]));
    const removed = [...this.servers.keys()].filter((k) => !wanted.has(k));
    const added = [...wanted.entries()].filter(([k]) => !this.servers.has(k)).map(([, l]) => l);
    for (const k of removed) {
      const s = this.servers.get(k) as Server;
      this.servers.delete(k);
      s.close();
      s.closeIdleConnections();
    }
    if (added.length) await this.listen(added);
    if (!removed.length && !added.length) return undefined;
    return `listening changed: ${added.map((l) => `+${l.host}:${l.port}`).concat(removed.map((k) => `-${k}`)).join(' ')}`;
  }

  async listen(listeners: ListenerConfig[]): Promise<AddressInfo[]> {
    const out: AddressInfo[] = [];
    for (const l of listeners) {
      const server = createServer(
        {
          maxHeaderSize: this.limits.maxHeaderSize,
          headersTimeout: this.limits.headerTimeout * 1000,
          requestTimeout: 0,
          // How often header-timeout is enforced (Node's default is 30 s).
          connectionsCheckingInterval: 1000,
          keepAliveTimeout: this.limits.keepAliveTimeout * 1000,
          noDelay: true,
        },
        this.handle,
      );
      server.on('checkContinue', this.handle);
      server.on('connection', (s: Socket) => {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
      });
      server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.clientError(err, socket));
      this.applyTimeouts(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(l.port, l.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.servers.set(`${l.host}:${l.port}`, server);
      this.facts.listening(l.host, server.address() as AddressInfo);
      out.push(server.address() as AddressInfo);
    }
    return out;
  }

  private clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    let status = 400;
    if (err.code === 'HPE_HEADER_OVERFLOW') status = 431;
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') status = 408;
    this.log.debug(`answered ${status} to ${socket.remoteAddress}:${socket.remotePort} (${err.code ?? err.message})`);
    const reason = STATUS_CODES[status] as string;
    const body = `${status} ${reason}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  private readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const target = parseRequestTarget(req.url as string);
    if (typeof target === 'string') {
      sendError(res, 400);
      return;
    }
    const raw = req.rawHeaders;
    let host: string | undefined;
    let contentLength = '';
    let chunked = false;
    let expect = false;
    let requestId: string | undefined;
    let hasAuthorization = false;
    let headers = '';
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      const value = raw[i + 1] as string;
      switch (name.length) {
        case 4:
          if (host === undefined && name.toLowerCase() === 'host') host = value;
          break;
        case 6:
          if (name.toLowerCase() === 'expect' && value.toLowerCase() === '100-continue') expect = true;
          break;
        case 12:
          if (name.toLowerCase() === 'x-request-id' && VALID_REQUEST_ID.test(value)) requestId = value;
          break;
        case 13:
          if (name.toLowerCase() === 'authorization') hasAuthorization = true;
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') contentLength = value;
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') chunked = true;
          break;
      }
      headers += '\0' + name + '\0' + value;
    }
    requestId ??= newRequestId();
    const match = this.routes.router.match(host, target.path, req.socket.localAddress, req.socket.localPort);
    if (match === undefined) {
      sendError(res, 404, requestId);
      return;
    }
    const guard = match.route.guard ?? {};
    if (match.route.kind === 'static') {
      const alias = match.route.target as StaticAlias;
      guardStatic(guard, req, res, alias.directory, match.pathInfo, target.path, requestId, () => serveStatic(req, res, alias, match.pathInfo, req.url as string));
      return;
    }
    if (appDenied(guard, req, target.path, match.pathInfo)) return sendError(res, 403, requestId);
    const app = match.route.target as AppTarget;
    if (hasAuthorization && !app.passAuthorization) headers = withoutAuthorization(raw);
    const max = this.limits.maxBodySize;
    if (max > 0 && contentLength !== '' && Number(contentLength) > max) {
      this.log.warn({ requestId }, `${req.method} ${req.url}: Content-Length ${contentLength} is over the limit of ${max} bytes; answered 413`);
      res.shouldKeepAlive = false;
      sendError(res, 413, requestId);
      return;
    }
    const socket = req.socket;
    const head = encodeRequestHead(
      {
        appIndex: app.appIndex,
        method: req.method as string,
        scriptName: match.scriptName,
        pathInfo: match.pathInfo,
        queryString: target.query,
        requestUri: req.url as string,
        protocol: 'HTTP/' + req.httpVersion,
        remoteAddr: socket.remoteAddress as string,
        remotePort: String(socket.remotePort),
        serverName: host !== undefined ? hostName(host) : (this.routes.serverNames[match.host] ?? (socket.localAddress as string)),
        serverPort: String((host !== undefined ? hostPort(host) : undefined) ?? socket.localPort),
        scheme: 'http',
        requestId,
      },
      this.facts.fields(socket) + headers,
    );
    const hasBody = chunked || (contentLength !== '' && contentLength !== '0');
    const ex = new Exchange(req, res, head, requestId, hasBody, expect, this.settings);
    this.inflight++;
    ex.stats = app.stats;
    app.stats.started();
    ex.onDone = this.onExchangeDone;
    app.pool.dispatch(ex);
  };

  /** Called for every finished request (the access log). */
  onFinished: ((ex: Exchange) => void) | undefined;

  private readonly onExchangeDone = (ex: Exchange): void => {
    this.inflight--;
    this.onFinished?.(ex);
  };

  /** Stop accepting; close idle connections; wait up to graceMs for requests in flight. */
  async close(graceMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const servers = [...this.servers.values()];
    const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of servers) s.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (this.inflight > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      for (const s of servers) s.closeIdleConnections();
    }
    for (const s of servers) s.closeAllConnections();
    await closed;
  }
}

function withoutAuthorization(raw: string[]): string {
  let headers = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 13 && name.toLowerCase() === 'authorization') continue;
    headers += '\0' + name + '\0' + (raw[i + 1] as string);
  }
  return headers;
}
