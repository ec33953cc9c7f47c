import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkConnectionsWhileAny } from '../http/connection-checks.js';
import type { Logger } from '../observability/logger.js';
import { type AdminAddress, describeAdmin, isLoopback } from './admin-address.js';
import { ADMIN_BODY_LIMIT, declaredTooLarge, hasBody, readBody, RequestAbortedError } from './admin-body.js';
import { pingSocket } from './admin-client.js';
import { AdminError, AdminErrorCode as A } from './admin-errors.js';
import { crossSiteProblem, hostProblem, tokenMatches } from './admin-guard.js';
import { checkSocketPath } from './runtime-folder.js';

/** A route's handler; `body` is empty unless the route takes one. */
export type AdminRoute = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void> | void;

interface RouteEntry {
  handler: AdminRoute;
  /** Bytes of body the route reads at most (0: it takes none). */
  maxBody: number;
  /** Answered without the token (health probes: they say only ok or not). */
  open: boolean;
}

export interface AdminServerOptions {
  /** The fix printed when another server already answers on the socket. */
  alreadyServingHint?: string;
  /** The socket is in the private runtime folder: make it 0600. */
  privateSocket?: boolean;
}

/**
 * The admin listener: reload, status and metrics. On a unix socket or loopback address by default;
 * anywhere else, every request must carry the token (Authorization: Bearer TOKEN).
 *
 * Every request goes through `dispatch`, the one guarded place: whatever a route or a client does
 * (an error, a reset in the middle of a body, a body too large), that request fails (500, 413 or a
 * closed connection) and is logged; nothing reaches the process.
 */
export class AdminServer {
  private server: Server | undefined;
  private readonly routes = new Map<string, RouteEntry>();
  private readonly address: AdminAddress;
  private readonly token: string | undefined;
  private readonly log: Logger;
  private readonly options: AdminServerOptions;
  /** The bound port of a loopback TCP listener: requests must name it in Host. */
  private loopbackPort: number | undefined;

  constructor(address: AdminAddress, token: string | undefined, log: Logger, options: AdminServerOptions = {}) {
    this.address = address;
    this.token = token;
    this.log = log;
    this.options = options;
    if (address.kind === 'tcp' && !isLoopback(address.host) && token === undefined) {
      throw new AdminError(A.TOKEN_REQUIRED, `the admin listener ${describeAdmin(address)} is not a loopback address and has no token`, {
        hint: 'Set admin.token or --admin-token-file (anyone who can reach it could reload the server and read its status), or listen on 127.0.0.1 or a unix socket',
      });
    }
  }

  /**
   * A route; it takes no request body unless `maxBody` says how much (at most ADMIN_BODY_LIMIT).
   * `open`: answered without the token (the Host check still applies); only for routes that
   * reveal nothing and change nothing.
   */
  route(method: string, path: string, handler: AdminRoute, options: { maxBody?: number; open?: boolean } = {}): void {
    this.routes.set(`${method} ${path}`, {
      handler,
      maxBody: Math.min(options.maxBody ?? 0, ADMIN_BODY_LIMIT),
      open: options.open === true && (method === 'GET' || method === 'HEAD'),
    });
  }

  async listen(): Promise<string | undefined> {
    const a = this.address;
    if (a.kind === 'off') return undefined;
    // Bounded: a request must arrive whole within 30 s (headers within 10 s); few connections at once.
    const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, connectionsCheckingInterval: 2_000 }, (req, res) => this.dispatch(req, res));
    server.maxConnections = 64;
    checkConnectionsWhileAny(server); // its timeouts are checked while it has connections, not while idle
    if (a.kind === 'unix' && checkSocketPath(a.path)) {
      if (await pingSocket(a.path)) {
        throw new AdminError(A.ALREADY_SERVING, `another wsgi-host already serves this configuration (its admin socket ${a.path} answers)`, {
          hint: this.options.alreadyServingHint ?? 'Stop it first, or reload it: wsgi-host reload with the same configuration',
        });
      }
      unlinkSync(a.path); // our own socket, left behind by a server that died
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (a.kind === 'unix') server.listen(a.path, () => resolve());
      else server.listen(a.port, a.host, () => resolve());
    });
    server.on('error', (err) => this.log.error({ err }, 'admin listener error'));
    this.server = server;
    if (a.kind === 'unix') {
      if (this.options.privateSocket) chmodSync(a.path, 0o600);
      return describeAdmin(a);
    }
    const bound = (server.address() as AddressInfo).port;
    if (isLoopback(a.host)) this.loopbackPort = bound;
    return describeAdmin({ kind: 'tcp', host: a.host, port: bound });
  }

  /** The one guarded place: any error in handling an admin request fails that request, never the process. */
  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => undefined); // a reset is seen as RequestAbortedError by readBody, or not at all
    res.on('error', () => undefined);
    let handled: Promise<void>;
    try {
      handled = this.handle(req, res);
    } catch (err) {
      handled = Promise.reject(err);
    }
    handled.catch((err: unknown) => {
      try {
        this.fail(req, res, err);
      } catch {
        res.destroy();
      }
    });
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const what = `admin ${req.method} ${(req.url ?? '').slice(0, 200)}`;
    if (err instanceof RequestAbortedError || req.socket.destroyed) {
      this.log.debug(`${what}: the client went away`);
      res.destroy();
      return;
    }
    this.log.error({ err }, `${what} failed`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = `500: ${(err as Error)?.message ?? String(err)}\n`;
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    res.end(body);
  }

  /** An answer before the request was read: the connection closes when a body was left unread. */
  private refuse(req: IncomingMessage, res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
    const body = `${status} ${text}\n`;
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      ...(hasBody(req) ? { Connection: 'close' } : {}),
      ...headers,
    });
    res.end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] as string;
    if (this.loopbackPort !== undefined) {
      const problem = hostProblem(req.headers.host, this.loopbackPort);
      if (problem !== undefined) return this.refuse(req, res, 421, `Misdirected Request: ${problem}`);
    }
    const route = this.routes.get(`${method} ${path}`);
    if (route === undefined) {
      const allowed = [...this.routes.keys()].filter((k) => k.endsWith(` ${path}`)).map((k) => k.split(' ')[0] as string);
      if (allowed.length > 0) return this.refuse(req, res, 405, `Method Not Allowed: ${path} takes ${allowed.join(', ')}`, { Allow: allowed.join(', ') });
      return this.refuse(req, res, 404, `Not Found: no admin route ${method} ${path}`);
    }
    // A route that takes no body never reads one; a body over the limit is refused unread.
    if ((route.maxBody === 0 && hasBody(req) && req.headers['content-length'] !== undefined) || declaredTooLarge(req, route.maxBody)) {
      return this.refuse(req, res, 413, `Content Too Large: ${method} ${path} takes ${route.maxBody === 0 ? 'no body' : `at most ${route.maxBody} bytes`}`);
    }
    // The status page itself holds no data (it asks for the token, then polls /status with it).
    const open = route.open || (method === 'GET' && (path === '/' || path === '/ping'));
    if (this.token !== undefined && !open && !tokenMatches(req.headers.authorization, this.token)) {
      return this.refuse(req, res, 401, 'Unauthorized: the admin listener needs its token (Authorization: Bearer TOKEN)', { 'WWW-Authenticate': 'Bearer' });
    }
    if (method !== 'GET' && method !== 'HEAD') {
      const problem = crossSiteProblem(req.headers);
      if (problem !== undefined) return this.refuse(req, res, 403, `Forbidden: ${problem}`);
    }
    const body = await readBody(req, route.maxBody);
    if (body === 'too-large') {
      return this.refuse(req, res, 413, `Content Too Large: ${method} ${path} takes ${route.maxBody === 0 ? 'no body' : `at most ${route.maxBody} bytes`}`);
    }
    await route.handler(req, res, body);
  }

  async close(): Promise<void> {
    const s = this.server;
    if (s === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value, null, 2)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}
