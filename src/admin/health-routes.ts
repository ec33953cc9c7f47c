import type { ServerResponse } from 'node:http';
import { probeAnswer, probeHeaders, type Readiness } from './readiness.js';
import type { AdminServer } from './admin-server.js';

/**
 * /healthz (alive: the event loop answers) and /readyz (ready for traffic) on the admin listener,
 * for GET and HEAD, without the token: orchestrators' probes (kubelet, load balancers) rarely carry
 * one, and the answers hold nothing but ok or a short reason without names. The Host check of a
 * loopback listener still applies.
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
