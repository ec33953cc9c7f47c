/**
 * What the admin side reads of a running server: one plain snapshot (WsgiHostServer.snapshot() in
 * src/server.ts makes it on demand), for the status page, `wsgi-host status`, /metrics and the
 * probes. The admin side never holds the server itself.
 */
import type { AddressInfo } from 'node:net';
import type { GroupStats } from '../observability/group-stats.js';
import type { PoolSnapshot } from '../workers/snapshot.js';
import type { ServerPhase } from './readiness.js';

export interface ServerSnapshot {
  startedAt: number;
  phase: ServerPhase;
  /** The configuration's label (its file, or the script served). */
  config: string;
  listen: AddressInfo[];
  /** Application requests in flight on the HTTP side. */
  inflight: number;
  /** The groups of the running configuration. */
  pools: PoolSnapshot[];
  /** Statistics by group label (they outlive reloads), updated per request (read only here). */
  stats: ReadonlyMap<string, GroupStats>;
}
