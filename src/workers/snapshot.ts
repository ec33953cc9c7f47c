/**
 * What the worker side shows of itself: plain data, read by the admin side (status, metrics,
 * readiness) and never written back. Made on demand (Supervisor.snapshot()), not per request.
 */
import type { GroupSettings } from '../config/schema.js';
import type { PythonEnvironment } from '../python/environment.js';
import type { RestartRecord } from './restart-log.js';

export type PoolState = 'starting' | 'serving' | 'failed' | 'stopping' | 'stopped';

export interface ProcessSnapshot {
  pid: number;
  generation: number;
  state: 'starting' | 'ready' | 'draining' | 'exited';
  /** A replacement is starting: it leaves once that one is ready. */
  recycling: boolean;
  /** A request of it ran past request-timeout: it takes no new requests. */
  stuck: boolean;
  served: number;
  busy: number;
  threads: number;
  startedAt: number;
  /** From its READY report, once it is ready. */
  python: { version: string; prefix: string } | undefined;
  /** Why it was started: 'start', or the reason it replaced another. */
  startReason: { reason: string; detail: string };
}

export interface PoolSnapshot {
  /** The pool's key in the plan. */
  key: string;
  label: string;
  /** The process group's name (null: the default group) and the application group. */
  group: string | null;
  applicationGroup: string;
  /** Where its applications are mounted ('host/prefix', '*' for every host). */
  mounts: string[];
  state: PoolState;
  failure: string | undefined;
  settings: GroupSettings;
  queueLength: number;
  workers: ProcessSnapshot[];
  restarts: { counts: Record<string, number>; recent: RestartRecord[] };
  /** The group's checked Python environment. */
  environment: PythonEnvironment | undefined;
}
