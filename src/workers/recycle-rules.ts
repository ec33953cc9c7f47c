/**
 * When a worker process is replaced (recycled): the rows of docs/limits.md's "Per group" table
 * whose log line is `recycling worker process (...)`, in the same order, as code
 * (test/unit/recycle-rules.test.ts holds the two together). Recycling never drops a request: the
 * pool starts the replacement first, and the old process leaves once it is ready.
 */
import type { GroupSettings } from '../config/schema.js';
import type { RestartReason } from './restart-log.js';

/** What the rules read of a process (a WorkerProcess). */
export interface RecycleSubject {
  /** Requests it served. */
  readonly served: number;
  /** Its maximum-requests (plus jitter) is reached. */
  readonly exhausted: boolean;
  /** When it reported ready (ms). */
  readonly readyAt: number;
  /** Requests it holds now. */
  readonly busy: number;
  /** When it last started or finished a request (ms). */
  readonly lastActive: number;
}

/** How long a process has had no request (ms; 0 while busy). */
export const idleFor = (p: RecycleSubject, now: number): number => (p.busy === 0 ? now - p.lastActive : 0);

export interface RecycleRule {
  /** The group key, as docs/limits.md names it. */
  key: string;
  /** The restart reason recorded (status page, metrics) and logged: `recycling worker process (REASON: detail)`. */
  reason: RestartReason;
  /**
   * When the pool checks it: `request` on every tick for the running requests (its request also
   * gets 504), `request-end` when a request ends, `tick` on every tick (twice a second while the
   * pool has requests; an idle pool wakes at the rule's dueAt), `memory` on every tick once the
   * process's RSS is read.
   */
  when: 'request' | 'request-end' | 'tick' | 'memory';
  /**
   * The log line's detail when the rule fires, else undefined. measured: what was measured for
   * it, the process's resident memory (bytes) for a `memory` rule, how long the request has run
   * (ms) for a `request` rule.
   */
  fires(p: RecycleSubject, settings: GroupSettings, now: number, measured: number): string | undefined;
  /**
   * A `tick` rule (it fires with time passing): the first moment (ms) fires() holds for p if
   * nothing else changes, or undefined when time alone cannot make it fire. An idle pool sets one
   * timer for the earliest of these instead of ticking (tick-plan.ts).
   */
  dueAt?(p: RecycleSubject, settings: GroupSettings): number | undefined;
}

/** The first whole millisecond after `at` plus `seconds` (the rules fire past their limit, not on it). */
const past = (at: number, seconds: number): number => Math.floor(at + seconds * 1000) + 1;

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export const RECYCLE_RULES: readonly RecycleRule[] = [
  {
    key: 'request-timeout',
    reason: 'request-timeout',
    when: 'request',
    fires: (_p, s, _now, ranMs) => (s.requestTimeout > 0 && ranMs > s.requestTimeout * 1000 ? `a request ran over ${s.requestTimeout}s` : undefined),
  },
  {
    key: 'maximum-requests',
    reason: 'maximum-requests',
    when: 'request-end',
    fires: (p) => (p.exhausted ? `served ${p.served} requests` : undefined),
  },
  {
    key: 'restart-interval',
    reason: 'restart-interval',
    when: 'tick',
    fires: (p, s, now) =>
      s.restartInterval > 0 && now - p.readyAt > s.restartInterval * 1000
        ? `ran ${Math.round((now - p.readyAt) / 1000)}s (restart-interval ${s.restartInterval}s)`
        : undefined,
    dueAt: (p, s) => (s.restartInterval > 0 ? past(p.readyAt, s.restartInterval) : undefined),
  },
  {
    key: 'memory-limit',
    reason: 'memory-limit',
    when: 'memory',
    fires: (_p, s, _now, rss) => (s.memoryLimit > 0 && rss > s.memoryLimit ? `resident memory ${mb(rss)} over memory-limit ${mb(s.memoryLimit)}` : undefined),
  },
  {
    key: 'inactivity-timeout',
    reason: 'idle',
    when: 'tick',
    fires: (p, s, now) =>
      s.inactivityTimeout > 0 && idleFor(p, now) > s.inactivityTimeout * 1000 && p.served > 0
        ? `idle ${Math.round(idleFor(p, now) / 1000)}s (inactivity-timeout ${s.inactivityTimeout}s)`
        : undefined,
    dueAt: (p, s) => (s.inactivityTimeout > 0 && p.served > 0 && p.busy === 0 ? past(p.lastActive, s.inactivityTimeout) : undefined),
  },
];

/** The rules checked at one moment, in the table's order. */
export const rulesWhen = (when: RecycleRule['when']): readonly RecycleRule[] => RECYCLE_RULES.filter((r) => r.when === when);

/** The first of `rules` that fires for p: its reason and the log line's detail. */
export function firstFiring(
  rules: readonly RecycleRule[],
  p: RecycleSubject,
  settings: GroupSettings,
  now: number,
  measured = 0,
): { reason: RestartReason; detail: string } | undefined {
  for (const rule of rules) {
    const detail = rule.fires(p, settings, now, measured);
    if (detail !== undefined) return { reason: rule.reason, detail };
  }
  return undefined;
}
