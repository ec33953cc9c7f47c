/**
 * What the first front-end loop (the main thread) and the other loops (worker threads) say to each
 * other (front-ends > 1). Everything is plain data; the shared scoreboard is the only shared memory.
 */
import type { Readiness } from '../admin/readiness.js';
import type { ServePlan } from '../config/plan.js';
import type { LoggerOptions } from '../observability/logger.js';
import type { WorkerView } from '../workers/loop-view.js';

/** A plan as it crosses to another thread: everything but its locate function. */
export type PlainPlan = Omit<ServePlan, 'locate'>;

export type Bindings = Record<string, { fd?: number; port: number }>;

/** What a loop thread starts with (its workerData). */
export interface LoopStart {
  index: number;
  plan: PlainPlan;
  view: WorkerView;
  bindings: Bindings;
  reusePort: boolean;
  board: SharedArrayBuffer;
  readiness: Readiness;
  log: LoggerOptions;
}

export type ToLoop =
  | { t: 'view'; view: WorkerView; readiness: Readiness }
  | { t: 'reload'; plan: PlainPlan; view: WorkerView; bindings: Bindings }
  | { t: 'drain' }
  | { t: 'stop'; graceMs: number };

/** One finished application request: its group's label, status and seconds (the group statistics). */
export type Finished = [label: string, status: number, seconds: number];

export type FromLoop =
  | { t: 'listening' }
  | { t: 'failed'; message: string }
  | { t: 'reloaded'; note: string | undefined }
  | { t: 'stopped' }
  | { t: 'stuck'; key: string; pid: number; ranMs: number }
  | { t: 'exhausted'; key: string; pid: number }
  | { t: 'report'; finished: Finished[]; lines: string[]; inflight: number; groups: [label: string, inflight: number][] };

export function plainPlan(plan: ServePlan): PlainPlan {
  const { locate: _locate, ...rest } = plan;
  return rest;
}

export function fromPlain(plan: PlainPlan): ServePlan {
  return { ...plan, locate: () => undefined };
}
