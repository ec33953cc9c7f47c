import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { HttpLimits, ListenerConfig } from '../config/schema.js';
import type { GroupStats } from '../observability/group-stats.js';
import type { Logger } from '../observability/logger.js';
import type { ServePlan } from '../config/plan.js';
import { encodeRequestHead } from '../protocol/request-head.js';
import type { ProcessPool } from '../workers/process-pool.js';
import { type ProbeAnswer, probeHeaders } from '../admin/readiness.js';
import { REQUEST_WINDOW, RESPONSE_WINDOW } from '../workers/supervisor.js';
import { BufferBudget } from './buffer-budget.js';
import { containRequests, noteRequestId } from './containment.js';
import { sendError, sendErrorPage } from './error-response.js';
import { type AppLabel, Exchange, type ExchangeSettings } from './exchange.js';
import { type ConnItem, HttpConnection } from './http-connection.js';
import { REFUSAL_EXPLANATIONS, RefusalCode as C, RequestRefusal } from './http-refusal.js';
import { ReplyPoller } from '../workers/reply-poller.js';
import { type BodySettings, RequestBody } from './request-body.js';
import { checkRequestHead, type RequestFacts, withoutAuthorization } from './request-rules.js';
import { type EncodedSlashes, normalizePath, type TargetError } from './request-target.js';
import { type StaticAlias, serveStatic } from './static-files.js';
import { RequestFacts as ConnectionFields } from './request-facts.js';
import { appDenied, guardStatic, type RouteAccess, routeAccess } from './route-access.js';
import { type MountRoute, Router } from './router.js';

/** What an application mount routes to. */
export interface AppTarget {
  pool: ProcessPool;
  appIndex: number;
  passAuthorization: boolean;
  stats: GroupStats;
  /** Its group and mount point, for log lines. */
  label: AppLabel;
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
}

export function buildRoutes(plan: ServePlan, pools: Map<string, ProcessPool>, statsFor: (label: string) => GroupStats): Routes {
  const app = (m: ServePlan['mounts'][number]): MountRoute<RouteTarget> => {
    const pool = pools.get(m.pool) as ProcessPool;
    const label = { group: pool.label, mount: m.prefix === '' ? '/' : m.prefix };
    const guard = routeAccess(plan, m.path, plan.pools.find((p) => p.key === m.pool)?.apps[m.appIndex]?.target);
    return {
      kind: 'app',
      prefix: m.prefix,
      slash: guard.slash,
      guard,
      target: { pool, appIndex: m.appIndex, passAuthorization: m.passAuthorization, stats: statsFor(pool.label), label },
    };
  };
  const files = (s: ServePlan['statics'][number]): MountRoute<RouteTarget> => {
    const guard = routeAccess(plan, s.path);
    return { kind: 'static', prefix: s.prefix, slash: guard.slash, guard, target: { directory: s.directory, dotfiles: s.dotfiles } };
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
  };
}

/** Request ids: a random prefix per front-end process, then a counter (unique, cheap to make). */
const ID_PREFIX = randomBytes(6).toString('hex');
let idCounter = 0;
function newRequestId(): string {
  return `${ID_PREFIX}-${(idCounter++).toString(36)}`;
}

/** How a node:http parser error is answered (after every response before it). */
function parserRefusal(err: NodeJS.ErrnoException & { reason?: string }): RequestRefusal {
  const what = `${err.code ?? 'parse error'}${err.reason ? `: ${err.reason}` : ''}`;
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new RequestRefusal(C.HEADERS_TOO_LARGE, 431, `the request line and headers are larger than max-header-size (${what})`);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new RequestRefusal(C.BODY_MALFORMED, 413, `chunk extensions too large (${what})`);
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new RequestRefusal(C.HEADERS_TIMEOUT, 408, 'the request headers did not arrive within header-timeout');
    default:
      return new RequestRefusal(C.MALFORMED, 400, what);
  }
}

/** What a normalization failure of the path becomes. */
function targetRefusal(e: TargetError): RequestRefusal {
  switch (e) {
    case 'encoded-slash':
      return new RequestRefusal(C.ENCODED_SLASH, 404, 'an encoded slash (%2F) in the path (allow-encoded-slashes is off)');
    case 'above-root':
      return new RequestRefusal(C.TARGET_ABOVE_ROOT, 400, 'the path climbs above the root with ..');
    case 'bad-escape':
      return new RequestRefusal(C.TARGET_BAD_ESCAPE, 400, 'a malformed %-escape in the path');
    case 'nul':
      return new RequestRefusal(C.TARGET_NUL, 400, 'an encoded NUL (%00) in the path');
    default:
      return new RequestRefusal(C.TARGET_INVALID, 400, 'the request-target is not a path');
  }
}

/** The HTTP side: listeners, connections, request rules, routing, and handing requests to pools. */
export class FrontEnd {
  private routes: Routes;
  private readonly servers = new Map<string, Server>();
  private readonly connections = new Map<Socket, HttpConnection>();
  private readonly settings: ExchangeSettings;
  private readonly bodySettings: BodySettings;
  private readonly budget: BufferBudget;
  private limits: HttpLimits;
  private readonly log: Logger;
  private closing = false;
  private readonly connectionFields = new ConnectionFields();
  inflight = 0;
  /** Health probes on these listeners ([health] on-listeners), answered before routing. */
  probe: ((method: string, path: string) => ProbeAnswer | undefined) | undefined;
  /** After SIGTERM: responses close their connection, so clients reconnect through the balancer. */
  draining = false;

  constructor(routes: Routes, limits: HttpLimits, log: Logger, busyPollUs: number) {
    this.routes = routes;
    this.limits = limits;
    this.log = log;
    this.serveRequest = containRequests(log, this.serve);
    this.settings = {
      log,
      requestWindow: REQUEST_WINDOW,
      responseWindow: RESPONSE_WINDOW,
      poller: new ReplyPoller(busyPollUs),
    };
    this.budget = new BufferBudget(limits.bufferMemory);
    this.bodySettings = { maxBodySize: 0, pace: { gapMs: 0, minRate: 0, graceMs: 0 }, bufferLimit: 0, budget: this.budget };
    this.applyBodyLimits(limits);
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
    this.applyBodyLimits(limits);
    this.settings.poller = new ReplyPoller(busyPollUs);
    for (const s of this.servers.values()) this.applyTimeouts(s);
    for (const c of this.connections.values()) c.setMaxWaiting(limits.maxPipelined);
  }

  private applyBodyLimits(limits: HttpLimits): void {
    const b = this.bodySettings;
    b.maxBodySize = limits.maxBodySize;
    b.pace = { gapMs: limits.bodyTimeout * 1000, minRate: limits.bodyMinRate, graceMs: limits.bodyMinRateGrace * 1000 };
    b.bufferLimit = limits.bufferRequestBody;
    this.budget.setLimit(limits.bufferMemory);
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
          // The Host rules are ours (request-rules.ts), with our error page and log line.
          requireHostHeader: false,
        },
        this.onRequest,
      );
      // A client that half-closes after its request still gets the answer (as Apache and gunicorn
      // give it); node:http's default closes at once. An internal of node:http, set on the instance.
      (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
      // Every header line reaches the rules, which refuse more than max-header-count with 431;
      // node:http's own count limit (2000 fields) drops the rest silently.
      server.maxHeadersCount = 0;
      server.on('checkContinue', this.onRequest);
      server.on('connection', (s: Socket) => {
        this.connections.set(s, new HttpConnection(s, this.limits.maxPipelined, this.serveRequest));
        s.once('close', () => this.connections.delete(s));
      });
      server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.clientError(err, socket));
      server.on('connect', (req: IncomingMessage, socket: Socket) => {
        const c = this.connections.get(socket);
        if (c === undefined) socket.destroy();
        else c.fail(new RequestRefusal(C.METHOD_NOT_ALLOWED, 405, `${req.method} is not supported`));
      });
      this.applyTimeouts(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(l.port, l.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.servers.set(`${l.host}:${l.port}`, server);
      this.connectionFields.listening(l.host, server.address() as AddressInfo);
      out.push(server.address() as AddressInfo);
    }
    return out;
  }

  /** node:http's parser refused the bytes, or the headers timed out: answered in order, then closed. */
  private clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    const c = this.connections.get(socket);
    if (c === undefined || !socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const why = parserRefusal(err);
    this.log.debug(`${socket.remoteAddress}:${socket.remotePort}: ${why.code} (${why.message}); answering ${why.status}`);
    c.fail(why);
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const c = this.connections.get(req.socket);
    if (c !== undefined) c.push(req, res);
    else this.serveRequest(req, res); // never expected: every connection gets its HttpConnection first
  };

  /** Every request is served through here when its turn comes: serve(), guarded (src/frontend/containment.ts). */
  private readonly serveRequest: (req: IncomingMessage, res: ServerResponse) => void;

  /** A request whose turn came on its connection: every response before it was sent. */
  private readonly serve = (req: IncomingMessage, res: ServerResponse): void => {
    const active = this.connections.get(req.socket)?.active;
    const item: ConnItem = active !== undefined && active.res === res ? active : { req, res };
    if (item.bodyError !== undefined) {
      this.refuse(req, res, item.bodyError);
      return;
    }
    const facts = checkRequestHead(req.method as string, req.url as string, req.httpVersionMajor, req.httpVersionMinor, req.rawHeaders, this.limits);
    if (facts instanceof RequestRefusal) {
      this.refuse(req, res, facts);
      return;
    }
    if (this.draining) res.shouldKeepAlive = false;
    const probe = this.probe?.(req.method as string, facts.target.rawPath);
    if (probe !== undefined) {
      res.writeHead(probe.status, probeHeaders(probe.body));
      res.end(probe.body);
      return;
    }
    if (facts.target.form === 'asterisk') {
      // OPTIONS * asks about the server itself (RFC 9110 9.3.7): no application is involved.
      res.writeHead(200, { 'Content-Length': '0' });
      res.end();
      return;
    }
    const requestId = facts.requestId ?? newRequestId();
    noteRequestId(res, requestId);
    this.route(item, facts, requestId);
  };

  /**
   * Routes a request that passed the rules and starts it: a static file, or an application
   * request, whose body is read into memory first when it may be.
   */
  private route(item: ConnItem, facts: RequestFacts, requestId: string): void {
    const { req, res } = item;
    const routes = this.routes;
    const found = this.resolve(req, facts, routes, requestId);
    if (found.kind === 'refused') return this.refuse(req, res, found.why, requestId);
    if (found.kind === 'none') return sendError(res, 404, requestId);
    if (found.kind === 'denied') return sendError(res, 403, requestId);
    if (found.kind === 'static') {
      const { alias, pathInfo } = found;
      return guardStatic(found.guard, req, res, alias.directory, pathInfo, found.path, requestId, () =>
        serveStatic(req, res, alias, pathInfo, req.url as string),
      );
    }
    const { app, head } = found;
    const max = this.limits.maxBodySize;
    if (max > 0 && facts.contentLength > max) {
      this.log.warn({ requestId }, `${req.method} ${req.url}: Content-Length ${facts.contentLength} is over the limit of ${max} bytes; answered 413`);
      res.shouldKeepAlive = false;
      sendError(res, 413, requestId);
      return;
    }
    let ex: Exchange | undefined;
    let body: RequestBody | undefined;
    let buffering = false;
    if (facts.chunked || facts.contentLength > 0) {
      body = new RequestBody(
        req,
        facts.chunked ? -1 : facts.contentLength,
        this.bodySettings,
        (why) => ex?.bodyFailed(why),
        (err) => ex?.bodyError(err),
      );
      item.onBodyError = (why) => body?.broken(why);
      buffering = body.buffer(() => {
        if (ex !== undefined && !ex.gone) this.dispatchBuffered(ex, app, req, facts, routes, requestId);
      });
      // The front end wants the body now: it answers Expect: 100-continue itself.
      if (buffering && facts.expectContinue) res.writeContinue();
    }
    ex = new Exchange(req, res, head, requestId, body, facts.expectContinue && !buffering, this.settings);
    this.inflight++;
    ex.stats = app.stats;
    ex.app = app.label;
    app.stats.started();
    ex.onDone = this.onExchangeDone;
    if (!buffering) this.dispatch(ex, app);
  }

  /** Where a request goes, with its REQUEST head when it goes to an application. */
  private resolve(
    req: IncomingMessage,
    facts: RequestFacts,
    routes: Routes,
    requestId: string,
  ):
    | { kind: 'refused'; why: RequestRefusal }
    | { kind: 'none' }
    | { kind: 'denied' }
    | { kind: 'static'; alias: StaticAlias; pathInfo: string; path: string; guard: RouteAccess }
    | { kind: 'app'; app: AppTarget; head: string } {
    const socket = req.socket;
    const hostIndex = routes.router.hostAt(facts.authority?.name, socket.localAddress, socket.localPort);
    const path = normalizePath(facts.target.rawPath, routes.encodedSlashes[hostIndex] ?? routes.mainEncodedSlashes);
    if (typeof path === 'string') return { kind: 'refused', why: targetRefusal(path) };
    const match = routes.router.matchIn(hostIndex, path.path);
    if (match === undefined) return { kind: 'none' };
    const guard = match.route.guard ?? {};
    if (match.route.kind === 'static') {
      return { kind: 'static', alias: match.route.target as StaticAlias, pathInfo: match.pathInfo, path: path.path, guard };
    }
    if (appDenied(guard, req, path.path, match.pathInfo)) return { kind: 'denied' };
    const app = match.route.target as AppTarget;
    let headers = facts.headers;
    if (facts.hasAuthorization && !app.passAuthorization) headers = withoutAuthorization(headers);
    const authority = facts.authority;
    const head = encodeRequestHead(
      {
        appIndex: app.appIndex,
        method: req.method as string,
        scriptName: match.scriptName,
        pathInfo: match.pathInfo,
        queryString: facts.target.query,
        requestUri: req.url as string,
        protocol: 'HTTP/' + req.httpVersion,
        remoteAddr: socket.remoteAddress as string,
        remotePort: String(socket.remotePort),
        serverName: authority !== undefined && authority.name !== '' ? authority.name : (routes.serverNames[match.host] ?? (socket.localAddress as string)),
        serverPort: authority?.port ?? String(socket.localPort),
        scheme: 'http',
        requestId,
      },
      this.connectionFields.fields(socket) + headers,
    );
    return { kind: 'app', app, head };
  }

  private dispatch(ex: Exchange, app: AppTarget): void {
    ex.queuedAt = Date.now();
    app.pool.dispatch(ex);
  }

  /** The body is in memory (or must stream from here): to the group, routed again if a reload came meanwhile. */
  private dispatchBuffered(ex: Exchange, app: AppTarget, req: IncomingMessage, facts: RequestFacts, routes: Routes, requestId: string): void {
    if (this.routes === routes) {
      this.dispatch(ex, app);
      return;
    }
    const found = this.resolve(req, facts, this.routes, requestId);
    if (found.kind !== 'app') {
      ex.reject(503, 'a reload changed the configuration while the request body arrived, and the URL no longer leads to an application', 1);
      return;
    }
    ex.retarget(found.head);
    this.dispatch(ex, found.app);
  }

  /** A request wsgi-host answers itself (the rules refused it): an error page, then the connection closes. */
  private refuse(req: IncomingMessage, res: ServerResponse, why: RequestRefusal, requestId?: string): void {
    this.log.debug({ requestId }, `${req.method} ${req.url}: ${why.code} (${why.message}); answered ${why.status}`);
    if (why.status !== 404) res.shouldKeepAlive = false;
    sendErrorPage(res, why.status, REFUSAL_EXPLANATIONS[why.status] ?? '', requestId);
  }

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
