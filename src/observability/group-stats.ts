/** Latency histogram bucket bounds, in seconds (Prometheus `le`). */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** One second of a group's life, for the status page's charts. */
export interface StatsSample {
  /** Epoch milliseconds at the end of the second. */
  t: number;
  /** Requests finished during it. */
  requests: number;
  /** Latency percentiles of those requests (seconds, from the histogram buckets). */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  busyThreads: number;
  capacity: number;
  queueLength: number;
}

export const HISTORY_SECONDS = 300;

/** What threadUse() reads of a worker process. */
export interface ThreadHolder {
  readonly state: string;
  readonly threads: number;
  readonly busy: number;
}

/** Threads of a group's ready processes (its capacity) and how many are busy. */
export function threadUse(workers: Iterable<ThreadHolder>): { busy: number; capacity: number } {
  let busy = 0;
  let capacity = 0;
  for (const w of workers) {
    if (w.state !== 'ready') continue;
    capacity += w.threads;
    busy += Math.min(w.busy, w.threads);
  }
  return { busy, capacity };
}

/**
 * What a group's requests did: counts by status class, a latency histogram and in-flight count,
 * updated per request with plain increments; plus a per-second history for charts.
 */
export class GroupStats {
  readonly label: string;
  /** Requests finished, by status class: index 1 for 1xx ... 5 for 5xx. */
  readonly statusClasses = [0, 0, 0, 0, 0, 0];
  /** Non-cumulative counts per bucket; the last slot is above the largest bound. */
  readonly buckets = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  sumSeconds = 0;
  count = 0;
  inflight = 0;
  /** Requests of this group in flight in the other front-end loops (as they last reported, within 100 ms). */
  elsewhere = 0;
  readonly history: StatsSample[] = [];
  private lastBuckets = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  private lastCount = 0;
  /** Called when a request starts (the server's sampler, asleep while idle: sample-clock.ts). */
  private readonly onStart: (() => void) | undefined;

  constructor(label: string, onStart?: () => void) {
    this.label = label;
    this.onStart = onStart;
  }

  started(): void {
    this.inflight++;
    if (this.onStart !== undefined) this.onStart();
  }

  /** Requests in flight in every front-end loop. */
  get allInflight(): number {
    return this.inflight + this.elsewhere;
  }

  finished(status: number, seconds: number): void {
    this.inflight--;
    const cls = (status / 100) | 0;
    const k = cls >= 1 && cls <= 5 ? cls : 5;
    this.statusClasses[k] = (this.statusClasses[k] ?? 0) + 1;
    this.sumSeconds += seconds;
    this.count++;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] as number)) i++;
    (this.buckets as number[])[i] = (this.buckets[i] as number) + 1;
  }

  /** Closes the current second: requests and latency percentiles since the previous sample. */
  sample(busyThreads: number, capacity: number, queueLength: number): StatsSample {
    const delta = this.buckets.map((b, i) => b - (this.lastBuckets[i] as number));
    const requests = this.count - this.lastCount;
    this.lastBuckets = [...this.buckets];
    this.lastCount = this.count;
    const s: StatsSample = {
      t: Date.now(),
      requests,
      p50: percentile(delta, requests, 0.5),
      p90: percentile(delta, requests, 0.9),
      p99: percentile(delta, requests, 0.99),
      busyThreads,
      capacity,
      queueLength,
    };
    this.push(s);
    return s;
  }

  /**
   * A second the sampler skipped while nothing happened (sample-clock.ts): no request, nothing
   * busy or queued, the capacity of the sample before it. Nothing before the first sample.
   */
  sampleIdle(t: number): void {
    const last = this.history[this.history.length - 1];
    if (last === undefined) return;
    this.push({ t, requests: 0, p50: null, p90: null, p99: null, busyThreads: 0, capacity: last.capacity, queueLength: 0 });
  }

  private push(s: StatsSample): void {
    this.history.push(s);
    if (this.history.length > HISTORY_SECONDS) this.history.shift();
  }

  /** Percentiles over everything recorded so far (seconds). */
  overall(): { p50: number | null; p90: number | null; p99: number | null } {
    return {
      p50: percentile(this.buckets, this.count, 0.5),
      p90: percentile(this.buckets, this.count, 0.9),
      p99: percentile(this.buckets, this.count, 0.99),
    };
  }
}

/** The q-quantile of a bucketed distribution, interpolated inside its bucket. */
export function percentile(counts: readonly number[], total: number, q: number): number | null {
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] as number;
    if (seen + c >= rank && c > 0) {
      const lo = i === 0 ? 0 : (LATENCY_BUCKETS[i - 1] as number);
      const hi = i < LATENCY_BUCKETS.length ? (LATENCY_BUCKETS[i] as number) : lo * 2;
      return lo + ((hi - lo) * (rank - seen)) / c;
    }
    seen += c;
  }
  return LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1] as number;
}
