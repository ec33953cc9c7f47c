/**
 * The deadlines of a request body that is arriving, as Apache's mod_reqtimeout sets them
 * (`RequestReadTimeout body=20,MinRate=500`): the body gets `graceMs`, plus one second for every
 * `minRate` bytes received; and no gap between two reads may be longer than `gapMs`
 * (wsgi-host's body-timeout). Time during which wsgi-host itself does not read (the application is
 * not reading, flow control holds the client back) counts for neither.
 */
export interface BodyPace {
  /** The longest gap between two reads (0: none). */
  gapMs: number;
  /** Bytes per second the body must average after the grace period (0: no minimum rate). */
  minRate: number;
  /** Time the body gets before the minimum rate applies. */
  graceMs: number;
}

export type ClockState = { expired: 'gap' | 'rate' } | { waitMs: number } | { paused: true } | { unbounded: true };

export class BodyClock {
  private readonly pace: BodyPace;
  private readonly startedAt: number;
  private lastData: number;
  private received = 0;
  private pausedAt = -1;
  private pausedTotal = 0;

  constructor(pace: BodyPace, now: number) {
    this.pace = pace;
    this.startedAt = now;
    this.lastData = now;
  }

  get bytes(): number {
    return this.received;
  }

  get isPaused(): boolean {
    return this.pausedAt >= 0;
  }

  data(n: number, now: number): void {
    this.received += n;
    this.lastData = now;
  }

  /** wsgi-host stops reading: the clock stops. */
  pause(now: number): void {
    if (this.pausedAt < 0) this.pausedAt = now;
  }

  /** wsgi-host reads again: the gap starts anew, the rate's allowance moves by the time held. */
  resume(now: number): void {
    if (this.pausedAt < 0) return;
    this.pausedTotal += now - this.pausedAt;
    this.pausedAt = -1;
    this.lastData = now;
  }

  /** The earliest deadline passed, or how long until it. */
  check(now: number): ClockState {
    if (this.pausedAt >= 0) return { paused: true };
    let wait = Number.POSITIVE_INFINITY;
    if (this.pace.gapMs > 0) {
      const left = this.lastData + this.pace.gapMs - now;
      if (left <= 0) return { expired: 'gap' };
      wait = left;
    }
    if (this.pace.minRate > 0) {
      const left = this.rateDeadline() - now;
      if (left <= 0) return { expired: 'rate' };
      wait = Math.min(wait, left);
    }
    return wait === Number.POSITIVE_INFINITY ? { unbounded: true } : { waitMs: Math.ceil(wait) };
  }

  /** When the body must have arrived at the minimum rate, for the bytes received so far. */
  rateDeadline(): number {
    return this.startedAt + this.pausedTotal + this.pace.graceMs + (this.received * 1000) / this.pace.minRate;
  }
}
