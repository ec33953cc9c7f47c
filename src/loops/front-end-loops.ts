/**
 * The first loop's side of the other front-end loops (front-ends > 1): starts their threads, tells
 * them what changed on the worker side (at most once per tick, as plain data), the configuration
 * on reload, drain and stop; and takes what they report into the one server's statistics and
 * access log, and a stuck request to the pool that replaces its process.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Readiness } from '../admin/readiness.js';
import type { ServePlan } from '../config/plan.js';
import type { ServerConfig } from '../config/schema.js';
import type { GroupStats } from '../observability/group-stats.js';
import type { Logger, LoggerOptions } from '../observability/logger.js';
import type { WorkerView } from '../workers/loop-view.js';
import type { Bindings, FromLoop, LoopStart, ToLoop } from './loop-messages.js';
import { plainPlan } from './loop-messages.js';
import { YOUNG_GENERATION_MB } from '../util/heap-bounds.js';

/** front-ends = "auto": at most this many loops. */
export const AUTO_FRONT_ENDS_CAP = 16;

/**
 * front-ends = "auto": half the CPUs this process may use (at most 16), and one below 4 CPUs. The
 * front end takes about half of a request's CPU (docs/performance.md, "Front-end loops": 32 of 50
 * us at hello, 34 of 85 us at 1 KB JSON), so half the cores in loops keep up with workers on the
 * other half; on 2 CPUs a second loop was measured slower than one (each loop gets fewer events
 * per wake-up: 5.9 system calls per request instead of 3.6).
 */
export function autoFrontEnds(cpus: number): number {
  return cpus < 4 ? 1 : Math.min(AUTO_FRONT_ENDS_CAP, Math.floor(cpus / 2));
}
/** How long a loop may take to start listening. */
const START_MS = 15_000;

/**
 * How many front-end loops a configuration asks for. Other loops reach the worker processes on
 * the unix socket each worker listens on, which exists on Linux only: elsewhere, one loop.
 */
export function frontEndCount(config: ServerConfig): number {
  if (process.platform !== 'linux') return 1;
  return config.frontEnds === 'auto' ? autoFrontEnds(availableParallelism()) : config.frontEnds;
}

export interface LoopsHost {
  log: Logger;
  logOptions: LoggerOptions;
  board: SharedArrayBuffer;
  reusePort: boolean;
  view: () => WorkerView;
  readiness: () => Readiness;
  statsFor: (label: string) => GroupStats;
  accessLine: (line: string) => void;
  /** A loop reported that requests started or finished (within 100 ms of it). */
  activity: () => void;
  stuck: (key: string, pid: number, ranMs: number) => void;
  exhausted: (key: string, pid: number) => void;
}

interface Loop {
  worker: Worker;
  inflight: number;
  /** Its application requests in flight by group label (its last report). */
  groups: Map<string, number>;
  waiters: ((m: FromLoop) => boolean)[];
}

export class FrontEndLoops {
  private readonly host: LoopsHost;
  private readonly loops: Loop[] = [];
  private viewDue = false;

  constructor(host: LoopsHost) {
    this.host = host;
  }

  /** Requests the other loops are serving (from their last report). */
  get inflight(): number {
    let n = 0;
    for (const l of this.loops) n += l.inflight;
    return n;
  }

  /** Starts `count` loops accepting on `bindings`; resolves when all listen, throws if one cannot. */
  async start(count: number, plan: ServePlan, bindings: Bindings): Promise<void> {
    const started: Promise<void>[] = [];
    for (let i = 1; i <= count; i++) {
      const data: LoopStart = {
        index: i,
        plan: plainPlan(plan),
        view: this.host.view(),
        bindings,
        reusePort: this.host.reusePort,
        board: this.host.board,
        readiness: this.host.readiness(),
        log: this.host.logOptions,
      };
      const worker = new Worker(new URL('./loop-thread.js', import.meta.url), {
        workerData: data,
        name: `wsgi-host front-end loop ${i}`,
        resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
      });
      const loop: Loop = { worker, inflight: 0, groups: new Map(), waiters: [] };
      this.loops.push(loop);
      worker.on('message', (m: FromLoop) => this.onMessage(loop, m));
      worker.on('error', (err) => this.host.log.error({ err }, `front-end loop ${i} failed: ${err.message}`));
      worker.on('exit', (code) => {
        const i2 = this.loops.indexOf(loop);
        if (i2 >= 0) this.loops.splice(i2, 1);
        for (const w of loop.waiters.splice(0)) w({ t: 'failed', message: `exited with code ${code}` });
      });
      started.push(
        this.waitFor(loop, START_MS, (m) => m.t === 'listening' || m.t === 'failed').then((m) => {
          if (m.t === 'failed') throw new Error(`front-end loop ${i} could not start: ${m.message}`);
        }),
      );
    }
    try {
      await Promise.all(started);
    } catch (err) {
      await this.terminate();
      throw err;
    }
  }

  /** The worker side changed: the loops hear of it once this tick is over. */
  viewChanged(): void {
    if (this.viewDue || this.loops.length === 0) return;
    this.viewDue = true;
    setImmediate(() => {
      this.viewDue = false;
      this.broadcast({ t: 'view', view: this.host.view(), readiness: this.host.readiness() });
    });
  }

  /** A reload: the loops take the new configuration (after the first loop did). */
  async reload(plan: ServePlan, bindings: Bindings): Promise<void> {
    const msg: ToLoop = { t: 'reload', plan: plainPlan(plan), view: this.host.view(), bindings };
    await Promise.all(
      this.loops.map((l) => {
        const done = this.waitFor(l, START_MS, (m) => m.t === 'reloaded' || m.t === 'failed');
        l.worker.postMessage(msg);
        return done;
      }),
    );
  }

  drain(): void {
    this.broadcast({ t: 'drain' });
  }

  /**
   * Stops the loops: they stop accepting (their own sockets) and finish their requests within
   * graceMs. Their threads are not ended: a thread that accepted on a descriptor of the first loop
   * must not close it again (listeners.ts); they end with the process.
   */
  async stop(graceMs: number): Promise<void> {
    await Promise.all(
      this.loops.map((l) => {
        const done = this.waitFor(l, graceMs + 5000, (m) => m.t === 'stopped' || m.t === 'failed');
        l.worker.postMessage({ t: 'stop', graceMs } satisfies ToLoop);
        return done.then(() => l.worker.unref());
      }),
    );
  }

  private async terminate(): Promise<void> {
    await Promise.all(this.loops.map((l) => l.worker.terminate()));
  }

  private broadcast(m: ToLoop): void {
    for (const l of this.loops) l.worker.postMessage(m);
  }

  private waitFor(loop: Loop, ms: number, match: (m: FromLoop) => boolean): Promise<FromLoop> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        const i = loop.waiters.indexOf(w);
        if (i >= 0) loop.waiters.splice(i, 1);
        resolve({ t: 'failed', message: `no answer within ${ms / 1000}s` });
      }, ms);
      const w = (m: FromLoop): boolean => {
        if (!match(m)) return false;
        clearTimeout(t);
        resolve(m);
        return true;
      };
      loop.waiters.push(w);
    });
  }

  /** A loop's requests in flight by group, summed over the other loops into each group's statistics. */
  private countElsewhere(loop: Loop, groups: Map<string, number>): void {
    const labels = new Set([...loop.groups.keys(), ...groups.keys()]);
    loop.groups = groups;
    for (const label of labels) {
      let n = 0;
      for (const l of this.loops) n += l.groups.get(label) ?? 0;
      this.host.statsFor(label).elsewhere = n;
    }
  }

  private onMessage(loop: Loop, m: FromLoop): void {
    for (let i = 0; i < loop.waiters.length; i++) {
      if ((loop.waiters[i] as (m: FromLoop) => boolean)(m)) {
        loop.waiters.splice(i, 1);
        break;
      }
    }
    switch (m.t) {
      case 'report':
        this.host.activity();
        loop.inflight = m.inflight;
        for (const [label, status, seconds] of m.finished) {
          const s = this.host.statsFor(label);
          s.started();
          s.finished(status, seconds);
        }
        this.countElsewhere(loop, new Map(m.groups));
        for (const line of m.lines) this.host.accessLine(line);
        return;
      case 'stuck':
        this.host.stuck(m.key, m.pid, m.ranMs);
        return;
      case 'exhausted':
        this.host.exhausted(m.key, m.pid);
        return;
      case 'failed':
        this.host.log.error(`a front-end loop failed: ${m.message}`);
        return;
      default:
        return;
    }
  }
}
