import type { PoolState } from '../workers/snapshot.js';
import type { WorkerState } from '../workers/worker-process.js';

/**
 * Readiness for orchestrators, from a plain snapshot of the server: ready when it is serving (not
 * starting, not draining after SIGTERM) and every group can take a request now: it has a ready
 * process, or it is a dynamic pool with a minimum of 0 (it starts one on demand). A group in a
 * crash loop (failed) or whose processes all died and are being replaced is not ready. Liveness
 * is only "the event loop answers": a failed group is a readiness problem, and restarting the
 * whole server for it would drop the healthy groups too.
 */

export type ServerPhase = 'starting' | 'serving' | 'draining' | 'stopped';

/** What readiness reads of a group (a PoolSnapshot of the worker side has it). */
export interface ReadinessInput {
  label: string;
  state: PoolState;
  failure?: string | undefined;
  workers: readonly { state: WorkerState; stuck?: boolean }[];
  settings: { dynamic?: { min: number } | undefined };
}

export interface GroupReadiness {
  label: string;
  ready: boolean;
  /** Processes that can take a request now. */
  readyProcesses: number;
  reason?: string;
}

export interface Readiness {
  ready: boolean;
  /** Short and free of names: it is answered without a token. */
  reason?: 'starting' | 'draining' | 'stopped' | 'a group failed' | 'a group has no ready process';
  groups: GroupReadiness[];
}

export function groupReadiness(pool: ReadinessInput): GroupReadiness {
  const readyProcesses = pool.workers.filter((w) => w.state === 'ready' && w.stuck !== true).length;
  const base = { label: pool.label, readyProcesses };
  if (pool.state === 'failed') return { ...base, ready: false, reason: `failed: ${pool.failure ?? 'unknown'}` };
  if (pool.state !== 'serving') return { ...base, ready: false, reason: pool.state };
  if (readyProcesses > 0) return { ...base, ready: true };
  if (pool.settings.dynamic !== undefined && pool.settings.dynamic.min === 0) return { ...base, ready: true, reason: 'starts a process on demand' };
  return { ...base, ready: false, reason: 'no ready process (being replaced)' };
}

export function serverReadiness(phase: ServerPhase, pools: readonly ReadinessInput[]): Readiness {
  const groups = pools.map(groupReadiness);
  if (phase !== 'serving') return { ready: false, reason: phase, groups };
  if (groups.some((g) => !g.ready && g.reason?.startsWith('failed'))) return { ready: false, reason: 'a group failed', groups };
  if (groups.some((g) => !g.ready)) return { ready: false, reason: 'a group has no ready process', groups };
  return { ready: true, groups };
}

export interface ProbeAnswer {
  status: number;
  body: string;
}

/** The answer of /healthz ('alive') or /readyz ('ready'): plain text, no details beyond the reason. */
export function probeAnswer(kind: 'alive' | 'ready', readiness: Readiness): ProbeAnswer {
  if (kind === 'alive') return { status: 200, body: 'ok\n' };
  return readiness.ready ? { status: 200, body: 'ready\n' } : { status: 503, body: `not ready: ${readiness.reason ?? 'unknown'}\n` };
}

/** Headers of a probe answer: never cached, never sniffed. */
export function probeHeaders(body: string): Record<string, string> {
  return {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  };
}

/** The probes answered on the main listeners ([health] on-listeners): GET and HEAD of the two paths. */
export function listenerProbe(
  health: { alivePath: string; readyPath: string },
  readiness: () => Readiness,
  method: string,
  path: string,
): { status: number; headers: Record<string, string>; body: string } | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const kind = path === health.alivePath ? 'alive' : path === health.readyPath ? 'ready' : undefined;
  if (kind === undefined) return undefined;
  const a = probeAnswer(kind, readiness());
  return { status: a.status, headers: probeHeaders(a.body), body: a.body };
}
