import type { GroupSettings } from '../config/schema.js';
import type { Dispatchable } from '../frontend/exchange.js';
import type { Logger } from '../observability/logger.js';
import { AppLoadError, WorkerStartError } from './errors.js';
import { type LoadFailure, type WorkerInit, type WorkerOwner, WorkerProcess } from './worker-process.js';

export interface PoolOptions {
  /** "group" or "group/application-group". */
  label: string;
  settings: GroupSettings;
  interpreter: string;
  cwd: string;
  env: Record<string, string>;
  init: WorkerInit;
  log: Logger;
}

export type PoolState = 'starting' | 'serving' | 'failed' | 'stopping' | 'stopped';

/**
 * Pipelining: a process whose threads are all busy may still be sent this many requests per
 * thread, to wait inside it, so several requests share one wake-up (a hand-off between processes
 * costs ~60 us on these machines). Only while its longest-running request is younger than
 * PIPELINE_YOUNG_MS: a slow request stops pipelining onto its process, so waiting requests go to
 * whichever process frees a thread first.
 */
export const PIPELINE_PER_THREAD = 4;
export const PIPELINE_YOUNG_MS = 2;

const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** A worker that lived this long resets the back-off. */
const STABLE_MS = 10_000;

/**
 * The processes of one (process group, application group): starts them, gives each request to the
 * least busy process with a free thread or queues it (bounded, with queue-timeout), replaces
 * processes that die, and stops them gracefully.
 */
export class ProcessPool implements WorkerOwner {
  readonly options: PoolOptions;
  readonly label: string;
  state: PoolState = 'starting';
  /** Why the pool is failed, for 503s and status. */
  failure: string | undefined;
  readonly workers: WorkerProcess[] = [];
  private queue: Dispatchable[] = [];
  private queueHead = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private backoffMs = 0;
  private respawnTimers = new Set<NodeJS.Timeout>();
  private startWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private readonly log: Logger;

  constructor(options: PoolOptions) {
    this.options = options;
    this.label = options.label;
    this.log = options.log.child({ group: options.label });
  }

  get settings(): GroupSettings {
    return this.options.settings;
  }

  get queueLength(): number {
    return this.queue.length - this.queueHead;
  }

  /** Starts the processes; resolves when all report ready, rejects if the application fails to load. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.startWaiter = { resolve, reject };
      for (let i = 0; i < this.settings.processes; i++) this.spawn();
    });
  }

  // -- requests ------------------------------------------------------------------------------

  submit(ex: Dispatchable): void {
    if (this.state === 'failed') {
      ex.reject(503, `group '${this.label}' is not serving: ${this.failure ?? 'failed'}`, 30);
      return;
    }
    if (this.state === 'stopping' || this.state === 'stopped') {
      ex.reject(503, `group '${this.label}' is shutting down`, 5);
      return;
    }
    const w = this.pick();
    if (w !== undefined) {
      ex.startOn(w);
      return;
    }
    if (this.queueLength >= this.settings.queueSize) {
      ex.reject(503, `group '${this.label}' is full: ${this.queueLength} requests already wait for a thread (queue-size)`, 1);
      return;
    }
    this.queue.push(ex);
    if (this.sweepTimer === undefined && this.settings.queueTimeout > 0) {
      this.sweepTimer = setInterval(() => this.sweep(), Math.min(250, this.settings.queueTimeout * 1000));
    }
  }

  /** The least busy ready process with a free thread; else one that may take a pipelined request. */
  private pick(): WorkerProcess | undefined {
    let best: WorkerProcess | undefined;
    const ws = this.workers;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i] as WorkerProcess;
      if (w.state === 'ready' && w.busy < w.threads && (best === undefined || w.busy < best.busy)) best = w;
    }
    if (best !== undefined) return best;
    const young = Date.now() - PIPELINE_YOUNG_MS;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i] as WorkerProcess;
      if (this.canPipeline(w, young) && (best === undefined || w.busy < best.busy)) best = w;
    }
    return best;
  }

  private canPipeline(w: WorkerProcess, young: number): boolean {
    return w.state === 'ready' && w.busy < w.threads * (1 + PIPELINE_PER_THREAD) && w.oldestStart() >= young;
  }

  private dequeue(): Dispatchable | undefined {
    while (this.queueHead < this.queue.length) {
      const ex = this.queue[this.queueHead] as Dispatchable;
      this.queue[this.queueHead++] = undefined as unknown as Dispatchable;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
      if (!ex.gone) return ex;
    }
    this.queue.length = 0;
    this.queueHead = 0;
    return undefined;
  }

  private drainQueueTo(w: WorkerProcess): void {
    const young = Date.now() - PIPELINE_YOUNG_MS;
    while ((w.busy < w.threads ? w.state === 'ready' : this.canPipeline(w, young)) && this.queueHead < this.queue.length) {
      const ex = this.dequeue();
      if (ex === undefined) break;
      ex.startOn(w);
    }
    if (this.queueHead >= this.queue.length) this.stopSweep();
  }

  private sweep(): void {
    const limit = Date.now() - this.settings.queueTimeout * 1000;
    while (this.queueHead < this.queue.length) {
      const ex = this.queue[this.queueHead] as Dispatchable;
      if (!ex.gone && ex.queuedAt > limit) break;
      this.queue[this.queueHead++] = undefined as unknown as Dispatchable;
      if (!ex.gone) {
        ex.reject(503, `no thread of group '${this.label}' became free within queue-timeout (${this.settings.queueTimeout}s)`, 1);
      }
    }
    if (this.queueHead >= this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
      this.stopSweep();
    }
  }

  private stopSweep(): void {
    if (this.sweepTimer !== undefined) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  private rejectQueued(status: number, why: string, retryAfter?: number): void {
    for (let ex = this.dequeue(); ex !== undefined; ex = this.dequeue()) ex.reject(status, why, retryAfter);
    this.stopSweep();
  }

  // -- processes -----------------------------------------------------------------------------

  private spawn(): WorkerProcess {
    const o = this.options;
    const w = new WorkerProcess(
      {
        label: this.label,
        interpreter: o.interpreter,
        cwd: o.cwd,
        env: o.env,
        init: o.init,
        startupTimeoutMs: this.settings.startupTimeout * 1000,
      },
      this,
      o.log,
    );
    this.workers.push(w);
    return w;
  }

  onReady(w: WorkerProcess): void {
    if (this.state === 'stopping' || this.state === 'stopped') {
      void w.drain('shutdown', 0);
      return;
    }
    this.log.debug({ pid: w.pid }, 'worker ready');
    if (this.state === 'starting' && this.workers.every((x) => x.state === 'ready' || x.state === 'draining')) {
      this.state = 'serving';
      this.startWaiter?.resolve();
      this.startWaiter = undefined;
    } else if (this.state === 'starting' && this.startWaiter === undefined) {
      this.state = 'serving';
    }
    this.drainQueueTo(w);
  }

  onLoadFailed(w: WorkerProcess, failure: LoadFailure): void {
    const err = new AppLoadError(this.label, this.options.interpreter, failure);
    this.fail(err.message, err);
    void w.drain('load-failed', 0);
  }

  onFree(w: WorkerProcess): void {
    if (this.queueHead < this.queue.length) this.drainQueueTo(w);
  }

  onExit(w: WorkerProcess, reason: string): void {
    const i = this.workers.indexOf(w);
    if (i >= 0) this.workers.splice(i, 1);
    if (this.state === 'stopping' || this.state === 'stopped' || this.state === 'failed') return;
    if (w.stopReason !== undefined && w.stopReason !== 'startup-timeout') return;
    if (w.readyInfo === undefined) {
      // Died before it was ready: the application (or the interpreter) cannot start.
      const why =
        w.stopReason === 'startup-timeout'
          ? `a process did not report ready within startup-timeout (${this.settings.startupTimeout}s)`
          : `a process ${reason} before it was ready`;
      if (this.startWaiter !== undefined) {
        this.fail(why, new WorkerStartError('WORKER_START_FAILED', `group '${this.label}': ${why}; the log above says why`));
        return;
      }
    }
    const lived = Date.now() - w.startedAt;
    this.backoffMs = lived > STABLE_MS ? 0 : Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_FIRST_MS, this.backoffMs * 2));
    this.log.warn({ pid: w.pid }, `replacing worker process (${reason})${this.backoffMs ? ` in ${this.backoffMs} ms` : ''}`);
    this.respawnLater(this.backoffMs);
  }

  private respawnLater(ms: number): void {
    if (ms === 0) {
      this.spawn();
      return;
    }
    const t = setTimeout(() => {
      this.respawnTimers.delete(t);
      if (this.state === 'serving' || this.state === 'starting') this.spawn();
    }, ms);
    this.respawnTimers.add(t);
  }

  private fail(why: string, err: Error): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    this.failure = why.split('\n')[0];
    if (this.startWaiter !== undefined) {
      this.startWaiter.reject(err);
      this.startWaiter = undefined;
    } else {
      this.log.error({ err }, `group '${this.label}' stopped serving: ${err.message}`);
    }
    this.rejectQueued(503, `group '${this.label}' is not serving: ${this.failure}`, 30);
    for (const w of this.workers) void w.drain('failed', 0);
  }

  /** Stops every process: in-flight requests get graceMs to finish. */
  async stop(graceMs: number): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    for (const t of this.respawnTimers) clearTimeout(t);
    this.respawnTimers.clear();
    this.rejectQueued(503, `group '${this.label}' is shutting down`, 5);
    this.startWaiter?.reject(new WorkerStartError('WORKER_START_FAILED', `group '${this.label}' was stopped while starting`));
    this.startWaiter = undefined;
    await Promise.all([...this.workers].map((w) => w.drain('shutdown', graceMs)));
    this.state = 'stopped';
  }
}
