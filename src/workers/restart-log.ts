/** Why a worker process was replaced or stopped. */
export type RestartReason = 'crash' | 'maximum-requests' | 'restart-interval' | 'memory-limit' | 'request-timeout' | 'script-touched' | 'reload' | 'idle';

export const RESTART_REASONS: RestartReason[] = [
  'crash',
  'maximum-requests',
  'restart-interval',
  'memory-limit',
  'request-timeout',
  'script-touched',
  'reload',
  'idle',
];

export interface RestartRecord {
  at: number;
  pid: number | undefined;
  reason: RestartReason;
  detail: string;
}

/** A group's restarts: counts by reason, and the most recent ones. */
export class RestartLog {
  readonly counts: Record<RestartReason, number> = Object.fromEntries(RESTART_REASONS.map((r) => [r, 0])) as Record<RestartReason, number>;
  readonly recent: RestartRecord[] = [];

  add(pid: number | undefined, reason: RestartReason, detail: string): void {
    this.counts[reason]++;
    this.recent.push({ at: Date.now(), pid, reason, detail });
    if (this.recent.length > 50) this.recent.shift();
  }

  /** Continues another log (a group replaced by a reload keeps its history). */
  inherit(other: RestartLog): void {
    for (const r of RESTART_REASONS) this.counts[r] += other.counts[r];
    this.recent.push(...other.recent.slice(-50));
  }

  /** The last restart of a process, if any. */
  last(pid?: number): RestartRecord | undefined {
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const r = this.recent[i] as RestartRecord;
      if (pid === undefined || r.pid === pid) return r;
    }
    return undefined;
  }
}
