/**
 * reason: the lifecycle of a group's processes is one state machine (starting, serving, restarting
 * a generation, failed, stopping) whose transitions read each other's state; split across files it
 * would be read back and forth. What is not lifecycle lives beside it: which process gets a
 * request (scheduler.ts), the queue (request-queue.ts), when to recycle (recycle-rules.ts), the
 * per-process flags (pool-member.ts), and the request's own state (request-handle.ts).
 */
import type { GroupSettings } from '../config/schema.js';
import type { PoolRequest, RequestPort, RequestStream } from '../contract/request-port.js';
import { countFault } from '../observability/faults.js';
import type { Logger } from '../observability/logger.js';
import type { LoadFailure, WorkerInit } from '../protocol/messages.js';
import { AppLoadError, WorkerErrorCode, WorkerStartError } from './errors.js';
import { FileWatch } from './file-watch.js';
import { type MemberOwner, PoolMember } from './pool-member.js';
import { firstFiring, idleFor, rulesWhen } from './recycle-rules.js';
import type { ReplyPoller } from './reply-poller.js';
import type { Scoreboard } from './scoreboard.js';
import { RequestHandle } from './request-handle.js';
import { RequestQueue } from './request-queue.js';
import { RestartLog, type RestartReason } from './restart-log.js';
import { canTakeQueued, nextServiceMs, pickProcess } from './scheduler.js';
import type { PoolSnapshot, PoolState, ProcessSnapshot } from './snapshot.js';
import { nextDue, type TimeCandidate, tickNeeded, wakeDelay } from './tick-plan.js';

export type { PoolState } from './snapshot.js';

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
  /**
   * front-ends > 1: the scoreboard every loop counts requests on, and who to tell when what the
   * other loops must know changed (a process ready, draining or gone, stuck, a new generation).
   */
  shared?: { board: Scoreboard; changed: () => void };
  /** Told when a process became ready, started draining or left, or the pool's state changed (its capacity may have). */
  onChange?: () => void;
}

const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** A process that lived this long resets the back-off and the crash-loop count. */
const STABLE_MS = 10_000;
/** This many processes in a row dying young is a crash loop: the group is marked failed. */
export const CRASH_LOOP_DEATHS = 5;
const TICK_MS = 500;
/** After a replacement failed to load, do not try to recycle that process again for this long. */
const RECYCLE_RETRY_MS = 30_000;

const REQUEST_END_RULES = rulesWhen('request-end');
const TICK_RULES = rulesWhen('tick');
const MEMORY_RULES = rulesWhen('memory');
const REQUEST_RULES = rulesWhen('request');

/**
 * The processes of one (process group, application group): starts them, gives each request to a
 * process (scheduler.ts) or queues it (bounded, with queue-timeout), replaces processes that die
 * or reach a limit (the replacement is ready before the old one leaves), restarts them all when
 * the script changes, and stops them gracefully.
 */
export class ProcessPool implements RequestPort, MemberOwner {
  readonly options: PoolOptions;
  readonly label: string;
  state: PoolState = 'starting';
  /** Why the pool is failed, for 503s and status. */
  failure: string | undefined;
  readonly members: PoolMember[] = [];
  readonly restarts = new RestartLog();
  /** The generation new requests go to; a restart starts the next one. */
  generation = 1;
  /** Moving average of how long requests run (ms); unknown until the first ones finish. */
  serviceMs = Number.POSITIVE_INFINITY;
  private readonly fixed: boolean;
  private readonly queue = new RequestQueue<RequestHandle>();
  private readonly poller: ReplyPoller;
  private restarting: { generation: number; reason: RestartReason; detail: string; resolve: (ok: boolean) => void } | undefined;
  /** The tick, while the pool has requests running, waiting or held, or restarts or stops (tick-plan.ts). */
  private tickTimer: NodeJS.Timeout | undefined;
  /** While the tick is off: wakes the pool when a time-based rule is next due. */
  private wakeTimer: NodeJS.Timeout | undefined;
  /** --reload-on-changes: polls the modules, idle or not (a development mode). */
  private watchTimer: NodeJS.Timeout | undefined;
  private backoffMs = 0;
  private youngDeaths = 0;
  private readonly respawnTimers = new Set<NodeJS.Timeout>();
  private startWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private readonly log: Logger;
  /** Script reloading: the scripts, checked at most once a second by the requests that arrive. */
  readonly scriptWatch: FileWatch | undefined;
  /** --reload-on-changes: every Python module the processes loaded. */
  private moduleWatch: FileWatch | undefined;
  /** front-ends > 1: this pool's index on the scoreboard (its free signal). */
  readonly boardGroup: number;
  /** Waiting (Atomics.waitAsync) for another loop to free one of this pool's threads. */
  private waitingFree = false;

  constructor(options: PoolOptions, poller: ReplyPoller) {
    this.options = options;
    this.label = options.label;
    this.poller = poller;
    this.fixed = options.settings.dynamic === undefined;
    this.log = options.log.child({ group: options.label });
    if (options.settings.scriptReloading && options.scripts.length > 0) this.scriptWatch = new FileWatch(options.scripts);
    this.boardGroup = options.shared?.board.allocateGroup() ?? -1;
  }

  /**
   * What the other loops (front-ends > 1) and the server's statistics must know changed: a process
   * ready, draining or gone, stuck, a new generation, the pool's state. The tick looks at it too.
   */
  private changed(): void {
    this.options.shared?.changed();
    this.options.onChange?.();
    this.arm();
  }

  /** Starts the tick (twice a second) unless it runs; the wake-up timer is not needed while it does. */
  private arm(): void {
    if (this.tickTimer !== undefined || this.state === 'stopped') return;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.tickTimer = setInterval(this.guardedTick, TICK_MS);
    this.tickTimer.unref();
  }

  /**
   * After a tick: it keeps running while the pool has requests running (in any loop), waiting or
   * held, or restarts or stops; otherwise it stops, and a one-shot timer wakes the pool when a
   * time-based rule is next due (tick-plan.ts). Anything that happens arms it again: a request, a
   * process ready or gone, another loop's activity.
   */
  private settle(): void {
    if (this.state === 'stopped') return;
    let busy = 0;
    for (const m of this.members) if (m.process.state !== 'exited') busy += m.process.busy;
    const work = { busy, queued: this.queueLength + this.queue.heldLength, restarting: this.restarting !== undefined, stopping: this.state === 'stopping' };
    if (tickNeeded(work)) {
      this.arm();
      return;
    }
    clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    this.scheduleWake();
  }

  private scheduleWake(): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    if (this.state !== 'serving') return;
    const now = Date.now();
    const candidates: TimeCandidate[] = [];
    for (const m of this.members) {
      const w = m.process;
      if (w.state === 'ready' && m.recycling === undefined && w.generation === this.generation)
        candidates.push({ subject: w, recycleFailedAt: m.recycleFailedAt });
    }
    const due = nextDue(candidates, this.settings, now, !this.fixed && this.liveCount() > this.floor, RECYCLE_RETRY_MS);
    if (due === undefined) return;
    this.wakeTimer = setTimeout(this.wake, wakeDelay(due, now, TICK_MS));
    this.wakeTimer.unref();
  }

  private readonly wake = (): void => {
    this.wakeTimer = undefined;
    this.guardedTick();
  };

  /**
   * front-ends > 1: another loop started or finished a request of this pool (its report, within
   * 100 ms). The tick looks: the scripts (that loop's requests do not), the requests queued there
   * (a dynamic pool grows), and when the processes last served (read from the scoreboard now).
   */
  activity(): void {
    for (const m of this.members) m.process.noteServedElsewhere();
    this.arm();
  }

  /**
   * front-ends > 1: a queued request may run once another loop frees one of this pool's threads;
   * wait for that (and re-check at least every TICK_MS) while requests are queued.
   */
  private waitForFree(): void {
    const board = this.options.shared?.board;
    if (board === undefined || this.waitingFree) return;
    this.waitingFree = true;
    void board.freed(this.boardGroup, TICK_MS).then(() => {
      this.waitingFree = false;
      if (this.queue.length === 0) return;
      for (const m of this.members) if (this.queue.length > 0) this.drainQueueTo(m);
      if (this.queue.length > 0) this.waitForFree();
    });
  }

  /** front-ends > 1: another loop saw process pid reach maximum-requests (counted over every loop). */
  reportExhausted(pid: number): void {
    const m = this.members.find((x) => x.pid === pid);
    if (m === undefined || m.recycling !== undefined) return;
    const fired = firstFiring(REQUEST_END_RULES, m.process, this.settings, m.process.lastActive);
    if (fired !== undefined) this.recycle(m, fired.reason, fired.detail);
    this.arm();
  }

  /** front-ends > 1: another loop saw a request of process pid run past request-timeout. */
  reportStuck(pid: number, ranMs: number): void {
    this.arm();
    const m = this.members.find((x) => x.pid === pid);
    if (m === undefined || m.process.state === 'exited') return;
    m.process.kill('SIGUSR2');
    if (!m.stuck) {
      m.stuck = true;
      m.process.recallWaiting();
      this.changed();
    }
    const fired = firstFiring(REQUEST_RULES, m.process, this.settings, Date.now(), ranMs);
    if (fired !== undefined) this.recycle(m, fired.reason, fired.detail);
  }

  get settings(): GroupSettings {
    return this.options.settings;
  }

  /** Requests waiting for a thread: in this loop's queue, and in the other loops' (front-ends > 1). */
  get queueLength(): number {
    const shared = this.options.shared;
    return this.queue.length + (shared === undefined ? 0 : Math.max(0, shared.board.queuedElsewhere(this.boardGroup)));
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
    });
  }

  snapshot(): Omit<PoolSnapshot, 'key' | 'group' | 'applicationGroup' | 'mounts' | 'environment'> {
    return {
      label: this.label,
      state: this.state,
      failure: this.failure,
      settings: this.settings,
      queueLength: this.queueLength,
      workers: this.members.map((m) => m.snapshot()).filter((p): p is ProcessSnapshot => p !== undefined),
      restarts: { counts: { ...this.restarts.counts }, recent: this.restarts.recent.slice(-20) },
    };
  }

  // -- requests ------------------------------------------------------------------------------

  /**
   * A request from the HTTP side. With script reloading, when a check is due and a script
   * changed, every process is restarted and this request (which noticed the change) is served by
   * the new code.
   */
  dispatch(request: PoolRequest): RequestStream {
    const handle = new RequestHandle(request);
    const watch = this.scriptWatch;
    if (watch === undefined || !watch.due(Date.now()) || this.state !== 'serving') {
      this.submit(handle);
      return handle;
    }
    void watch.check().then((changed) => {
      if (changed !== undefined) void this.restartAll('script-touched', `${changed} changed`);
      this.submit(handle); // held until the new processes are ready, when a restart began
    });
    return handle;
  }

  private submit(h: RequestHandle): void {
    if (h.cancelled) return;
    if (this.state === 'failed') return h.reject(`group '${this.label}' is not serving: ${this.failure ?? 'failed'}`, 30);
    if (this.state === 'stopping' || this.state === 'stopped') return h.reject(`group '${this.label}' is shutting down`, 5);
    if (this.tickTimer === undefined) this.arm();
    if (this.restarting !== undefined) {
      // A changed script was noticed: new requests wait for the new code.
      if (this.queue.heldLength >= this.settings.queueSize) {
        return h.reject(`group '${this.label}' is restarting and ${this.queue.heldLength} requests already wait for it (queue-size)`, 1);
      }
      return this.queue.hold(h);
    }
    const m = pickProcess(this.members, this.generation, this.serviceMs, Date.now());
    if (m !== undefined) return m.process.start(h);
    if (this.queue.length >= this.settings.queueSize) {
      return h.reject(`group '${this.label}' is full: ${this.queue.length} requests already wait for a thread (queue-size)`, 1);
    }
    this.queue.push(h);
    this.growIfNeeded();
    this.waitForFree();
  }

  /** Gives the queue's requests to m while it can take them. */
  private drainQueueTo(m: PoolMember): void {
    const now = Date.now();
    while (this.queue.length > 0 && canTakeQueued(m, this.generation, this.serviceMs, now)) {
      const h = this.queue.shift();
      if (h === undefined) break;
      m.process.start(h);
    }
  }

  private expireQueued(now: number): void {
    const limit = this.settings.queueTimeout;
    if (limit <= 0) return;
    const late = this.queue.expire(now - limit * 1000);
    for (const h of late.held) h.reject(`group '${this.label}' did not finish restarting within queue-timeout (${limit}s)`, 1);
    for (const h of late.waiting) h.reject(`no thread of group '${this.label}' became free within queue-timeout (${limit}s)`, 1);
  }

  private rejectQueued(why: string, retryAfter: number): void {
    for (const h of this.queue.takeAll()) h.reject(why, retryAfter);
  }

  // -- processes -----------------------------------------------------------------------------

  private spawn(generation: number, reason = 'start', detail = ''): PoolMember {
    const o = this.options;
    const s = this.settings;
    const jitter = s.maximumRequestsJitter > 0 ? Math.floor(Math.random() * (s.maximumRequestsJitter + 1)) : 0;
    const spec = {
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
      ...(o.shared !== undefined ? { shared: { board: o.shared.board, slot: o.shared.board.allocateSlot(), group: this.boardGroup } } : {}),
    };
    const m = new PoolMember(this, spec, o.log, this.poller);
    this.members.push(m);
    return m;
  }

  /** Processes of the current generation that serve or will (not retiring). */
  private liveCount(): number {
    let n = 0;
    for (const m of this.members) if (m.process.generation === this.generation && m.process.state !== 'draining' && m.recycling === undefined) n++;
    return n;
  }

  /** Dynamic pools: start one more process when requests wait and none is starting. */
  private growIfNeeded(): void {
    if (this.fixed || this.state !== 'serving' || this.restarting !== undefined) return;
    if (this.members.some((m) => m.process.state === 'starting')) return;
    if (this.liveCount() >= this.ceiling) return;
    this.log.info(`starting another process: ${this.queueLength} request(s) wait for a thread`);
    this.spawn(this.generation, 'demand', `${this.queueLength} request(s) waited for a thread`);
  }

  /**
   * Replaces a process: the replacement starts now; the old one keeps serving until the replacement
   * is ready, then finishes its requests within graceful-timeout and leaves.
   */
  private recycle(m: PoolMember, reason: RestartReason, detail: string): void {
    if (m.recycling !== undefined || m.process.state !== 'ready' || this.state !== 'serving') return;
    if (m.recycleFailedAt !== undefined && Date.now() - m.recycleFailedAt < RECYCLE_RETRY_MS) return;
    m.recycling = reason;
    this.restarts.add(m.pid, reason, detail);
    this.log.info({ pid: m.pid }, `recycling worker process (${reason}: ${detail})`);
    this.spawn(m.process.generation, reason, detail).replaces = m;
  }

  private retire(m: PoolMember, reason: string): void {
    const s = this.settings;
    this.changed();
    m.recycling ??= reason;
    m.process.recallWaiting();
    void m.process.drain(reason, s.gracefulTimeout * 1000, s.shutdownTimeout * 1000);
  }

  /** The replacement of m failed to start: m keeps serving, and is not recycled again for a while. */
  private keepReplaced(m: PoolMember): void {
    const old = m.replaces as PoolMember;
    m.replaces = undefined;
    old.recycling = undefined;
    old.recycleFailedAt = Date.now();
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
      this.arm();
      const n = Math.max(1, this.fixed ? this.settings.processes : Math.max(this.floor, this.liveCount()));
      for (let i = 0; i < n; i++) this.spawn(generation, reason, detail);
    });
  }

  private finishRestart(ok: boolean, why?: string): void {
    const r = this.restarting;
    if (r === undefined) return;
    this.restarting = undefined;
    if (ok) {
      const old = this.members.filter((m) => m.process.generation < r.generation);
      this.generation = r.generation;
      for (const m of old) {
        this.restarts.add(m.pid, r.reason, r.detail);
        this.retire(m, r.reason);
      }
    } else {
      for (const m of this.members.filter((x) => x.process.generation === r.generation)) void m.process.drain('rollback', 0);
      this.log.error(`restart (${r.reason}) failed: ${why ?? 'the new processes did not start'}; the running processes keep serving the previous code`);
    }
    this.changed();
    for (const h of this.queue.releaseHeld()) this.submit(h);
    for (const m of this.members) if (m.process.state === 'ready') this.drainQueueTo(m);
    r.resolve(ok);
  }

  memberReady(m: PoolMember): void {
    if (this.state === 'stopping' || this.state === 'stopped' || this.state === 'failed') {
      void m.process.drain('shutdown', 0);
      return;
    }
    this.log.debug({ pid: m.pid }, 'worker ready');
    this.changed();
    const gen = m.process.generation;
    if (this.restarting !== undefined && gen === this.restarting.generation) {
      if (this.members.every((x) => x.process.generation !== gen || x.process.state === 'ready')) this.finishRestart(true);
      return;
    }
    if (m.replaces !== undefined) {
      const old = m.replaces;
      m.replaces = undefined;
      this.retire(old, old.recycling ?? 'recycle');
    }
    if (this.state === 'starting' && this.members.every((x) => x.process.state !== 'starting')) {
      this.state = 'serving';
      this.startWaiter?.resolve();
      this.startWaiter = undefined;
    }
    this.drainQueueTo(m);
  }

  memberLoadFailed(m: PoolMember, failure: LoadFailure): void {
    const err = new AppLoadError(this.label, this.options.interpreter, failure);
    void m.process.drain('load-failed', 0);
    if (this.restarting !== undefined && m.process.generation === this.restarting.generation) {
      this.finishRestart(false, err.message);
      return;
    }
    if (m.replaces !== undefined) {
      // A recycled process's replacement cannot load (the code on disk changed?): keep the old one.
      const old = m.replaces;
      this.keepReplaced(m);
      this.log.error({ err }, `a replacement process failed to load; process ${old.pid} keeps serving: ${err.message}`);
      return;
    }
    if (this.startWaiter !== undefined || this.liveCount() === 0) this.fail(err.message, err);
    else this.log.error({ err }, `a new process failed to load: ${err.message}`);
  }

  memberModules(_m: PoolMember, files: string[]): void {
    if (this.moduleWatch !== undefined) {
      this.moduleWatch.add(files);
      return;
    }
    this.moduleWatch = new FileWatch(files);
    // --reload-on-changes is a development mode: it polls the modules, idle or not.
    if (this.state !== 'stopping' && this.state !== 'stopped') {
      this.watchTimer = setInterval(this.guardedWatch, TICK_MS);
      this.watchTimer.unref();
    }
  }

  /** --reload-on-changes: a module the processes loaded changed, then they all restart. */
  private readonly guardedWatch = (): void => {
    const modules = this.moduleWatch;
    if (modules === undefined || this.state !== 'serving' || this.restarting !== undefined || !modules.due(Date.now())) return;
    void modules.check().then(
      (changed) => {
        if (changed !== undefined) void this.restartAll('reload', `${changed} changed (--reload-on-changes)`);
      },
      (err: unknown) => {
        countFault('supervisor');
        this.log.error({ err }, `internal error in group '${this.label}' while checking its modules`);
      },
    );
  };

  memberRecalled(_m: PoolMember, requests: RequestHandle[]): void {
    for (const h of requests) this.submit(h);
  }

  memberFree(m: PoolMember, ranMs: number): void {
    this.serviceMs = nextServiceMs(this.serviceMs, ranMs);
    if (m.recycling === undefined) {
      const fired = firstFiring(REQUEST_END_RULES, m.process, this.settings, m.process.lastActive);
      if (fired !== undefined) this.recycle(m, fired.reason, fired.detail);
    }
    if (this.queue.length > 0) this.drainQueueTo(m);
  }

  memberExit(m: PoolMember, reason: string, code: number | null, signal: NodeJS.Signals | null): void {
    const w = m.process;
    const i = this.members.indexOf(m);
    if (i >= 0) this.members.splice(i, 1);
    this.changed();
    if (this.state === 'stopping' || this.state === 'stopped' || this.state === 'failed') return;
    // A replacement that died before it was ready: the old process keeps serving.
    if (m.replaces !== undefined) this.keepReplaced(m);
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
      this.fail(why, new WorkerStartError(WorkerErrorCode.START_FAILED, `group '${this.label}': ${why}; the log above says why`));
      return;
    }
    this.restarts.add(w.pid, 'crash', signal ? `killed by ${signal}` : `exit code ${code}`);
    if (w.readyInfo === undefined || lived < STABLE_MS) this.youngDeaths++;
    else this.youngDeaths = 0;
    if (this.youngDeaths >= CRASH_LOOP_DEATHS) {
      const why = `crash loop: ${this.youngDeaths} processes in a row died within ${STABLE_MS / 1000}s of starting (last: ${reason})`;
      this.fail(why, new WorkerStartError(WorkerErrorCode.CRASH_LOOP, `group '${this.label}': ${why}`));
      return;
    }
    this.backoffMs = lived > STABLE_MS ? 0 : Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_FIRST_MS, this.backoffMs * 2));
    this.log.warn({ pid: w.pid }, `replacing worker process (${reason})${this.backoffMs ? ` in ${this.backoffMs} ms` : ''}`);
    this.respawnLater(this.backoffMs, w.generation, `replaces process ${w.pid}, which ${reason}`);
  }

  /** Keeps the pool at its floor after a process left on purpose. */
  private refill(): void {
    if (this.state !== 'serving' || this.restarting !== undefined) return;
    const starting = this.members.filter((m) => m.process.generation === this.generation && m.process.state === 'starting').length;
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
    this.settle();
  };

  private tick(): void {
    const now = Date.now();
    // Limits on requests apply in every state of a process (ready, recycling, draining) and of the
    // pool (serving, or stopping while its processes finish their requests).
    this.enforceRequestTimeout(now);
    if (this.state !== 'serving') return;
    const s = this.settings;
    this.expireQueued(now);
    // front-ends > 1: the other loops' requests do not look at the scripts; the tick does for them.
    const scripts = this.scriptWatch;
    if (this.options.shared !== undefined && scripts !== undefined && this.restarting === undefined && scripts.due(now)) {
      void scripts.check().then((changed) => {
        if (changed !== undefined) void this.restartAll('script-touched', `${changed} changed`);
      });
    }
    for (const m of [...this.members]) {
      const w = m.process;
      if (w.state !== 'ready' || m.recycling !== undefined || w.generation !== this.generation) continue;
      const idle = idleFor(w, now);
      if (!this.fixed && idle > (s.dynamic?.idleTimeout ?? 0) * 1000 && this.liveCount() > this.floor) {
        this.restarts.add(m.pid, 'idle', `idle ${Math.round(idle / 1000)}s, above the minimum of ${this.floor}`);
        this.log.info({ pid: m.pid }, `stopping an idle process (idle ${Math.round(idle / 1000)}s)`);
        this.retire(m, 'idle');
        continue;
      }
      const ended = this.options.shared === undefined ? undefined : firstFiring(REQUEST_END_RULES, w, s, w.lastActive);
      const fired = ended ?? firstFiring(TICK_RULES, w, s, now);
      if (fired !== undefined) {
        this.recycle(m, fired.reason, fired.detail);
        continue;
      }
      // memory-limit is read on every tick: while the pool serves requests, then once more on the
      // tick that finds it idle, after which the tick stops. An idle process's memory is taken
      // not to grow (it runs no request), so that last look is enough; the next request, or a
      // time-based wake-up, looks again.
      if (s.memoryLimit > 0) void this.checkMemory(m);
    }
    if (this.queueLength > 0) this.growIfNeeded();
  }

  private async checkMemory(m: PoolMember): Promise<void> {
    const rss = await m.process.rss();
    if (m.recycling !== undefined) return;
    const fired = firstFiring(MEMORY_RULES, m.process, this.settings, Date.now(), rss);
    if (fired !== undefined) this.recycle(m, fired.reason, fired.detail);
  }

  /** request-timeout, for the requests of every process that has any: ready, recycling or draining. */
  private enforceRequestTimeout(now: number): void {
    const limit = this.settings.requestTimeout;
    if (limit <= 0) return;
    for (const m of [...this.members]) {
      if (m.process.busy === 0 || m.process.state === 'exited') continue;
      for (const h of m.process.runningSince(now - limit * 1000)) if (!h.timedOut) this.requestTimedOut(m, h, now - h.startedAt);
    }
  }

  /** A request ran past request-timeout: 504 to its client, the stacks logged, the process replaced. */
  private requestTimedOut(m: PoolMember, h: RequestHandle, ranMs: number): void {
    const w = m.process;
    const limit = this.settings.requestTimeout;
    this.log.error(
      { pid: w.pid, requestId: h.requestId },
      `request-timeout: a request has run ${(ranMs / 1000).toFixed(1)}s (limit ${limit}s); answered 504; the Python stacks of every thread of process ${w.pid} follow, ${w.state === 'draining' ? 'while it finishes its other requests and leaves' : 'then the process is replaced'}`,
    );
    h.timeout(limit);
    h.cancel();
    w.kill('SIGUSR2'); // faulthandler: every thread's stack to stderr, which is logged
    // It takes no new requests from now on (requests waiting in it go elsewhere); its other running
    // requests get graceful-timeout once the replacement is ready.
    if (!m.stuck) {
      m.stuck = true;
      w.recallWaiting();
      this.changed();
    }
    const fired = firstFiring(REQUEST_RULES, w, this.settings, Date.now(), ranMs);
    if (fired !== undefined) this.recycle(m, fired.reason, fired.detail);
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
    this.rejectQueued(`group '${this.label}' is not serving: ${this.failure}`, 30);
    this.changed();
    for (const m of this.members) void m.process.drain('failed', 0);
  }

  /**
   * A reload replaced this pool: the requests waiting in its queue go to the successor (the same
   * group in the new configuration), then its processes finish what they run and stop.
   */
  async retireTo(successor: ProcessPool | undefined, graceMs: number): Promise<void> {
    if (successor !== undefined) for (const h of this.queue.takeAll()) successor.submit(h);
    await this.stop(graceMs);
  }

  /** Stops every process: in-flight requests get graceMs to finish. */
  async stop(graceMs: number): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    this.changed();
    // The tick keeps enforcing request-timeout while the processes finish their requests.
    for (const t of this.respawnTimers) clearTimeout(t);
    this.respawnTimers.clear();
    this.finishRestart(false, 'the server is stopping');
    this.rejectQueued(`group '${this.label}' is shutting down`, 5);
    this.startWaiter?.reject(new WorkerStartError(WorkerErrorCode.START_FAILED, `group '${this.label}' was stopped while starting`));
    this.startWaiter = undefined;
    clearInterval(this.watchTimer);
    await Promise.all([...this.members].map((m) => m.process.drain('shutdown', graceMs, this.settings.shutdownTimeout * 1000)));
    clearInterval(this.tickTimer);
    clearTimeout(this.wakeTimer);
    this.tickTimer = undefined;
    this.wakeTimer = undefined;
    this.state = 'stopped';
  }
}
