/**
 * What the first front-end loop tells the others about the worker side (front-ends > 1), as plain
 * data posted between threads: each pool of the running configuration, its current generation and
 * its processes that take requests or finish them. The other loops reconcile their links to it
 * (loop-pool.ts); nothing else crosses.
 */
import type { ProcessPool } from './process-pool.js';
import type { AnnouncedProcess } from './worker-link.js';

export interface PoolView {
  /** The pool's identity across reloads (a pool kept by a reload keeps it). */
  id: number;
  label: string;
  state: string;
  failure: string | undefined;
  generation: number;
  /** Its index on the scoreboard. */
  boardGroup: number;
  queueSize: number;
  queueTimeout: number;
  requestTimeout: number;
  processes: AnnouncedProcess[];
}

/** The worker side for the other loops: the pools by their key in the plan. */
export interface WorkerView {
  pools: Record<string, PoolView>;
}

const ids = new WeakMap<ProcessPool, number>();
let nextId = 1;

export function poolView(pool: ProcessPool): PoolView {
  let id = ids.get(pool);
  if (id === undefined) {
    id = nextId++;
    ids.set(pool, id);
  }
  const processes: AnnouncedProcess[] = [];
  for (const m of pool.members) {
    const p = m.process;
    if ((p.state !== 'ready' && p.state !== 'draining') || p.pid === undefined || p.socketName === undefined || p.slot === undefined) continue;
    processes.push({
      pid: p.pid,
      slot: p.slot,
      socket: p.socketName,
      threads: p.threads,
      generation: p.generation,
      state: p.state,
      stuck: m.stuck,
      maxRequests: p.spec.maxRequests,
    });
  }
  const s = pool.settings;
  return {
    id,
    label: pool.label,
    state: pool.state,
    failure: pool.failure,
    generation: pool.generation,
    boardGroup: pool.boardGroup,
    queueSize: s.queueSize,
    queueTimeout: s.queueTimeout,
    requestTimeout: s.requestTimeout,
    processes,
  };
}
