import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { packageRoot } from '../util/package-info.js';
import { type AdminServer, sendJson } from './admin-server.js';
import { probeAnswer, probeHeaders, type Readiness } from './readiness.js';
import type { ServerSnapshot } from './server-snapshot.js';
import { statusReport } from './status-report.js';

/** The live status page, served at / (plain HTML and script, no build step). */
const STATUS_PAGE = join(packageRoot(), 'status-page', 'index.html');

/** What the admin routes need of the server. */
export interface AdminBackend {
  snapshot(): ServerSnapshot;
  readiness(): Readiness;
  reload(): Promise<{ ok: boolean; message: string }>;
}

/**
 * The admin listener's routes: / (the status page), /ping, /healthz, /readyz, /status, /metrics
 * and POST /reload.
 */
export function addAdminRoutes(admin: AdminServer, server: AdminBackend): void {
  admin.route('GET', '/ping', (_req, res) => sendJson(res, 200, { ok: true }));
  addHealthRoutes(admin, () => server.readiness());
  admin.route('POST', '/reload', async (_req, res) => {
    const r = await server.reload();
    sendJson(res, r.ok ? 200 : 409, r);
  });
  admin.route('GET', '/status', async (_req, res) => sendJson(res, 200, await statusReport(server.snapshot())));
  // prom-client costs ~12 MB: loaded on the first scrape, not at start.
  let metrics: Promise<Registry> | undefined;
  admin.route('GET', '/metrics', async (_req, res) => {
    metrics ??= import('./metrics.js').then((m) => m.createMetrics(() => server.snapshot()));
    const registry = await metrics;
    const text = await registry.metrics();
    res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
    res.end(text);
  });
  admin.route('GET', '/', async (_req, res) => {
    const page = await readFile(STATUS_PAGE, 'utf8');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(page);
  });
}

/**
 * /healthz (alive: the event loop answers) and /readyz (ready for traffic), for GET and HEAD,
 * without the token: orchestrators' probes (kubelet, load balancers) rarely carry one, and the
 * answers hold nothing but ok or a short reason without names. The Host check of a loopback
 * listener still applies.
 */
export function addHealthRoutes(admin: AdminServer, readiness: () => Readiness): void {
  const send = (res: ServerResponse, kind: 'alive' | 'ready'): void => {
    const a = probeAnswer(kind, readiness());
    res.writeHead(a.status, probeHeaders(a.body));
    res.end(a.body);
  };
  for (const method of ['GET', 'HEAD']) {
    admin.route(method, '/healthz', (_req, res) => send(res, 'alive'), { open: true });
    admin.route(method, '/readyz', (_req, res) => send(res, 'ready'), { open: true });
  }
}
