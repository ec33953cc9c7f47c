/**
 * The HTTP/1.1 step of a listener: a node:http server that never listens itself. The listener's
 * pipeline (listeners.ts) hands it each connection (a TCP socket, or a TLS socket whose ALPN chose
 * http/1.1) with accept(); each connection gets an HttpConnection (requests served one at a time,
 * in order), parser errors are answered after the responses before them, and the limits node:http
 * enforces itself (header-timeout, keep-alive-timeout, max-header-size) are set here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpLimits } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { ObjectRegistry } from '../util/object-registry.js';
import { type ConnectionChecks, checkConnectionsWhileAny } from './connection-checks.js';
import { HttpConnection } from './http-connection.js';
import { parserRefusal, RefusalCode, RequestRefusal } from './http-refusal.js';

export class Http1Server {
  readonly server: Server;
  private readonly connections: ObjectRegistry<Socket, HttpConnection>;
  private readonly log: Logger;
  private readonly checks: ConnectionChecks;
  private maxPipelined: number;
  private readonly serve: (req: IncomingMessage, res: ServerResponse) => void;

  /** connections: shared by every listener (the front end finds a request's connection there). */
  constructor(
    limits: HttpLimits,
    log: Logger,
    connections: ObjectRegistry<Socket, HttpConnection>,
    serve: (req: IncomingMessage, res: ServerResponse) => void,
  ) {
    this.connections = connections;
    this.log = log;
    this.serve = serve;
    this.maxPipelined = limits.maxPipelined;
    const server = createServer(
      {
        maxHeaderSize: limits.maxHeaderSize,
        headersTimeout: limits.headerTimeout * 1000,
        requestTimeout: 0,
        // How often header-timeout is enforced (Node's default is 30 s).
        connectionsCheckingInterval: 1000,
        keepAliveTimeout: limits.keepAliveTimeout * 1000,
        noDelay: true,
        // The Host rules are ours (request-rules.ts), with our error page and log line.
        requireHostHeader: false,
      },
      this.onRequest,
    );
    this.server = server;
    // A client that half-closes after its request still gets the answer (as Apache and gunicorn
    // give it); node:http's default closes at once. An internal of node:http, set on the instance.
    (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    // Every header line reaches the rules, which refuse more than max-header-count with 431;
    // node:http's own count limit (2000 fields) drops the rest silently.
    server.maxHeadersCount = 0;
    server.on('checkContinue', this.onRequest);
    server.on('connection', (s: Socket) => {
      this.connections.set(s, new HttpConnection(s, this.maxPipelined, this.serve));
      s.once('close', () => this.connections.delete(s));
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.clientError(err, socket));
    server.on('connect', (req: IncomingMessage, socket: Socket) => {
      const c = this.connections.get(socket);
      if (c === undefined) socket.destroy();
      else c.fail(new RequestRefusal(RefusalCode.METHOD_NOT_ALLOWED, 405, `${req.method} is not supported`));
    });
    this.setLimits(limits);
    // header-timeout is checked (every second) while the server has connections, not while idle.
    this.checks = checkConnectionsWhileAny(server);
    // The server is handed its connections instead of accepting them: what node:http starts when
    // it listens (tracking connections, for header-timeout and closeIdleConnections) starts now.
    server.emit('listening');
  }

  /** A connection for this server (TCP, or TLS with http/1.1). */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  /** The limits that can change while serving (a reload); max-header-size cannot. */
  setLimits(limits: HttpLimits): void {
    const server = this.server;
    server.headersTimeout = limits.headerTimeout * 1000;
    server.keepAliveTimeout = limits.keepAliveTimeout * 1000;
    this.maxPipelined = limits.maxPipelined;
  }

  closeIdleConnections(): void {
    this.server.closeIdleConnections();
  }

  closeAllConnections(): void {
    this.server.closeAllConnections();
  }

  /** Stops the connection tracking's timer (the connections themselves are closed as above). */
  close(): void {
    this.checks.close();
    this.server.close();
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
}
