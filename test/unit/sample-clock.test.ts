import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GroupStats } from '../../src/observability/group-stats.js';
import { SampleClock, type SampleTarget, skippedSeconds, type Timers } from '../../src/observability/sample-clock.js';

/** Timers on a clock the test moves. */
class FakeTimers implements Timers {
  time = 0;
  private pending: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  now(): number {
    return this.time;
  }
  after(ms: number, fn: () => void): unknown {
    const id = ++this.ids;
    this.pending.push({ at: this.time + ms, fn, id });
    return id;
  }
  cancel(timer: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== timer);
  }
  get armed(): number {
    return this.pending.length;
  }
  /** Moves the clock to `to`, running each timer due on the way at its own time. */
  advance(to: number): void {
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at);
      const next = this.pending[0];
      if (next === undefined || next.at > to) break;
      this.pending.shift();
      this.time = next.at;
      next.fn();
    }
    this.time = to;
  }
}

/** One group's statistics behind a clock, as the server wires them; `busy` says whether a second had anything. */
function setup(): { timers: FakeTimers; clock: SampleClock; stats: GroupStats; times: number[]; setBusy: (b: boolean) => void } {
  const timers = new FakeTimers();
  const times: number[] = [];
  let busy = true;
  let stats: GroupStats | undefined;
  const target: SampleTarget = {
    sample: () => {
      times.push(timers.now());
      const g = stats as GroupStats;
      const s = g.sample(busy ? 1 : 0, 4, 0);
      s.t = timers.now();
      return !busy && s.requests === 0 && g.inflight === 0;
    },
    fill: (ts) => {
      for (const t of ts) stats?.sampleIdle(t);
    },
  };
  const clock = new SampleClock(target, 1000, timers);
  stats = new GroupStats('g', clock.wake);
  return {
    timers,
    clock,
    stats,
    times,
    setBusy: (b) => {
      busy = b;
    },
  };
}

describe('the statistics sampler: once a second while anything happens, asleep while idle, no gap in the history', () => {
  test('skipped seconds: on the one-second grid after the last sample, up to now, the newest ones only', () => {
    assert.deepEqual(skippedSeconds(1000, 1999, 1000, 300), { times: [], last: 1000 });
    assert.deepEqual(skippedSeconds(1000, 4500, 1000, 300), { times: [2000, 3000, 4000], last: 4000 });
    assert.deepEqual(skippedSeconds(0, 10_000, 1000, 3), { times: [8000, 9000, 10_000], last: 10_000 });
  });

  test('samples every second while busy; a quiet second puts it to sleep, with no timer left', () => {
    const { timers, clock, times, setBusy } = setup();
    clock.start();
    timers.advance(3000);
    assert.deepEqual(times, [1000, 2000, 3000]);
    setBusy(false);
    timers.advance(4000);
    assert.equal(clock.sleeping, true);
    assert.equal(timers.armed, 0, 'no timer while idle');
    timers.advance(60_000);
    assert.deepEqual(times, [1000, 2000, 3000, 4000], 'no sample while asleep');
  });

  test('a request wakes it: the skipped seconds are zero-traffic samples on the grid, and sampling goes on on the grid', () => {
    const { timers, clock, stats, times, setBusy } = setup();
    setBusy(false);
    clock.start();
    timers.advance(1000); // quiet: asleep after the sample at 1000
    assert.equal(clock.sleeping, true);
    timers.advance(6500);
    setBusy(true);
    stats.started(); // a request starts: the statistics wake the clock
    assert.equal(clock.sleeping, false);
    assert.deepEqual(
      stats.history.map((s) => s.t),
      [1000, 2000, 3000, 4000, 5000, 6000],
    );
    for (const s of stats.history.slice(1)) {
      assert.deepEqual({ ...s, t: 0 }, { t: 0, requests: 0, p50: null, p90: null, p99: null, busyThreads: 0, capacity: 4, queueLength: 0 });
    }
    stats.finished(200, 0.01);
    timers.advance(7000);
    assert.deepEqual(times, [1000, 7000], 'the next sample on the grid, not a second after the wake-up');
    assert.equal(stats.history.at(-1)?.requests, 1, 'the request counted in its second');
  });

  test('reading the history while asleep adds the seconds up to now, without waking; nothing twice', () => {
    const { timers, clock, stats, setBusy } = setup();
    setBusy(false);
    clock.start();
    timers.advance(1000);
    timers.advance(3200);
    clock.catchUp();
    assert.deepEqual(
      stats.history.map((s) => s.t),
      [1000, 2000, 3000],
    );
    assert.equal(clock.sleeping, true);
    assert.equal(timers.armed, 0);
    timers.advance(5100);
    clock.wake();
    assert.deepEqual(
      stats.history.map((s) => s.t),
      [1000, 2000, 3000, 4000, 5000],
    );
  });

  test('a long sleep adds at most the five minutes the history keeps', () => {
    const { timers, clock, stats, setBusy } = setup();
    setBusy(false);
    clock.start();
    timers.advance(1000);
    timers.advance(3_600_000);
    clock.wake();
    assert.equal(stats.history.length, 300);
    assert.equal(stats.history.at(-1)?.t, 3_600_000);
  });

  test('a wall clock set back while it slept: it samples again within a second', () => {
    const { timers, clock, times, setBusy } = setup();
    setBusy(false);
    clock.start();
    timers.advance(10_000);
    timers.time = 500; // set back, before the last sample
    setBusy(true);
    clock.wake();
    timers.advance(1500);
    assert.deepEqual(times, [1000, 1500]);
  });

  test('stopped, it neither samples nor wakes', () => {
    const { timers, clock, stats, times, setBusy } = setup();
    setBusy(false);
    clock.start();
    timers.advance(1000);
    clock.stop();
    stats.started();
    timers.advance(10_000);
    assert.deepEqual(times, [1000]);
    assert.equal(timers.armed, 0);
  });

  test('a group with no sample yet gets no idle one (its capacity is unknown)', () => {
    const stats = new GroupStats('new');
    stats.sampleIdle(1000);
    assert.equal(stats.history.length, 0);
  });
});
