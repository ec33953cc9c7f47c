/**
 * When the server's statistics sampler runs (GroupStats.sample, the status page's charts): once a
 * second while anything happens, not at all while the server is idle.
 *
 * A sample that finds nothing happened in its second (no request started or finished, nothing
 * busy or queued) stops the clock. The seconds it then skips are added when it wakes (a request
 * starts, a process changes) or when the history is read, as the zero-traffic samples they would
 * have been, on the same one-second grid: the charts show what they showed when the sampler ran
 * every second, with no gap and no second counted twice.
 */
import { HISTORY_SECONDS } from './group-stats.js';

/** What the clock samples: every group's statistics. */
export interface SampleTarget {
  /** Takes one sample of every group; true when nothing happened in that second (the clock may stop). */
  sample(): boolean;
  /** Adds to every group the skipped seconds that ended at these times, in order (GroupStats.sampleIdle). */
  fill(times: readonly number[]): void;
}

/**
 * The seconds skipped between the last sample at `last` and `now` (ms): last + k * periodMs up to
 * now, only the newest `max` of them (older ones would leave the history at once); and where the
 * grid then stands (the last of them, or `last` when none).
 */
export function skippedSeconds(last: number, now: number, periodMs: number, max: number): { times: number[]; last: number } {
  const k = Math.floor((now - last) / periodMs);
  if (k <= 0) return { times: [], last };
  const times: number[] = [];
  for (let i = Math.max(1, k - max + 1); i <= k; i++) times.push(last + i * periodMs);
  return { times, last: last + k * periodMs };
}

/** The clock and timers the sampler uses (tests give their own). */
export interface Timers {
  now(): number;
  /** Calls fn after ms; the timer does not keep the process alive. Returns what cancel() takes. */
  after(ms: number, fn: () => void): unknown;
  cancel(timer: unknown): void;
}

const NODE_TIMERS: Timers = {
  now: Date.now,
  after: (ms, fn) => setTimeout(fn, ms).unref(),
  cancel: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

export class SampleClock {
  private readonly target: SampleTarget;
  private readonly periodMs: number;
  private readonly timers: Timers;
  private timer: unknown;
  /** When the last sample was taken, or the last skipped second ended (ms). */
  private last = 0;
  /** Stopped because nothing happened; wake() or catchUp() add the seconds skipped since. */
  private idle = false;
  private running = false;

  constructor(target: SampleTarget, periodMs = 1000, timers: Timers = NODE_TIMERS) {
    this.target = target;
    this.periodMs = periodMs;
    this.timers = timers;
  }

  /** Samples every periodMs from now on (the timer does not keep the process alive). */
  start(): void {
    this.running = true;
    this.idle = false;
    this.last = this.timers.now();
    this.schedule(this.periodMs);
  }

  /**
   * Something happened (every group's statistics call it when a request starts: GroupStats'
   * onStart): an idle clock adds the seconds it skipped and samples on its grid again.
   */
  readonly wake = (): void => {
    if (!this.idle || !this.running) return;
    const now = this.timers.now();
    this.catchUp(now);
    this.idle = false;
    // The next second of the grid (within one period, should the wall clock have been set back).
    this.schedule(Math.min(this.periodMs, this.last + this.periodMs - now));
  };

  /** An idle clock adds the seconds it skipped up to now (before the history is read). */
  catchUp(now = this.timers.now()): void {
    if (!this.idle) return;
    const skipped = skippedSeconds(this.last, now, this.periodMs, HISTORY_SECONDS);
    if (skipped.times.length > 0) this.target.fill(skipped.times);
    this.last = skipped.last;
  }

  stop(): void {
    this.running = false;
    this.timers.cancel(this.timer);
    this.timer = undefined;
    this.idle = false;
  }

  /** The clock is stopped until something happens. */
  get sleeping(): boolean {
    return this.idle;
  }

  private schedule(ms: number): void {
    this.timer = this.timers.after(Math.max(0, ms), this.tick);
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    this.last = this.timers.now();
    // The next one is due before this one runs: one that throws does not stop the sampling.
    this.schedule(this.periodMs);
    if (this.target.sample()) {
      this.timers.cancel(this.timer);
      this.timer = undefined;
      this.idle = true;
    }
  };
}
