import { existsSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WsgiHostError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { type AdminAddress, describeAdmin, isLoopback } from './admin-address.js';

export type AdminRoute = (req: IncomingMessage, res: ServerResponse, body: string) => Promise<void> | void;

/**
 * The admin listener: reload, status and metrics. On a unix socket or loopback address by default;
 * anywhere else, every request must carry the token (Authorization: Bearer TOKEN).
 */
export class AdminServer {
  private server: Server | undefined;
  private readonly routes = new Map<string, AdminRoute>();
  private readonly address: AdminAddress;
  private readonly token: string | undefined;
  private readonly log: Logger;

  constructor(address: AdminAddress, token: string | undefined, log: Logger) {
    this.address = address;
    this.token = token;
    this.log = log;
    if (address.kind === 'tcp' && !isLoopback(address.host) && token === undefined) {
      throw new WsgiHostError('ADMIN_TOKEN_REQUIRED', `the admin listener ${describeAdmin(address)} is not a loopback address and has no token`, {
        hint: 'Set admin.token (anyone who can reach it could reload the server and read its status), or listen on 127.0.0.1 or a unix socket',
      });
    }
  }

  route(method: string, path: string, handler: AdminRoute): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  async listen(): Promise<string | undefined> {
    const a = this.address;
    if (a.kind === 'off') return undefined;
    const server = createServer((req, res) => void this.handle(req, res));
    if (a.kind === 'unix' && existsSync(a.path)) {
      if (await alive(a.path)) {
        throw new WsgiHostError('ALREADY_SERVING', `another wsgi-host already serves this configuration (its admin socket ${a.path} answers)`, {
          hint: 'Stop it first, or reload it: wsgi-host reload with the same configuration',
        });
      }
      unlinkSync(a.path); // left behind by a server that died
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (a.kind === 'unix') server.listen(a.path, () => resolve());
      else server.listen(a.port, a.host, () => resolve());
    });
    this.server = server;
    if (a.kind === 'tcp') {
      const bound = server.address() as AddressInfo;
      return describeAdmin({ kind: 'tcp', host: a.host, port: bound.port });
    }
    return describeAdmin(a);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] as string;
    // The status page itself holds no data (it asks for the token, then polls /status with it).
    const open = req.method === 'GET' && (path === '/' || path === '/ping');
    if (this.token !== undefined && !open && req.headers.authorization !== `Bearer ${this.token}`) {
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', 'WWW-Authenticate': 'Bearer' });
      res.end('401 Unauthorized: the admin listener needs its token (Authorization: Bearer TOKEN)\n');
      return;
    }
    const route = this.routes.get(`${req.method} ${path}`);
    if (route === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`404: no admin route ${req.method} ${path}\n`);
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    for await (const chunk of req) body += chunk as string;
    try {
      await route(req, res, body);
    } catch (err) {
      this.log.error({ err }, `admin ${req.method} ${path} failed`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`500: ${(err as Error).message}\n`);
    }
  }

  async close(): Promise<void> {
    const s = this.server;
    if (s === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
  }
}

/** Whether a unix socket has a live server behind it. */
function alive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: path, path: '/ping', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value, null, 2)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}
