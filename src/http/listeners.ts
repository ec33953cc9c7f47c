/**
 * The HTTP/1.1 listeners (node:http servers) and their connections: each connection gets an
 * HttpConnection (requests served one at a time, in order), parser errors are answered after the
 * responses before them, and the limits that node:http enforces itself (header-timeout,
 * keep-alive-timeout, max-connections, max-header-size) are set here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { HttpLimits, ListenerConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { HttpConnection } from './http-connection.js';
import { RefusalCode, RequestRefusal, parserRefusal } from './http-refusal.js';
import { proxyProtocolStage } from './proxy-protocol-stage.js';

export class HttpListeners {
  private readonly servers = new Map<string, Server>();
  /** The server that accepts, by listener: the HTTP server itself, or the PROXY protocol stage in front of it. */
  private readonly fronts = new Map<string, NetServer>();
  /** The settings each listener was opened with (some apply only when wsgi-host restarts). */
  private readonly opened = new Map<string, ListenerConfig>();
  readonly connections = new Map<Socket, HttpConnection>();
  private limits: HttpLimits;
  private readonly log: Logger;
  /** Serves a request whose turn came on its connection. */
  private readonly serve: (req: IncomingMessage, res: ServerResponse) => void;
  /** A listener is bound (for mod_wsgi.listener_host). */
  private readonly bound: (host: string, address: AddressInfo) => void;
  /** Whether a peer is a trusted proxy (trusted-proxies of the running configuration). */
  private readonly trustedPeer: (address: string | undefined) => boolean;

  constructor(
    limits: HttpLimits,
    log: Logger,
    serve: (req: IncomingMessage, res: ServerResponse) => void,
    bound: (host: string, address: AddressInfo) => void,
    trustedPeer: (address: string | undefined) => boolean = () => false,
  ) {
    this.limits = limits;
    this.log = log;
    this.serve = serve;
    this.bound = bound;
    this.trustedPeer = trustedPeer;
  }

  /** Applies the limits that can change while listening (a reload); max-header-size cannot. */
  setLimits(limits: HttpLimits): void {
    this.limits = limits;
    for (const [k, s] of this.servers) this.applyTimeouts(s, this.fronts.get(k) ?? s);
    for (const c of this.connections.values()) c.setMaxWaiting(limits.maxPipelined);
  }

  private applyTimeouts(server: Server, front: NetServer): void {
    server.headersTimeout = this.limits.headerTimeout * 1000;
    server.keepAliveTimeout = this.limits.keepAliveTimeout * 1000;
    front.maxConnections = this.limits.maxConnections > 0 ? this.limits.maxConnections : Number.POSITIVE_INFINITY;
  }

  /** Opens listeners that are new in `listeners` and closes those no longer in it (a reload). */
  async update(listeners: ListenerConfig[]): Promise<string | undefined> {
    const wanted = new Map(listeners.map((l) => [`${l.host}:${l.port}`, l]));
    const removed = [...this.servers.keys()].filter((k) => !wanted.has(k));
    const added = [...wanted.entries()].filter(([k]) => !this.servers.has(k)).map(([, l]) => l);
    for (const k of removed) {
      const s = this.servers.get(k) as Server;
      const front = this.fronts.get(k) ?? s;
      this.servers.delete(k);
      this.fronts.delete(k);
      this.opened.delete(k);
      if (front !== s) front.close();
      s.close();
      s.closeIdleConnections();
    }
    if (added.length) await this.listen(added);
    // A listener kept across the reload keeps how it accepts: another socket cannot bind its port meanwhile.
    const kept = [...wanted].filter(([k, l]) => this.opened.has(k) && this.opened.get(k)?.proxyProtocol !== l.proxyProtocol).map(([k]) => k);
    const restart = kept.length ? `proxy-protocol of ${kept.join(', ')} changes when wsgi-host restarts, not on reload` : '';
    if (!removed.length && !added.length) return restart || undefined;
    return `listening changed: ${added
      .map((l) => `+${l.host}:${l.port}`)
      .concat(removed.map((k) => `-${k}`))
      .join(' ')}${restart ? `; ${restart}` : ''}`;
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
        this.connections.set(s, new HttpConnection(s, this.limits.maxPipelined, this.serve));
        s.once('close', () => this.connections.delete(s));
      });
      server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.clientError(err, socket));
      server.on('connect', (req: IncomingMessage, socket: Socket) => {
        const c = this.connections.get(socket);
        if (c === undefined) socket.destroy();
        else c.fail(new RequestRefusal(RefusalCode.METHOD_NOT_ALLOWED, 405, `${req.method} is not supported`));
      });
      // The accept pipeline: [PROXY header] -> HTTP.
      const front = l.proxyProtocol
        ? proxyProtocolStage(server, { trusted: this.trustedPeer, headerTimeoutMs: () => this.limits.headerTimeout * 1000, log: this.log })
        : server;
      this.applyTimeouts(server, front);
      await new Promise<void>((resolve, reject) => {
        front.once('error', reject);
        front.listen(l.port, l.host, () => {
          front.off('error', reject);
          resolve();
        });
      });
      const key = `${l.host}:${l.port}`;
      this.servers.set(key, server);
      if (front !== server) this.fronts.set(key, front);
      this.opened.set(key, l);
      this.bound(l.host, front.address() as AddressInfo);
      out.push(front.address() as AddressInfo);
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
    else this.serve(req, res); // never expected: every connection gets its HttpConnection first
  };

  /** Stop accepting; close idle connections; wait up to graceMs while busy() says requests are in flight. */
  async close(graceMs: number, busy: () => boolean): Promise<void> {
    const servers = [...this.servers.values()];
    const fronts = [...this.fronts.values()];
    const closed = Promise.all([...servers, ...fronts].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of servers) s.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (busy() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      for (const s of servers) s.closeIdleConnections();
    }
    for (const s of servers) s.closeAllConnections();
    await closed;
  }
}
