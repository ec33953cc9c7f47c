/**
 * When a pool's supervision tick runs (pure: no I/O, no timers; test/unit/tick-plan.test.ts).
 *
 * The tick (twice a second) watches what can only be watched by looking: requests running past
 * request-timeout, waiting past queue-timeout, a process's memory while it serves. A pool with no
 * request running, waiting or held, not restarting and not stopping has none of that: its tick
 * stops, and a one-shot timer wakes it at the earliest moment a time-based rule can fire
 * (restart-interval, inactivity-timeout, a dynamic pool's idle-timeout above its minimum). An
 * idle server takes no timer wake-ups; a rule set to 0 (off) takes none either.
 */
import type { GroupSettings } from '../config/schema.js';
import { type RecycleSubject, rulesWhen } from './recycle-rules.js';

/** The longest delay a Node timer takes (a longer one would fire at once). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const TIME_RULES = rulesWhen('tick');

/** What a pool has that only its tick watches. */
export interface PoolWork {
  /** Requests held by its processes (every front-end loop's, running or waiting inside them). */
  busy: number;
  /** Requests waiting for a thread (every loop's) or held for a restart. */
  queued: number;
  restarting: boolean;
  stopping: boolean;
}

/** The tick must keep running. */
export const tickNeeded = (w: PoolWork): boolean => w.busy > 0 || w.queued > 0 || w.restarting || w.stopping;

/** A process the time-based rules look at: ready, of the current generation, not already being replaced. */
export interface TimeCandidate {
  subject: RecycleSubject;
  /** When a replacement of it last failed to start (it is not recycled again before retryMs after). */
  recycleFailedAt: number | undefined;
}

/**
 * The earliest moment (ms) a time-based rule can fire for one of the candidates, or undefined when
 * none can by time alone. idleRetire: a dynamic pool above its minimum, whose idle processes stop
 * after idle-timeout. retryMs: how long after a failed replacement a process is not recycled; when
 * that wait ends, a process over memory-limit or past maximum-requests is looked at again.
 */
export function nextDue(candidates: Iterable<TimeCandidate>, settings: GroupSettings, now: number, idleRetire: boolean, retryMs: number): number | undefined {
  let due: number | undefined;
  const earliest = (t: number | undefined): void => {
    if (t !== undefined && (due === undefined || t < due)) due = t;
  };
  const idleTimeout = settings.dynamic?.idleTimeout;
  for (const { subject: p, recycleFailedAt } of candidates) {
    // The pool's own check: idle > idle-timeout (idle is 0 while busy).
    if (idleRetire && idleTimeout !== undefined && p.busy === 0) earliest(Math.floor(p.lastActive + idleTimeout * 1000) + 1);
    for (const rule of TIME_RULES) {
      const t = rule.dueAt?.(p, settings);
      if (t === undefined) continue;
      earliest(recycleFailedAt === undefined ? t : Math.max(t, recycleFailedAt + retryMs));
    }
    // A recycle refused while its retry wait runs: the memory and request-count rules again after it.
    if (recycleFailedAt !== undefined && recycleFailedAt + retryMs > now && (settings.memoryLimit > 0 || p.exhausted)) earliest(recycleFailedAt + retryMs);
  }
  return due;
}

/**
 * How long to wait for `due`: until then, at most as long as a timer can wait (it then wakes and
 * looks again), and pollMs when `due` has passed (a rule due but not fired is looked at as often
 * as the tick would, never in a tight loop).
 */
export function wakeDelay(due: number, now: number, pollMs: number): number {
  if (due <= now) return pollMs;
  return Math.min(due - now, MAX_TIMER_MS);
}
