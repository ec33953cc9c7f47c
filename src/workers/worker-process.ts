import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import type { Logger } from '../observability/logger.js';
import { pythonLevelMethod } from '../observability/logger.js';
import { FrameDecoder } from '../protocol/frame-decoder.js';
import { creditFrame, frame, frameHeader, latin1Frame } from '../protocol/frame-encoder.js';
import { Flag, FrameType, MAX_FRONT_END_PAYLOAD } from '../protocol/frame-types.js';
import { identityEnvironment, launchFailure, planLaunch, type RunAs } from '../python/worker-launch.js';
import { workerArgs, workerEnvironment, workerProgram } from '../python/worker-program.js';
import { countFault } from '../observability/faults.js';
import { WorkerProtocolError } from '../protocol/protocol-error.js';
import { workerSocketPath } from './runtime-dir.js';
import { runAsForIds } from './user-ids.js';
import {
  decodeCredit,
  decodeFileOffer,
  decodeLoadFailure,
  decodeModules,
  decodeReady,
  type FileOffer,
  type LoadFailure,
  type ReadyInfo,
} from '../protocol/messages.js';

export type { FileOffer, LoadFailure, ReadyInfo } from '../protocol/messages.js';

/** The longest line of a worker's stdout or stderr kept whole (longer ones are logged in parts). */
const MAX_LINE = 64 * 1024;
/** The reused buffer the worker's frames are read into. */
const READ_BUFFER = 256 * 1024;

/** What the worker program is told in its INIT frame. */
export interface WorkerInit {
  group: string;
  applicationGroup: string;
  apps: { kind: 'script' | 'module'; target: string; callable: string; environ?: Record<string, string> }[];
  pythonPath: string[];
  addWorkingDirectory: boolean;
  threads: number;
  multiprocess: boolean;
  requestWindow: number;
  responseWindow: number;
  /** Seconds an idle worker may spin before sleeping (0: never). */
  spinBudget: number;
  /** The process name shown by ps -o comm and top (display-name). */
  displayName?: string;
  /** Report loaded module files (--reload-on-changes). */
  reloadOnChanges?: boolean;
  /** How this group's python-path is written in its input, for the fix of a load failure. */
  pathSetting?: string;
  /** Log lines below this Python level are not sent (the front end would drop them). */
  logLevel?: number;
  environ: Record<string, string>;
}

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
}

/** The front end's side of one request being served by a worker. */
export interface ExchangeSink {
  readonly requestId: string;
  onResponse(payload: Buffer, flags: number): void;
  onData(payload: Buffer, flags: number): void;
  onCredit(increment: number): void;
  onFile(offer: FileOffer): void;
  /** The worker died or was stopped with this request in flight. */
  onLost(reason: string): void;
  /** The request ran past request-timeout: answer 504 (its thread is stuck in the application). */
  onTimeout(limitSeconds: number): void;
  /**
   * A frame of this request could not be handled (it broke the protocol, or handling it threw):
   * the request fails (502, or its response is cut short), never the process.
   */
  onFault(what: string, err: unknown): void;
  /** Whether the request may be taken back before it started and sent to another process. */
  readonly recallable: boolean;
}

/** The pool a worker belongs to hears of its life through these. */
export interface WorkerOwner {
  onReady(w: WorkerProcess): void;
  onLoadFailed(w: WorkerProcess, failure: LoadFailure): void;
  /** A request finished after running ranMs; a thread is free. */
  onFree(w: WorkerProcess, ranMs: number): void;
  onExit(w: WorkerProcess, reason: string, code: number | null, signal: NodeJS.Signals | null): void;
  /** Requests that waited inside a process that died, never started: to run elsewhere. */
  onRecalled(w: WorkerProcess, requests: ExchangeSink[]): void;
  /** --reload-on-changes: the source files the application loaded. */
  onModules(w: WorkerProcess, files: string[]): void;
}

export type WorkerState = 'starting' | 'ready' | 'draining' | 'exited';

export class WorkerProcess {
  readonly spec: WorkerSpec;
  readonly threads: number;
  readonly generation: number;
  readonly startedAt = Date.now();
  readyAt = 0;
  state: WorkerState = 'starting';
  /** Set when the pool has started a replacement: no new requests once that one is ready. */
  recycling: string | undefined;
  /** The process this one replaces (it leaves when this one is ready). */
  replaces: WorkerProcess | undefined;
  /** When a replacement of this process last failed to start. */
  recycleFailedAt: number | undefined;
  /** Frame ids of requests that ran past request-timeout (answered 504 already). */
  readonly timedOut = new Set<number>();
  /** A request ran past request-timeout: the process takes no new requests, whatever else happens. */
  stuck = false;
  /** Frame ids of requests asked back with RECALL. */
  private readonly recalling = new Set<number>();
  readyInfo: ReadyInfo | undefined;
  /** Requests sent to this process and not finished, by frame id, in the order sent. */
  readonly inflight = new Map<number, ExchangeSink>();
  /**
   * When each request started running (ms), or 0 while it waits inside the worker for a thread:
   * the worker takes waiting requests in the order sent, so the first `threads` are the running ones.
   */
  private readonly requestStarts = new Map<number, number>();
  served = 0;
  lastActive = Date.now();
  /** Why the supervisor is stopping this worker, when it is ('reload', 'maximum-requests'...). */
  stopReason: string | undefined;
  private readonly child: ChildProcess;
  /** The connection to the worker, once it is up; frames written before wait in `queued`. */
  private sock: Socket | undefined;
  private queued: Buffer[] = [];
  private readonly owner: WorkerOwner;
  private readonly log: Logger;
  private nextId = 1;
  private corked = false;
  private startupTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private exitPromise: Promise<void>;
  /** Requests that failed because this process died. */
  private lostCount = 0;
  private exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Why the process could not be started at all (spawn failed). */
  private spawnError: string | undefined;
  private sockClosed = false;
  /** The worker broke the protocol about its connection: its frames are ignored until it exits. */
  private broken = false;

  constructor(spec: WorkerSpec, owner: WorkerOwner, log: Logger) {
    this.spec = spec;
    this.threads = spec.init.threads;
    this.generation = spec.generation;
    this.owner = owner;
    // On Linux the worker listens on a unix socket in the front end's private folder (it accepts
    // only its parent) and the front end reads that connection into one reused buffer: a child's
    // stdio pipe would allocate a new 64 KiB buffer per read, which caps bulk transfers at a few
    // hundred MB/s here. Elsewhere, file descriptor 3 is a socketpair made at spawn.
    const socketName = process.platform === 'linux' ? workerSocketPath(spec.uid, spec.gid) : undefined;
    // user=: a root-owned launcher switches user (with initgroups) before the group's interpreter
    // runs; the worker program itself arrives on stdin, so that user needs no access to our files.
    const runAs: RunAs | undefined = spec.uid !== undefined ? runAsForIds(spec.uid, spec.gid) : undefined;
    const launch = planLaunch(spec.interpreter, workerArgs(), runAs);
    this.child = spawn(launch.command, launch.args, {
      cwd: spec.cwd,
      env: workerEnvironment(process.env, {
        ...identityEnvironment(runAs),
        ...spec.env,
        WSGI_HOST_WATCH_STDIN: '1',
        ...(socketName !== undefined ? { WSGI_HOST_SOCKET: socketName } : {}),
      }),
      stdio: socketName !== undefined ? ['pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe', 'pipe'],
      ...(launch.uid !== undefined ? { uid: launch.uid } : {}),
      ...(launch.gid !== undefined ? { gid: launch.gid } : {}),
    });
    this.log = log.child({ group: spec.label, pid: this.child.pid });
    if (launch.note !== undefined) this.log.warn(launch.note);
    this.child.stdin?.write(workerProgram());
    this.exitPromise = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin?.on('error', () => {});
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
      if (this.sock === undefined) {
        // Never connected: what it wrote to stderr (a launcher's reason) may still be in the pipe.
        const t = setTimeout(() => this.onExit(code, signal), 500);
        this.child.once('close', () => {
          clearTimeout(t);
          this.onExit(code, signal);
        });
      } else if (this.sockClosed) this.onExit(code, signal);
      else setTimeout(() => this.onExit(code, signal), 1000).unref();
    });
    this.captureLines(this.child.stdout, 'info');
    this.captureLines(this.child.stderr, 'error');
    const decoder = new FrameDecoder((t, id, f, p) => this.onFrame(t, id, f, p));
    if (socketName === undefined) {
      const sock = this.child.stdio[3] as Socket;
      sock.on('data', (chunk: Buffer) => this.push(decoder, chunk));
      this.attach(sock);
    } else {
      this.connect(socketName, decoder, Date.now() + spec.startupTimeoutMs);
    }
    this.write(frame(FrameType.INIT, 0, 0, Buffer.from(JSON.stringify(spec.init))));
    this.startupTimer = setTimeout(() => {
      this.log.error(
        `the application did not load within startup-timeout (${spec.startupTimeoutMs / 1000}s); stopping this process`,
      );
      this.stopReason = 'startup-timeout';
      this.kill('SIGKILL');
    }, spec.startupTimeoutMs);
  }

  /** Bytes from the worker: frames, unless the worker broke the framing (then it is stopped). */
  private push(decoder: FrameDecoder, chunk: Buffer): void {
    if (this.broken) return;
    try {
      decoder.push(chunk);
    } catch (err) {
      countFault('worker-frame');
      this.protocolError(err instanceof WorkerProtocolError ? err.message : 'its frames could not be read', err);
    }
  }

  /** Connects to the worker's socket once it listens (retrying while it starts). */
  private connect(path: string, decoder: FrameDecoder, deadline: number): void {
    const buffer = Buffer.allocUnsafe(READ_BUFFER);
    let delay = 2;
    const attempt = (): void => {
      if (this.child.exitCode !== null || this.child.signalCode !== null || Date.now() > deadline) return;
      const sock = netConnect({
        path,
        onread: {
          buffer,
          callback: (n: number, buf: Uint8Array): boolean => {
            this.push(decoder, (buf as Buffer).subarray(0, n));
            return true;
          },
        },
      });
      const retry = (): void => {
        sock.destroy();
        setTimeout(attempt, delay);
        delay = Math.min(delay * 2, 50);
      };
      sock.once('error', retry);
      sock.once('connect', () => {
        sock.off('error', retry);
        this.attach(sock);
      });
    };
    attempt();
  }

  /** The connection is up: send what waited for it, watch its end. */
  private attach(sock: Socket): void {
    this.sock = sock;
    sock.on('error', () => {});
    sock.on('close', () => {
      this.sockClosed = true;
      if (this.state === 'exited') return;
      const status = this.exitStatus;
      if (status !== undefined) {
        this.onExit(status.code, status.signal);
        return;
      }
      // The process usually exits right after; wait (briefly) so the log can say how it ended.
      const t = setTimeout(() => this.failInflight(this.describeLoss()), 500);
      this.child.once('exit', () => clearTimeout(t));
    });
    if (this.queued.length) {
      sock.cork();
      for (const b of this.queued) sock.write(b);
      this.queued = [];
      sock.uncork();
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The process is running (it has not exited, so its pid is still its own). */
  get alive(): boolean {
    return this.state !== 'exited' && this.child.exitCode === null && this.child.signalCode === null;
  }

  get busy(): number {
    return this.inflight.size;
  }

  /** Resolves when the process has exited. */
  exited(): Promise<void> {
    return this.exitPromise;
  }

  // -- requests ----------------------------------------------------------------------------

  /** Sends a request's head; returns its frame id. */
  startRequest(sink: ExchangeSink, head: string, flags: number): number {
    let id: number;
    do {
      id = this.nextId;
      this.nextId = id >= 0xffffffff ? 1 : id + 1; // ids are u32; 0 is the connection itself
    } while (this.inflight.has(id));
    const now = Date.now();
    this.requestStarts.set(id, this.inflight.size < this.threads ? now : 0);
    this.inflight.set(id, sink);
    this.lastActive = now;
    this.write(latin1Frame(FrameType.REQUEST, id, flags, head));
    return id;
  }

  sendData(id: number, chunk: Buffer, end: boolean): void {
    let off = 0;
    while (chunk.length - off > MAX_FRONT_END_PAYLOAD) {
      const part = chunk.subarray(off, off + MAX_FRONT_END_PAYLOAD);
      this.write(frameHeader(FrameType.DATA, id, 0, part.length));
      this.write(part);
      off += MAX_FRONT_END_PAYLOAD;
    }
    const rest = off === 0 ? chunk : chunk.subarray(off);
    this.write(frameHeader(FrameType.DATA, id, end ? Flag.END : 0, rest.length));
    if (rest.length > 0) this.write(rest);
  }

  sendCredit(id: number, increment: number): void {
    this.write(creditFrame(id, increment));
  }

  cancel(id: number): void {
    if (this.inflight.has(id)) this.write(frame(FrameType.CANCEL, id, 0));
  }

  fileDone(id: number, result: number): void {
    if (this.inflight.has(id)) this.write(frame(FrameType.FILE_DONE, id, 0, Buffer.of(result)));
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
      this.stopReason ??= reason;
      this.write(frame(FrameType.SHUTDOWN, 0, 0));
      this.killTimer = setTimeout(() => {
        if (this.inflight.size > 0) {
          this.log.warn(
            `${this.inflight.size} request(s) still running after graceful-timeout (${graceMs / 1000}s); stopping the process`,
          );
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

  // -- internals ---------------------------------------------------------------------------

  private write(buf: Buffer): void {
    const sock = this.sock;
    if (sock === undefined) {
      this.queued.push(buf);
      return;
    }
    if (!this.corked) {
      this.corked = true;
      sock.cork();
      process.nextTick(this.uncork);
    }
    sock.write(buf);
  }

  /** Ends write()'s cork at the end of the tick: the tick's frames leave in one write. */
  private readonly uncork = (): void => {
    this.corked = false;
    this.sock?.uncork();
  };

  /**
   * The one guarded dispatch of the worker's frames. A frame of a request goes to that request's
   * sink; when decoding or handling it throws, that request fails (onFault: 502, or its response cut
   * short) and nothing else does. A frame about the connection itself that breaks the protocol
   * stops the worker (its requests in flight get 502). Nothing a worker sends reaches the process.
   */
  private onFrame(type: number, id: number, flags: number, payload: Buffer): void {
    if (this.broken) return;
    let sink: ExchangeSink | undefined;
    /** How long the request ran, once its END was seen and its thread counted free (-1 before). */
    let ranMs = -1;
    try {
      switch (type) {
        case FrameType.RESPONSE:
          sink = this.inflight.get(id);
          if (sink === undefined) return;
          if (flags & Flag.END) ranMs = this.release(id);
          sink.onResponse(payload, flags);
          break;
        case FrameType.DATA:
          sink = this.inflight.get(id);
          if (sink === undefined) return;
          if (flags & Flag.END && flags & Flag.NOT_STARTED) {
            if (!this.recalling.has(id)) {
              ranMs = this.release(id); // it ended, as far as the worker is concerned
              throw new WorkerProtocolError('NOT_STARTED for a request that was not recalled');
            }
            // A recalled request the worker never ran: it goes to another process.
            const recalled = sink;
            sink = undefined;
            this.forget(id);
            this.toOwner(() => {
              this.owner.onRecalled(this, [recalled]);
              this.owner.onFree(this, 0);
            });
            return;
          }
          if (flags & Flag.END) ranMs = this.release(id);
          sink.onData(payload, flags);
          break;
        case FrameType.CREDIT:
          sink = this.inflight.get(id);
          if (sink !== undefined) sink.onCredit(decodeCredit(payload));
          return;
        case FrameType.FILE:
          sink = this.inflight.get(id);
          if (sink !== undefined) sink.onFile(decodeFileOffer(payload));
          return;
        case FrameType.LOG:
          this.onLog(id, payload);
          return;
        case FrameType.MODULES:
          if (this.spec.init.reloadOnChanges) {
            const files = decodeModules(payload);
            this.toOwner(() => this.owner.onModules(this, files));
          }
          return;
        case FrameType.READY:
          if (this.readyInfo !== undefined || this.stopReason === 'load-failed') throw new WorkerProtocolError('a second READY frame');
          this.onReady(decodeReady(payload));
          return;
        case FrameType.LOAD_FAILED: {
          if (this.readyInfo !== undefined || this.stopReason === 'load-failed') throw new WorkerProtocolError('LOAD_FAILED after READY');
          const failure = decodeLoadFailure(payload);
          clearTimeout(this.startupTimer);
          this.stopReason = 'load-failed';
          this.toOwner(() => this.owner.onLoadFailed(this, failure));
          return;
        }
        default:
          throw new WorkerProtocolError(`unknown frame type ${type}`);
      }
    } catch (err) {
      this.frameFault(type, id, sink, err);
    }
    if (ranMs >= 0) this.toOwner(() => this.owner.onFree(this, ranMs));
  }

  /** A frame could not be handled: its request fails, or (a frame about the connection) the worker stops. */
  private frameFault(type: number, id: number, sink: ExchangeSink | undefined, err: unknown): void {
    const what = `a frame of type ${type} from worker process ${this.pid}`;
    if (sink !== undefined) {
      countFault('worker-frame');
      try {
        sink.onFault(what, err);
      } catch (err2) {
        this.log.error({ err: err2, requestId: sink.requestId }, `could not fail the request after ${what} broke it`);
      }
      return;
    }
    if (id !== 0 && !(err instanceof WorkerProtocolError)) {
      // A request frame for no request in flight (it ended already): nothing to fail.
      return;
    }
    countFault('worker-frame');
    this.protocolError(err instanceof WorkerProtocolError ? err.message : `${what} could not be handled`, err);
  }

  /** The worker broke the protocol about itself: it is stopped (a crash, for the pool), never trusted again. */
  private protocolError(why: string, err?: unknown): void {
    if (this.broken) return;
    this.broken = true;
    this.log.error({ err }, `protocol error from worker process ${this.pid}: ${why}; stopping it`);
    this.kill('SIGKILL');
  }

  /** Calls the pool; an error there is a bug of ours: logged and counted, it fails no request. */
  private toOwner(call: () => void): void {
    try {
      call();
    } catch (err) {
      countFault('supervisor');
      this.log.error({ err }, `internal error in group '${this.spec.label}' while handling worker process ${this.pid}`);
    }
  }

  private forget(id: number): void {
    this.inflight.delete(id);
    this.requestStarts.delete(id);
    this.recalling.delete(id);
  }

  /** Forgets a finished request; returns how long it ran (ms). */
  private release(id: number): number {
    const started = this.requestStarts.get(id) ?? 0;
    this.forget(id);
    this.served++;
    const now = Date.now();
    const ranMs = started > 0 ? now - started : 0;
    this.lastActive = now;
    if (this.requestStarts.size >= this.threads) {
      // A thread freed: the oldest waiting request starts now.
      let seen = 0;
      for (const [k, t] of this.requestStarts) {
        if (t === 0) {
          this.requestStarts.set(k, now);
          break;
        }
        if (++seen >= this.threads) break;
      }
    }
    return ranMs;
  }

  /** When the longest-running request started (ms); 0 when idle. */
  oldestStart(): number {
    for (const t of this.requestStarts.values()) return t;
    return 0;
  }

  /** When the request with this frame id started running; 0 while it waits for a thread. */
  startTime(id: number): number {
    return this.requestStarts.get(id) ?? 0;
  }

  /** Requests that started running before `before` (ms): [frame id, sink, start]. */
  runningSince(before: number): [number, ExchangeSink, number][] {
    const out: [number, ExchangeSink, number][] = [];
    for (const [id, t] of this.requestStarts) {
      if (t !== 0 && t < before) out.push([id, this.inflight.get(id) as ExchangeSink, t]);
    }
    return out;
  }

  /**
   * Asks the process to give back the requests waiting inside it that no thread has started (and
   * that can run elsewhere). The worker answers each it had not started with END+ABORT+NOT_STARTED,
   * and the pool runs it elsewhere; one that had started just completes here. Never runs twice.
   */
  recallWaiting(): void {
    for (const [id, t] of this.requestStarts) {
      if (t !== 0 || this.recalling.has(id) || !(this.inflight.get(id) as ExchangeSink).recallable) continue;
      this.recalling.add(id);
      this.write(frame(FrameType.RECALL, id, 0));
    }
  }

  /** Whether this process has served its share of requests (maximum-requests). */
  get exhausted(): boolean {
    return this.spec.maxRequests > 0 && this.served >= this.spec.maxRequests;
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

  private onReady(info: ReadyInfo): void {
    clearTimeout(this.startupTimer);
    this.readyInfo = info;
    this.readyAt = Date.now();
    if (this.state === 'starting') this.state = 'ready';
    this.toOwner(() => this.owner.onReady(this));
  }

  private onLog(id: number, payload: Buffer): void {
    const level = payload[0] ?? 40;
    const text = payload.toString('utf8', 1);
    const sink = id === 0 ? undefined : this.inflight.get(id);
    const fields = sink === undefined ? {} : { requestId: sink.requestId };
    this.log[pythonLevelMethod(level)](fields, text);
  }

  private captureLines(stream: NodeJS.ReadableStream | null, level: 'info' | 'error'): void {
    if (stream === null) return;
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => {
      const lines = (rest + text).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const failed = launchFailure(line);
        if (failed !== undefined) this.spawnError = `${failed.code}: ${failed.message}`;
        else this.log[level](line);
      }
      // A line without end is logged in parts: the worker's output never grows the front end's memory.
      if (rest.length > MAX_LINE) {
        this.log[level](rest);
        rest = '';
      }
    });
    stream.on('end', () => {
      if (rest) this.log[level](rest);
    });
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
    const lost: ExchangeSink[] = [];
    const waiting: ExchangeSink[] = [];
    for (const [id, sink] of this.inflight) {
      if (this.requestStarts.get(id) === 0 && sink.recallable) waiting.push(sink);
      else lost.push(sink);
    }
    this.inflight.clear();
    this.requestStarts.clear();
    this.lostCount += lost.length;
    for (const sink of lost) {
      try {
        sink.onLost(reason);
      } catch (err) {
        countFault('worker-frame');
        this.log.error({ err, requestId: sink.requestId }, `internal error while failing a request of worker process ${this.pid}`);
      }
    }
    if (waiting.length) this.toOwner(() => this.owner.onRecalled(this, waiting));
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.state === 'exited') return;
    clearTimeout(this.startupTimer);
    clearTimeout(this.killTimer);
    const wasDraining = this.state === 'draining';
    this.state = 'exited';
    const reason = this.spawnError
      ? `could not be started (${this.spawnError.includes(':') ? this.spawnError : `${this.spawnError}: is ${this.spec.interpreter} executable by the group's user?`})`
      : signal
        ? `killed by ${signal}`
        : `exited with code ${code}`;
    this.failInflight(`worker process ${this.pid} ${reason}`);
    if (this.lostCount > 0) {
      this.log.error(`worker process ${reason}; ${this.lostCount} request(s) in flight failed`);
    } else if (!wasDraining && this.stopReason === undefined) {
      this.log.error(`worker process ${reason}`);
    }
    this.toOwner(() => this.owner.onExit(this, reason, code, signal));
  }
}
