/**
 * reason: one process's life (start, ready, requests, drain, exit) is one state machine whose
 * events all read its state; what is not (spawn, channel, in-flight table, handles) lives beside it.
 *
 * One worker process: the child (spawned with its group's interpreter, as its user), its output
 * (stdout and stderr lines go to the log), its end (drain, SIGTERM, SIGKILL, exit), and the two
 * things it holds: its connection (worker-channel.ts) and the requests it runs (inflight.ts, each
 * a request-handle.ts). It tells its pool (WorkerOwner) when it is ready, failed to load, frees a
 * thread, gives requests back, or exits; the pool decides everything else.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile, unlink } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { countFault } from '../observability/faults.js';
import type { Logger } from '../observability/logger.js';
import { pythonLevelMethod } from '../observability/logger.js';
import { FrameType } from '../protocol/frame-types.js';
import type { LoadFailure, ReadyInfo, WorkerInit } from '../protocol/messages.js';
import { InflightTable } from './inflight.js';
import { type FrameSink, requestFrame } from './request-frames.js';
import type { ReplyPoller } from './reply-poller.js';
import type { HandleHost, RequestHandle } from './request-handle.js';
import type { Scoreboard } from './scoreboard.js';
import { type ChannelEvents, WorkerChannel } from './worker-channel.js';
import { captureLines, spawnWorker } from './worker-spawn.js';

export type { LoadFailure, ReadyInfo, WorkerInit } from '../protocol/messages.js';

export interface WorkerSpec {
  /** "group" or "group/application-group", for logs. */
  label: string;
  /** Processes started by one restart of the pool share a generation. */
  generation: number;
  /** Recycle after this many requests (maximum-requests plus jitter; 0: never). */
  maxRequests: number;
  /** Why this process was started: 'start', or the restart reason that replaced another. */
  startReason: { reason: string; detail: string };
  interpreter: string;
  cwd: string;
  env: Record<string, string>;
  init: WorkerInit;
  startupTimeoutMs: number;
  uid?: number;
  gid?: number;
  /** front-ends > 1: where every loop counts this process's requests (its slot, its group's index). */
  shared?: { board: Scoreboard; slot: number; group: number };
}

/** The pool hears of a worker's life through these (its PoolMember of the process). */
export interface WorkerOwner {
  onReady(): void;
  onLoadFailed(failure: LoadFailure): void;
  /** A request finished after running ranMs; a thread is free. */
  onFree(ranMs: number): void;
  onExit(reason: string, code: number | null, signal: NodeJS.Signals | null): void;
  /** Requests that waited inside a process and never started: to run elsewhere. */
  onRecalled(requests: RequestHandle[]): void;
  /** --reload-on-changes: the source files the application loaded. */
  onModules(files: string[]): void;
}

export type WorkerState = 'starting' | 'ready' | 'draining' | 'exited';

export class WorkerProcess implements HandleHost, ChannelEvents {
  readonly spec: WorkerSpec;
  readonly threads: number;
  readonly generation: number;
  readonly startedAt = Date.now();
  readonly channel: WorkerChannel;
  readonly poller: ReplyPoller;
  readonly log: Logger;
  readyAt = 0;
  state: WorkerState = 'starting';
  readyInfo: ReadyInfo | undefined;
  /** Requests this loop finished on it (all loops': `served`). */
  private ownServed = 0;
  private active = Date.now();
  private seenServed = 0;
  private readonly inflight: InflightTable;
  /** requestFrame's view of this process (request-frames.ts). */
  private readonly frames: FrameSink;
  private readonly child: ChildProcess;
  /** The unix socket the worker accepts its front end's connections on (Linux), removed at its exit. */
  readonly socketName: string | undefined;
  private readonly shared: { board: Scoreboard; slot: number; group: number } | undefined;
  private readonly owner: WorkerOwner;
  /** Why this process is being stopped, when it is ('reload', 'maximum-requests', 'load-failed'...). */
  private stopping: string | undefined;
  private startupTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly exitPromise: Promise<void>;
  /** Requests that failed because this process died. */
  private lostCount = 0;
  private exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Why the process could not be started at all (spawn failed). */
  private spawnError: string | undefined;

  constructor(spec: WorkerSpec, owner: WorkerOwner, log: Logger, poller: ReplyPoller) {
    this.spec = spec;
    this.threads = spec.init.threads;
    this.generation = spec.generation;
    this.owner = owner;
    this.poller = poller;
    this.inflight = new InflightTable(this.threads);
    this.channel = new WorkerChannel(this, spec.init.reloadOnChanges === true);
    const { child, socketName, note } = spawnWorker(spec);
    this.child = child;
    this.socketName = socketName;
    this.shared = spec.shared;
    this.log = log.child({ group: spec.label, pid: child.pid });
    this.frames = {
      inflight: this.inflight,
      log: this.log,
      pid: child.pid,
      release: (id) => this.release(id),
      giveBack: (handle) => {
        this.unshare(false);
        this.toOwner(() => {
          this.owner.onRecalled([handle]);
          this.owner.onFree(0);
        });
      },
    };
    if (note !== undefined) this.log.warn(note);
    this.exitPromise = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child.on('error', (err) => {
      this.log.error({ err }, `could not start ${spec.interpreter}: ${err.message}`);
      // A process that could not be started emits no 'exit': end it here, so the pool hears of it.
      if (this.child.pid === undefined) {
        this.spawnError = (err as NodeJS.ErrnoException).code ?? err.message;
        this.onExit(null, null);
      }
    });
    this.child.on('exit', (code, signal) => {
      // Frames the process wrote before exiting may not be read yet: finish once the socket closed.
      this.exitStatus = { code, signal };
      if (!this.channel.connected) {
        // Never connected: what it wrote to stderr (a launcher's reason) may still be in the pipe.
        const t = setTimeout(() => this.onExit(code, signal), 500);
        this.child.once('close', () => {
          clearTimeout(t);
          this.onExit(code, signal);
        });
      } else if (this.channel.isClosed) this.onExit(code, signal);
      else setTimeout(() => this.onExit(code, signal), 1000).unref();
    });
    const launchFailed = (why: string): void => {
      this.spawnError = why;
    };
    captureLines(child.stdout, (line) => this.log.info(line), launchFailed);
    captureLines(child.stderr, (line) => this.log.error(line), launchFailed);
    if (socketName === undefined) this.channel.attachPair(this.child.stdio[3] as Socket);
    else {
      const deadline = Date.now() + spec.startupTimeoutMs;
      this.channel.connect(socketName, () => this.child.exitCode !== null || this.child.signalCode !== null || Date.now() > deadline);
    }
    this.channel.init(spec.init);
    this.startupTimer = setTimeout(() => {
      this.log.error(`the application did not load within startup-timeout (${spec.startupTimeoutMs / 1000}s); stopping this process`);
      this.stopping = 'startup-timeout';
      this.kill('SIGKILL');
    }, spec.startupTimeoutMs);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The process is running (it has not exited, so its pid is still its own). */
  get alive(): boolean {
    return this.state !== 'exited' && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Requests it holds (running and waiting inside it), from every front-end loop. */
  get busy(): number {
    return this.shared === undefined ? this.inflight.size : this.shared.board.busy(this.shared.slot);
  }

  /** When it last started or finished a request (of any loop's: their finishing counts when read). */
  get lastActive(): number {
    this.noteServedElsewhere();
    return this.active;
  }

  /**
   * front-ends > 1: the other loops' requests it finished since the last look count as activity
   * now (the scoreboard has their count, not their time).
   */
  noteServedElsewhere(): void {
    if (this.shared === undefined) return;
    const served = this.served;
    if (served !== this.seenServed) {
      this.seenServed = served;
      this.active = Date.now();
    }
  }

  set lastActive(at: number) {
    this.active = at;
  }

  /** Requests it finished, from every front-end loop. */
  get served(): number {
    return this.shared === undefined ? this.ownServed : this.shared.board.served(this.shared.slot);
  }

  /** The scoreboard slot of this process (front-ends > 1). */
  get slot(): number | undefined {
    return this.shared?.slot;
  }

  /** Why the process is being stopped ('reload', 'maximum-requests', 'startup-timeout'...), when it is. */
  get stopReason(): string | undefined {
    return this.stopping;
  }

  /** Whether this process has served its share of requests (maximum-requests). */
  get exhausted(): boolean {
    return this.spec.maxRequests > 0 && this.served >= this.spec.maxRequests;
  }

  /** Resolves when the process has exited. */
  exited(): Promise<void> {
    return this.exitPromise;
  }

  // -- requests ----------------------------------------------------------------------------

  /** Sends a request to this process. */
  start(handle: RequestHandle): void {
    const now = Date.now();
    const id = this.inflight.add(handle, now);
    this.shared?.board.add(this.shared.slot);
    this.lastActive = now;
    handle.sendTo(this, id);
  }

  /** When the longest-running request started (ms); 0 when idle. */
  oldestStart(): number {
    return this.inflight.oldestStart();
  }

  /** Requests that started running before `before` (ms). */
  runningSince(before: number): RequestHandle[] {
    return this.inflight.runningSince(before);
  }

  /**
   * Asks the process to give back the requests waiting inside it that no thread has started (and
   * that can run elsewhere). The worker answers each it had not started with END+ABORT+NOT_STARTED,
   * and the pool runs it elsewhere; one that had started just completes here. Never asks twice.
   */
  recallWaiting(): void {
    for (const h of this.inflight.recallable()) {
      h.recalling = true;
      this.channel.control(FrameType.RECALL, h.id);
    }
  }

  /**
   * A frame of request `id` goes to its handle; when handling it throws, that request fails and
   * nothing else does. Its END frees the thread.
   */
  requestFrame(type: number, id: number, flags: number, payload: Buffer): void {
    const ranMs = requestFrame(this.frames, type, id, flags, payload);
    if (ranMs < 0) return;
    try {
      this.owner.onFree(ranMs);
    } catch (err) {
      this.ownerFault(err);
    }
  }

  /** Forgets a finished request; returns how long it ran (ms). */
  private release(id: number): number {
    this.ownServed++;
    this.unshare(true);
    const now = Date.now();
    this.lastActive = now;
    return this.inflight.release(id, now);
  }

  /** A request of this loop's is over, on the scoreboard: a thread may be free for every loop. */
  private unshare(finished: boolean): void {
    const sh = this.shared;
    if (sh !== undefined) sh.board.release(sh.slot, sh.group, finished);
  }

  // -- the channel's other events --------------------------------------------------------------

  ready(info: ReadyInfo): void {
    clearTimeout(this.startupTimer);
    this.readyInfo = info;
    this.readyAt = Date.now();
    if (this.state === 'starting') this.state = 'ready';
    this.toOwner(() => this.owner.onReady());
  }

  loadFailed(failure: LoadFailure): void {
    clearTimeout(this.startupTimer);
    this.stopping = 'load-failed';
    this.toOwner(() => this.owner.onLoadFailed(failure));
  }

  logLine(id: number, level: number, text: string): void {
    const handle = id === 0 ? undefined : this.inflight.get(id);
    this.log[pythonLevelMethod(level)](handle === undefined ? {} : { requestId: handle.requestId }, text);
  }

  modules(files: string[]): void {
    this.toOwner(() => this.owner.onModules(files));
  }

  /** The worker broke the protocol about itself: it is stopped (a crash, for the pool), never trusted again. */
  broken(why: string, err: unknown): void {
    this.log.error({ err }, `protocol error from worker process ${this.pid}: ${why}; stopping it`);
    this.kill('SIGKILL');
  }

  closed(): void {
    if (this.state === 'exited') return;
    const status = this.exitStatus;
    if (status !== undefined) {
      this.onExit(status.code, status.signal);
      return;
    }
    // The process usually exits right after; wait (briefly) so the log can say how it ended.
    const t = setTimeout(() => this.failInflight(this.describeLoss()), 500);
    this.child.once('exit', () => clearTimeout(t));
  }

  // -- lifecycle ---------------------------------------------------------------------------

  /**
   * Stop taking requests; requests in flight get graceMs to finish; then SIGTERM, and after
   * shutdownMs more, SIGKILL.
   */
  drain(reason: string, graceMs: number, shutdownMs = 0): Promise<void> {
    if (this.state === 'exited') return this.exitPromise;
    if (this.state !== 'draining') {
      this.state = 'draining';
      this.stopping ??= reason;
      this.channel.control(FrameType.SHUTDOWN, 0);
      this.killTimer = setTimeout(() => {
        if (this.inflight.size > 0) {
          this.log.warn(`${this.inflight.size} request(s) still running after graceful-timeout (${graceMs / 1000}s); stopping the process`);
        }
        if (shutdownMs <= 0) {
          this.kill('SIGKILL');
          return;
        }
        this.kill('SIGTERM');
        this.killTimer = setTimeout(() => this.kill('SIGKILL'), shutdownMs);
        this.killTimer.unref();
      }, graceMs);
      this.killTimer.unref();
    }
    return this.exitPromise;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.state === 'exited') return;
    try {
      this.child.kill(signal);
    } catch {
      /* already gone */
    }
  }

  /** Resident memory (bytes), from /proc; 0 when unknown. */
  async rss(): Promise<number> {
    try {
      const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  }

  // -- internals ---------------------------------------------------------------------------

  /** Calls the pool; an error there is a bug of ours: logged and counted, it fails no request. */
  private toOwner(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.ownerFault(err);
    }
  }

  private ownerFault(err: unknown): void {
    countFault('supervisor');
    this.log.error({ err }, `internal error in group '${this.spec.label}' while handling worker process ${this.pid}`);
  }

  private describeLoss(): string {
    const code = this.child.exitCode;
    const signal = this.child.signalCode;
    if (signal) return `worker process ${this.pid} was killed by ${signal}`;
    if (code !== null) return `worker process ${this.pid} exited with code ${code}`;
    return `worker process ${this.pid} closed its connection`;
  }

  /**
   * The process is gone: requests it was running fail; requests that waited inside it without
   * starting (and can run elsewhere) go back to the pool.
   */
  private failInflight(reason: string): void {
    if (this.inflight.size === 0) return;
    const { lost, waiting } = this.inflight.clear();
    for (let i = lost.length + waiting.length; i > 0; i--) this.unshare(false);
    this.lostCount += lost.length;
    for (const h of lost) {
      try {
        h.lost(reason);
      } catch (err) {
        countFault('worker-frame');
        this.log.error({ err, requestId: h.requestId }, `internal error while failing a request of worker process ${this.pid}`);
      }
    }
    for (const h of waiting) h.recalled();
    if (waiting.length) this.toOwner(() => this.owner.onRecalled(waiting));
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.state === 'exited') return;
    clearTimeout(this.startupTimer);
    clearTimeout(this.killTimer);
    const wasDraining = this.state === 'draining';
    this.state = 'exited';
    if (this.socketName !== undefined) unlink(this.socketName).catch(() => {});
    const reason = this.spawnError
      ? `could not be started (${this.spawnError.includes(':') ? this.spawnError : `${this.spawnError}: is ${this.spec.interpreter} executable by the group's user?`})`
      : signal
        ? `killed by ${signal}`
        : `exited with code ${code}`;
    this.failInflight(`worker process ${this.pid} ${reason}`);
    if (this.lostCount > 0) {
      this.log.error(`worker process ${reason}; ${this.lostCount} request(s) in flight failed`);
    } else if (!wasDraining && this.stopping === undefined) {
      this.log.error(`worker process ${reason}`);
    }
    this.toOwner(() => this.owner.onExit(reason, code, signal));
  }
}
