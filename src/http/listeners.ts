/**
 * The HTTP/1.1 listeners (node:http servers) and their connections: each connection gets an
 * HttpConnection (requests served one at a time, in order), parser errors are answered after the
 * responses before them, and the limits that node:http enforces itself (header-timeout,
 * keep-alive-timeout, max-connections, max-header-size) are set here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { HttpLimits, ListenerConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { HttpConnection } from './http-connection.js';
import { RefusalCode, RequestRefusal, parserRefusal } from './http-refusal.js';

export class HttpListeners {
  private readonly servers = new Map<string, Server>();
  readonly connections = new Map<Socket, HttpConnection>();
  private limits: HttpLimits;
  private readonly log: Logger;
  /** Serves a request whose turn came on its connection. */
  private readonly serve: (req: IncomingMessage, res: ServerResponse) => void;
  /** A listener is bound (for mod_wsgi.listener_host). */
  private readonly bound: (host: string, address: AddressInfo) => void;

  constructor(
    limits: HttpLimits,
    log: Logger,
    serve: (req: IncomingMessage, res: ServerResponse) => void,
    bound: (host: string, address: AddressInfo) => void,
  ) {
    this.limits = limits;
    this.log = log;
    this.serve = serve;
    this.bound = bound;
  }

  /** Applies the limits that can change while listening (a reload); max-header-size cannot. */
  setLimits(limits: HttpLimits): void {
    this.limits = limits;
    for (const s of this.servers.values()) this.applyTimeouts(s);
    for (const c of this.connections.values()) c.setMaxWaiting(limits.maxPipelined);
  }

  private applyTimeouts(server: Server): void {
    server.headersTimeout = this.limits.headerTimeout * 1000;
    server.keepAliveTimeout = this.limits.keepAliveTimeout * 1000;
    server.maxConnections = this.limits.maxConnections > 0 ? this.limits.maxConnections : Number.POSITIVE_INFINITY;
  }

  /** Opens listeners that are new in `listeners` and closes those no longer in it (a reload). */
  async update(listeners: ListenerConfig[]): Promise<string | undefined> {
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
    return `listening changed: ${added
      .map((l) => `+${l.host}:${l.port}`)
      .concat(removed.map((k) => `-${k}`))
      .join(' ')}`;
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
      this.applyTimeouts(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(l.port, l.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.servers.set(`${l.host}:${l.port}`, server);
      this.bound(l.host, server.address() as AddressInfo);
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
    else this.serve(req, res); // never expected: every connection gets its HttpConnection first
  };

  /** Stop accepting; close idle connections; wait up to graceMs while busy() says requests are in flight. */
  async close(graceMs: number, busy: () => boolean): Promise<void> {
    const servers = [...this.servers.values()];
    const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
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
