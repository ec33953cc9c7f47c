import type { GroupSettings } from '../config/schema.js';
import type { Dispatchable } from '../http/exchange.js';
import { countFault } from '../observability/faults.js';
import type { Logger } from '../observability/logger.js';
import { AppLoadError, WorkerStartError } from './errors.js';
import { FileWatch } from './file-watch.js';
import { RestartLog, type RestartReason } from './restart-log.js';
import { type LoadFailure, type WorkerInit, type WorkerOwner, WorkerProcess } from './worker-process.js';

export interface PoolOptions {
  /** "group" or "group/application-group". */
  label: string;
  /** WSGI script files whose change restarts the pool (script reloading). */
  scripts: string[];
  settings: GroupSettings;
  interpreter: string;
  cwd: string;
  env: Record<string, string>;
  init: WorkerInit;
  log: Logger;
  uid?: number;
  gid?: number;
}

export type PoolState = 'starting' | 'serving' | 'failed' | 'stopping' | 'stopped';

/**
 * Pipelining: a process whose threads are all busy may still be sent this many more requests, to
 * wait inside it, so several requests share one wake-up (a hand-off between processes costs tens
 * of microseconds on these machines). Only for a group whose requests have been fast (a moving
 * average of their service time under PIPELINE_SERVICE_MS; unknown counts as slow), and only while
 * the process's longest-running request is younger than PIPELINE_YOUNG_MS: requests never wait
 * behind a slow one inside a process, where no other process could take them.
 */
export const PIPELINE_DEPTH = 8;
export const PIPELINE_YOUNG_MS = 2;
export const PIPELINE_SERVICE_MS = 1;

const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** A process that lived this long resets the back-off and the crash-loop count. */
const STABLE_MS = 10_000;
/** This many processes in a row dying young is a crash loop: the group is marked failed. */
export const CRASH_LOOP_DEATHS = 5;
const TICK_MS = 500;
/** After a replacement failed to load, do not try to recycle that process again for this long. */
const RECYCLE_RETRY_MS = 30_000;

/**
 * The processes of one (process group, application group): starts them, gives each request to the
 * least busy process with a free thread or queues it (bounded, with queue-timeout), replaces
 * processes that die or reach a limit (the replacement is ready before the old one leaves), restarts
 * them all when the script changes, and stops them gracefully.
 */
export class ProcessPool implements WorkerOwner {
  readonly options: PoolOptions;
  readonly label: string;
  state: PoolState = 'starting';
  /** Why the pool is failed, for 503s and status. */
  failure: string | undefined;
  readonly workers: WorkerProcess[] = [];
  readonly restarts = new RestartLog();
  /** The generation new requests go to; a restart starts the next one. */
  generation = 1;
  /** Moving average of how long requests run (ms); unknown until the first ones finish. */
  serviceMs = Number.POSITIVE_INFINITY;
  private readonly fixed: boolean;
  private queue: Dispatchable[] = [];
  private queueHead = 0;
  /** Requests that must be served by a generation being started (they noticed the change). */
  private held: Dispatchable[] = [];
  private restarting: { generation: number; reason: RestartReason; detail: string; resolve: (ok: boolean) => void } | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private backoffMs = 0;
  private youngDeaths = 0;
  private respawnTimers = new Set<NodeJS.Timeout>();
  private startWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private readonly log: Logger;
  /** Script reloading: the scripts, checked at most once a second by the requests that arrive. */
  readonly scriptWatch: FileWatch | undefined;
  /** --reload-on-changes: every Python module the processes loaded. */
  moduleWatch: FileWatch | undefined;

  constructor(options: PoolOptions) {
    this.options = options;
    this.label = options.label;
    this.fixed = options.settings.dynamic === undefined;
    this.log = options.log.child({ group: options.label });
    if (options.settings.scriptReloading && options.scripts.length > 0) this.scriptWatch = new FileWatch(options.scripts);
  }

  /**
   * Dispatch with script reloading: when a check is due and a script changed, every process is
   * restarted and this request (which noticed the change) is served by the new code.
   */
  dispatch(ex: Dispatchable): void {
    const watch = this.scriptWatch;
    if (watch === undefined || !watch.due(Date.now()) || this.state !== 'serving') {
      this.submit(ex);
      return;
    }
    void watch.check().then((changed) => {
      if (changed === undefined) {
        this.submit(ex);
        return;
      }
      void this.restartAll('script-touched', `${changed} changed`);
      this.submit(ex); // held until the new processes are ready
    });
  }

  get settings(): GroupSettings {
    return this.options.settings;
  }

  get queueLength(): number {
    return this.queue.length - this.queueHead;
  }

  /** Processes kept running (the fixed count, or the dynamic minimum, at least one at start). */
  private get floor(): number {
    const d = this.settings.dynamic;
    return d === undefined ? this.settings.processes : d.min;
  }

  private get ceiling(): number {
    const d = this.settings.dynamic;
    return d === undefined ? this.settings.processes : d.max;
  }

  /** Starts the processes; resolves when all report ready, rejects if the application fails to load. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.startWaiter = { resolve, reject };
      for (let i = 0; i < Math.max(1, this.floor); i++) this.spawn(this.generation);
      this.tickTimer = setInterval(this.guardedTick, TICK_MS);
      this.tickTimer.unref();
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
    if (this.restarting !== undefined) {
      // A changed script was noticed: new requests wait for the new code.
      if (this.held.length >= this.settings.queueSize) {
        ex.reject(503, `group '${this.label}' is restarting and ${this.held.length} requests already wait for it (queue-size)`, 1);
      } else this.held.push(ex);
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
    this.growIfNeeded();
  }


  /** The least busy serving process with a free thread; else one that may take a pipelined request. */
  private pick(): WorkerProcess | undefined {
    let best: WorkerProcess | undefined;
    const ws = this.workers;
    const gen = this.generation;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i] as WorkerProcess;
      if (w.state === 'ready' && w.generation === gen && !w.stuck && w.busy < w.threads && (best === undefined || w.busy < best.busy)) best = w;
    }
    if (best !== undefined) return best;
    const young = Date.now() - PIPELINE_YOUNG_MS;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i] as WorkerProcess;
      if (w.generation === gen && this.canPipeline(w, young) && (best === undefined || w.busy < best.busy)) best = w;
    }
    return best;
  }

  private canPipeline(w: WorkerProcess, young: number): boolean {
    return (
      this.serviceMs < PIPELINE_SERVICE_MS &&
      w.state === 'ready' &&
      !w.stuck &&
      w.busy < w.threads + PIPELINE_DEPTH &&
      w.oldestStart() >= young
    );
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
    if (w.generation !== this.generation || w.stuck) return;
    const young = Date.now() - PIPELINE_YOUNG_MS;
    while ((w.busy < w.threads ? w.state === 'ready' : this.canPipeline(w, young)) && this.queueHead < this.queue.length) {
      const ex = this.dequeue();
      if (ex === undefined) break;
      ex.startOn(w);
    }
  }

  private expireQueued(now: number): void {
    if (this.settings.queueTimeout <= 0) return;
    const limit = now - this.settings.queueTimeout * 1000;
    if (this.held.length > 0 && (this.held[0] as Dispatchable).queuedAt <= limit) {
      const [late, keep] = [this.held.filter((ex) => ex.queuedAt <= limit), this.held.filter((ex) => ex.queuedAt > limit)];
      this.held = keep;
      for (const ex of late) {
        if (!ex.gone) ex.reject(503, `group '${this.label}' did not finish restarting within queue-timeout (${this.settings.queueTimeout}s)`, 1);
      }
    }
    if (this.queueHead >= this.queue.length) return;
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
    }
  }

  private rejectQueued(status: number, why: string, retryAfter?: number): void {
    for (let ex = this.dequeue(); ex !== undefined; ex = this.dequeue()) ex.reject(status, why, retryAfter);
    for (const ex of this.held.splice(0)) if (!ex.gone) ex.reject(status, why, retryAfter);
  }

  /** Gives requests taken back from a process to others (or the queue). */
  private redispatch(list: readonly unknown[]): void {
    for (const ex of list as Dispatchable[]) if (!ex.gone) this.submit(ex);
  }

  // -- processes -----------------------------------------------------------------------------

  private spawn(generation: number, reason = 'start', detail = ''): WorkerProcess {
    const o = this.options;
    const s = this.settings;
    const jitter = s.maximumRequestsJitter > 0 ? Math.floor(Math.random() * (s.maximumRequestsJitter + 1)) : 0;
    const w = new WorkerProcess(
      {
        label: this.label,
        generation,
        maxRequests: s.maximumRequests > 0 ? s.maximumRequests + jitter : 0,
        startReason: { reason, detail },
        interpreter: o.interpreter,
        cwd: o.cwd,
        env: o.env,
        init: o.init,
        startupTimeoutMs: s.startupTimeout * 1000,
        ...(o.uid !== undefined ? { uid: o.uid } : {}),
        ...(o.gid !== undefined ? { gid: o.gid } : {}),
      },
      this,
      o.log,
    );
    this.workers.push(w);
    return w;
  }

  /** Processes of the current generation that serve or will (not retiring). */
  private liveCount(): number {
    let n = 0;
    for (const w of this.workers) if (w.generation === this.generation && w.state !== 'draining' && w.recycling === undefined) n++;
    return n;
  }

  /** Dynamic pools: start one more process when requests wait and none is starting. */
  private growIfNeeded(): void {
    if (this.fixed || this.state !== 'serving' || this.restarting !== undefined) return;
    if (this.workers.some((w) => w.state === 'starting')) return;
    if (this.liveCount() >= this.ceiling) return;
    this.log.info(`starting another process: ${this.queueLength} request(s) wait for a thread`);
    this.spawn(this.generation, 'demand', `${this.queueLength} request(s) waited for a thread`);
  }

  /**
   * Replaces a process: the replacement starts now; the old one keeps serving until the replacement
   * is ready, then finishes its requests within graceful-timeout and leaves.
   */
  recycle(w: WorkerProcess, reason: RestartReason, detail: string): void {
    if (w.recycling !== undefined || w.state !== 'ready' || this.state !== 'serving') return;
    if (w.recycleFailedAt !== undefined && Date.now() - w.recycleFailedAt < RECYCLE_RETRY_MS) return;
    w.recycling = reason;
    this.restarts.add(w.pid, reason, detail);
    this.log.info({ pid: w.pid }, `recycling worker process (${reason}: ${detail})`);
    const replacement = this.spawn(w.generation, reason, detail);
    replacement.replaces = w;
  }

  private retire(w: WorkerProcess, reason: string): void {
    const s = this.settings;
    w.recycling ??= reason;
    w.recallWaiting();
    void w.drain(reason, s.gracefulTimeout * 1000, s.shutdownTimeout * 1000);
  }

  /**
   * Restarts every process (a changed script, or reload): a whole new generation starts; only when
   * all of it is ready do the old processes drain. If the new one fails to load, it is stopped and
   * the old one keeps serving. Resolves true when the new generation serves.
   */
  restartAll(reason: RestartReason, detail: string): Promise<boolean> {
    if (this.restarting !== undefined || this.state !== 'serving') return Promise.resolve(false);
    return new Promise((resolve) => {
      const generation = this.generation + 1;
      this.restarting = { generation, reason, detail, resolve };
      this.log.info(`restarting every process (${reason}: ${detail}); the old ones serve until the new ones are ready`);
      const n = Math.max(1, this.fixed ? this.settings.processes : Math.max(this.floor, this.liveCount()));
      for (let i = 0; i < n; i++) this.spawn(generation, reason, detail);
    });
  }

  private finishRestart(ok: boolean, why?: string): void {
    const r = this.restarting;
    if (r === undefined) return;
    this.restarting = undefined;
    if (ok) {
      const old = this.workers.filter((w) => w.generation < r.generation);
      this.generation = r.generation;
      for (const w of old) {
        this.restarts.add(w.pid, r.reason, r.detail);
        this.retire(w, r.reason);
      }
    } else {
      for (const w of this.workers.filter((x) => x.generation === r.generation)) {
        w.stopReason = 'rollback';
        void w.drain('rollback', 0);
      }
      this.log.error(`restart (${r.reason}) failed: ${why ?? 'the new processes did not start'}; the running processes keep serving the previous code`);
    }
    const held = this.held.splice(0);
    this.redispatch(held);
    for (const w of this.workers) if (w.state === 'ready') this.drainQueueTo(w);
    r.resolve(ok);
  }

  onReady(w: WorkerProcess): void {
    if (this.state === 'stopping' || this.state === 'stopped' || this.state === 'failed') {
      void w.drain('shutdown', 0);
      return;
    }
    this.log.debug({ pid: w.pid }, 'worker ready');
    if (this.restarting !== undefined && w.generation === this.restarting.generation) {
      const fresh = this.workers.filter((x) => x.generation === w.generation);
      if (fresh.every((x) => x.state === 'ready')) this.finishRestart(true);
      return;
    }
    if (w.replaces !== undefined) {
      const old = w.replaces;
      w.replaces = undefined;
      this.retire(old, old.recycling ?? 'recycle');
    }
    if (this.state === 'starting' && this.workers.every((x) => x.state !== 'starting')) {
      this.state = 'serving';
      this.startWaiter?.resolve();
      this.startWaiter = undefined;
    }
    this.drainQueueTo(w);
  }

  onLoadFailed(w: WorkerProcess, failure: LoadFailure): void {
    const err = new AppLoadError(this.label, this.options.interpreter, failure);
    void w.drain('load-failed', 0);
    if (this.restarting !== undefined && w.generation === this.restarting.generation) {
      this.finishRestart(false, err.message);
      return;
    }
    if (w.replaces !== undefined) {
      // A recycled process's replacement cannot load (the code on disk changed?): keep the old one.
      const old = w.replaces;
      w.replaces = undefined;
      old.recycling = undefined;
      old.recycleFailedAt = Date.now();
      this.log.error({ err }, `a replacement process failed to load; process ${old.pid} keeps serving: ${err.message}`);
      return;
    }
    if (this.startWaiter !== undefined || this.liveCount() === 0) this.fail(err.message, err);
    else this.log.error({ err }, `a new process failed to load: ${err.message}`);
  }

  onModules(_w: WorkerProcess, files: string[]): void {
    if (this.moduleWatch === undefined) this.moduleWatch = new FileWatch(files);
    else this.moduleWatch.add(files);
  }

  onRecalled(_w: WorkerProcess, requests: readonly unknown[]): void {
    this.redispatch(requests);
  }

  onFree(w: WorkerProcess, ranMs: number): void {
    this.serviceMs = this.serviceMs === Number.POSITIVE_INFINITY ? ranMs : this.serviceMs + (ranMs - this.serviceMs) * 0.1;
    if (w.exhausted && w.recycling === undefined) {
      this.recycle(w, 'maximum-requests', `served ${w.served} requests`);
    }
    if (this.queueHead < this.queue.length) this.drainQueueTo(w);
  }

  onExit(w: WorkerProcess, reason: string, code: number | null, signal: NodeJS.Signals | null): void {
    const i = this.workers.indexOf(w);
    if (i >= 0) this.workers.splice(i, 1);
    if (this.state === 'stopping' || this.state === 'stopped' || this.state === 'failed') return;
    if (w.replaces !== undefined) {
      // A replacement died before it was ready: the old process keeps serving.
      w.replaces.recycling = undefined;
      w.replaces.recycleFailedAt = Date.now();
      w.replaces = undefined;
    }
    if (this.restarting !== undefined && w.generation === this.restarting.generation && w.readyInfo === undefined) {
      this.finishRestart(false, `a new process ${reason} before it was ready`);
      return;
    }
    if (w.stopReason !== undefined && w.stopReason !== 'startup-timeout') {
      this.refill();
      return;
    }
    const lived = Date.now() - (w.readyAt || w.startedAt);
    if (w.readyInfo === undefined && this.startWaiter !== undefined) {
      const why =
        w.stopReason === 'startup-timeout'
          ? `a process did not report ready within startup-timeout (${this.settings.startupTimeout}s)`
          : `a process ${reason} before it was ready`;
      this.fail(why, new WorkerStartError('WORKER_START_FAILED', `group '${this.label}': ${why}; the log above says why`));
      return;
    }
    this.restarts.add(w.pid, 'crash', signal ? `killed by ${signal}` : `exit code ${code}`);
    if (w.readyInfo === undefined || lived < STABLE_MS) this.youngDeaths++;
    else this.youngDeaths = 0;
    if (this.youngDeaths >= CRASH_LOOP_DEATHS) {
      const why = `crash loop: ${this.youngDeaths} processes in a row died within ${STABLE_MS / 1000}s of starting (last: ${reason})`;
      this.fail(why, new WorkerStartError('CRASH_LOOP', `group '${this.label}': ${why}`));
      return;
    }
    this.backoffMs = lived > STABLE_MS ? 0 : Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_FIRST_MS, this.backoffMs * 2));
    this.log.warn({ pid: w.pid }, `replacing worker process (${reason})${this.backoffMs ? ` in ${this.backoffMs} ms` : ''}`);
    this.respawnLater(this.backoffMs, w.generation, `replaces process ${w.pid}, which ${reason}`);
  }

  /** Keeps the pool at its floor after a process left on purpose. */
  private refill(): void {
    if (this.state !== 'serving' || this.restarting !== undefined) return;
    const starting = this.workers.filter((w) => w.generation === this.generation && w.state === 'starting').length;
    for (let n = this.liveCount() + starting; n < this.floor; n++) this.spawn(this.generation, 'refill', `below the minimum of ${this.floor}`);
    if (this.queueLength > 0) this.growIfNeeded();
  }

  private respawnLater(ms: number, generation: number, detail: string): void {
    const go = (): void => {
      if (this.state !== 'serving' && this.state !== 'starting') return;
      if (generation !== this.generation) return;
      if (!this.fixed && this.liveCount() >= Math.max(this.floor, this.queueLength > 0 ? 1 : 0)) return;
      this.spawn(generation, 'crash', detail);
    };
    if (ms === 0) {
      go();
      return;
    }
    const t = setTimeout(() => {
      this.respawnTimers.delete(t);
      go();
    }, ms);
    this.respawnTimers.add(t);
  }

  // -- supervision ---------------------------------------------------------------------------

  /** The tick, guarded: an error in it is a bug of ours, logged and counted; the next tick runs. */
  private readonly guardedTick = (): void => {
    try {
      this.tick();
    } catch (err) {
      countFault('supervisor');
      this.log.error({ err }, `internal error in group '${this.label}' while checking its processes`);
    }
  };

  private tick(): void {
    const now = Date.now();
    // Limits on requests apply in every state of a process (ready, recycling, draining) and of the
    // pool (serving, or stopping while its processes finish their requests).
    this.enforceRequestTimeout(now);
    if (this.state !== 'serving') return;
    const s = this.settings;
    this.expireQueued(now);
    const modules = this.moduleWatch;
    if (modules !== undefined && this.restarting === undefined && modules.due(now)) {
      void modules.check().then((changed) => {
        if (changed !== undefined) void this.restartAll('reload', `${changed} changed (--reload-on-changes)`);
      });
    }
    for (const w of [...this.workers]) {
      if (w.state !== 'ready') continue;
      if (w.recycling !== undefined || w.generation !== this.generation) continue;
      if (s.restartInterval > 0 && now - w.readyAt > s.restartInterval * 1000) {
        this.recycle(w, 'restart-interval', `ran ${Math.round((now - w.readyAt) / 1000)}s (restart-interval ${s.restartInterval}s)`);
        continue;
      }
      const idleFor = w.busy === 0 ? now - w.lastActive : 0;
      if (!this.fixed && idleFor > (s.dynamic?.idleTimeout ?? 0) * 1000 && this.liveCount() > this.floor) {
        this.restarts.add(w.pid, 'idle', `idle ${Math.round(idleFor / 1000)}s, above the minimum of ${this.floor}`);
        this.log.info({ pid: w.pid }, `stopping an idle process (idle ${Math.round(idleFor / 1000)}s)`);
        this.retire(w, 'idle');
        continue;
      }
      if (s.inactivityTimeout > 0 && idleFor > s.inactivityTimeout * 1000 && w.served > 0) {
        this.recycle(w, 'idle', `idle ${Math.round(idleFor / 1000)}s (inactivity-timeout ${s.inactivityTimeout}s)`);
        continue;
      }
      if (s.memoryLimit > 0) void this.checkMemory(w);
    }
    if (this.queueLength > 0) this.growIfNeeded();
  }

  /** request-timeout, for the requests of every process that has any: ready, recycling or draining. */
  private enforceRequestTimeout(now: number): void {
    const limit = this.settings.requestTimeout;
    if (limit <= 0) return;
    for (const w of [...this.workers]) {
      if (w.busy === 0 || w.state === 'exited') continue;
      for (const [id, sink, started] of w.runningSince(now - limit * 1000)) this.requestTimedOut(w, id, sink, now - started);
    }
  }

  private async checkMemory(w: WorkerProcess): Promise<void> {
    const rss = await w.rss();
    if (rss > this.settings.memoryLimit && w.recycling === undefined) {
      this.recycle(w, 'memory-limit', `resident memory ${mb(rss)} over memory-limit ${mb(this.settings.memoryLimit)}`);
    }
  }

  /** A request ran past request-timeout: 504 to its client, the stacks logged, the process replaced. */
  private requestTimedOut(w: WorkerProcess, id: number, sink: { requestId: string; onTimeout(limit: number): void }, ranMs: number): void {
    if (w.timedOut.has(id)) return;
    w.timedOut.add(id);
    const limit = this.settings.requestTimeout;
    this.log.error(
      { pid: w.pid, requestId: sink.requestId },
      `request-timeout: a request has run ${(ranMs / 1000).toFixed(1)}s (limit ${limit}s); answered 504; the Python stacks of every thread of process ${w.pid} follow, ${w.state === 'draining' ? 'while it finishes its other requests and leaves' : 'then the process is replaced'}`,
    );
    sink.onTimeout(limit);
    w.cancel(id);
    w.kill('SIGUSR2'); // faulthandler: every thread's stack to stderr, which is logged
    // It takes no new requests from now on (requests waiting in it go elsewhere); its other running
    // requests get graceful-timeout once the replacement is ready.
    if (!w.stuck) {
      w.stuck = true;
      w.recallWaiting();
    }
    this.recycle(w, 'request-timeout', `a request ran over ${limit}s`);
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

  /**
   * A reload replaced this pool: the requests waiting in its queue go to the successor (the same
   * group in the new configuration), then its processes finish what they run and stop.
   */
  async retireTo(successor: ProcessPool | undefined, graceMs: number): Promise<void> {
    if (successor !== undefined) {
      const waiting: Dispatchable[] = [];
      for (let ex = this.dequeue(); ex !== undefined; ex = this.dequeue()) waiting.push(ex);
      waiting.push(...this.held.splice(0));
      for (const ex of waiting) successor.submit(ex);
    }
    await this.stop(graceMs);
  }

  /** Stops every process: in-flight requests get graceMs to finish. */
  async stop(graceMs: number): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    // The tick keeps enforcing request-timeout while the processes finish their requests.
    for (const t of this.respawnTimers) clearTimeout(t);
    this.respawnTimers.clear();
    this.finishRestart(false, 'the server is stopping');
    this.rejectQueued(503, `group '${this.label}' is shutting down`, 5);
    this.startWaiter?.reject(new WorkerStartError('WORKER_START_FAILED', `group '${this.label}' was stopped while starting`));
    this.startWaiter = undefined;
    await Promise.all([...this.workers].map((w) => w.drain('shutdown', graceMs, this.settings.shutdownTimeout * 1000)));
    clearInterval(this.tickTimer);
    this.state = 'stopped';
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
