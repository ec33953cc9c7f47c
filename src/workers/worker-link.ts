/**
 * One front-end loop's own connection to a worker process it did not start (front-ends > 1): the
 * loops other than the first each open one to every ready process (docs/protocol.md, "extra
 * connections") and send their requests on it, with their own frame ids. The process's life (spawn,
 * READY, drain, exit, recycling) stays with the first loop's WorkerProcess; a link only carries
 * requests, and what the first loop announces (draining, gone) reaches it as calls.
 *
 * What a worker sends on a link is checked as on the first connection (worker-channel.ts,
 * request-handle.ts); a frame about the process itself (READY, LOAD_FAILED) is a protocol error
 * there: the link is closed and its requests fail, the process is the first loop's to stop.
 */
import { countFault } from '../observability/faults.js';
import type { Logger } from '../observability/logger.js';
import { pythonLevelMethod } from '../observability/logger.js';
import { FrameType } from '../protocol/frame-types.js';
import { InflightTable } from './inflight.js';
import { type FrameSink, requestFrame } from './request-frames.js';
import type { ReplyPoller } from './reply-poller.js';
import type { HandleHost, RequestHandle } from './request-handle.js';
import type { Scoreboard } from './scoreboard.js';
import { type ChannelEvents, WorkerChannel } from './worker-channel.js';

/** A process as the first loop announces it to the others. */
export interface AnnouncedProcess {
  pid: number;
  slot: number;
  /** The unix socket the worker accepts its front end's connections on. */
  socket: string;
  threads: number;
  generation: number;
  state: 'ready' | 'draining';
  stuck: boolean;
  /** maximum-requests of this process (with its jitter; 0: none), counted over every loop. */
  maxRequests: number;
}

/** What a link tells its loop's pool. */
export interface LinkOwner {
  linkFree(link: WorkerLink, ranMs: number): void;
  linkRecalled(link: WorkerLink, requests: RequestHandle[]): void;
  linkClosed(link: WorkerLink): void;
  /** The process served maximum-requests (counted over every loop): the first loop recycles it. */
  linkExhausted(link: WorkerLink): void;
}

/** How long a link keeps trying to connect to a process that was announced ready. */
const CONNECT_MS = 5000;

export class WorkerLink implements HandleHost, ChannelEvents {
  readonly channel: WorkerChannel;
  readonly poller: ReplyPoller;
  readonly log: Logger;
  readonly pid: number;
  readonly slot: number;
  readonly threads: number;
  readonly generation: number;
  state: 'ready' | 'draining' | 'gone' = 'ready';
  stuck = false;
  private readonly maxRequests: number;
  private exhausted = false;
  private readonly inflight: InflightTable;
  /** requestFrame's view of this link (request-frames.ts). */
  private readonly frames: FrameSink;
  private readonly owner: LinkOwner;
  private readonly board: Scoreboard;
  private readonly group: number;

  constructor(p: AnnouncedProcess, group: number, owner: LinkOwner, board: Scoreboard, log: Logger, poller: ReplyPoller) {
    this.pid = p.pid;
    this.slot = p.slot;
    this.threads = p.threads;
    this.generation = p.generation;
    this.stuck = p.stuck;
    this.maxRequests = p.maxRequests;
    this.group = group;
    this.owner = owner;
    this.board = board;
    this.poller = poller;
    this.log = log.child({ pid: p.pid });
    this.inflight = new InflightTable(p.threads);
    this.frames = {
      inflight: this.inflight,
      log: this.log,
      pid: this.pid,
      release: (id) => this.release(id),
      giveBack: (handle) => {
        this.board.release(this.slot, this.group, false);
        this.owner.linkRecalled(this, [handle]);
        this.owner.linkFree(this, 0);
      },
    };
    this.channel = new WorkerChannel(this, false);
    const deadline = Date.now() + CONNECT_MS;
    this.channel.connect(p.socket, () => this.state === 'gone' || Date.now() > deadline);
  }

  get alive(): boolean {
    return this.state !== 'gone' && !this.channel.isClosed;
  }

  get busy(): number {
    return this.inflight.size;
  }

  /** Sends a request; the caller counted it on the scoreboard (tryAcquire or add). */
  start(handle: RequestHandle): void {
    const id = this.inflight.add(handle, Date.now());
    handle.sendTo(this, id);
  }

  /** When this loop's longest-running request on it started (ms); 0 when it holds none. */
  oldestStart(): number {
    return this.inflight.oldestStart();
  }

  runningSince(before: number): RequestHandle[] {
    return this.inflight.runningSince(before);
  }

  /** The first loop drains the process: no new requests; those waiting inside it go elsewhere. */
  drain(): void {
    if (this.state !== 'ready') return;
    this.state = 'draining';
    this.recallWaiting();
    this.channel.control(FrameType.SHUTDOWN, 0);
  }

  recallWaiting(): void {
    for (const h of this.inflight.recallable()) {
      h.recalling = true;
      this.channel.control(FrameType.RECALL, h.id);
    }
  }

  /**
   * The first loop saw the process exit. What it wrote before exiting may still be unread on this
   * loop's connection (the exit and the last bytes reach different threads in either order): its
   * end of file settles the requests (closed()); failing that within a second, they are lost.
   */
  processExited(): void {
    if (this.state === 'gone' || this.exitTimer !== undefined) return;
    if (this.state === 'ready') this.state = 'draining';
    if (this.channel.isClosed || !this.channel.connected) {
      this.gone(`worker process ${this.pid} exited`);
      this.channel.destroy();
      return;
    }
    this.exitTimer = setTimeout(() => {
      this.gone(`worker process ${this.pid} exited`);
      this.channel.destroy();
    }, 1000);
    this.exitTimer.unref();
  }

  private exitTimer: NodeJS.Timeout | undefined;

  /** The process left (the first loop saw it exit), or this loop stops using it. */
  gone(reason: string): void {
    if (this.state === 'gone') return;
    this.state = 'gone';
    this.failInflight(reason);
  }

  // -- the channel's events --------------------------------------------------------------------

  requestFrame(type: number, id: number, flags: number, payload: Buffer): void {
    const ranMs = requestFrame(this.frames, type, id, flags, payload);
    if (ranMs >= 0) this.owner.linkFree(this, ranMs);
  }

  private release(id: number): number {
    this.board.release(this.slot, this.group, true);
    if (this.maxRequests > 0 && !this.exhausted && this.board.served(this.slot) >= this.maxRequests) {
      this.exhausted = true;
      this.owner.linkExhausted(this);
    }
    return this.inflight.release(id, Date.now());
  }

  ready(): void {
    this.broken('READY on an extra connection', undefined);
  }

  loadFailed(): void {
    this.broken('LOAD_FAILED on an extra connection', undefined);
  }

  logLine(id: number, level: number, text: string): void {
    const handle = id === 0 ? undefined : this.inflight.get(id);
    this.log[pythonLevelMethod(level)](handle === undefined ? {} : { requestId: handle.requestId }, text);
  }

  modules(): void {}

  broken(why: string, err: unknown): void {
    countFault('worker-frame');
    this.log.error({ err }, `protocol error from worker process ${this.pid} on this loop's connection: ${why}; closing it`);
    this.gone(`worker process ${this.pid} broke the protocol`);
    this.channel.destroy();
  }

  closed(): void {
    clearTimeout(this.exitTimer);
    const was = this.state;
    this.state = 'gone';
    if (was !== 'gone') this.failInflight(`worker process ${this.pid} closed its connection`);
    this.owner.linkClosed(this);
  }

  private failInflight(reason: string): void {
    if (this.inflight.size === 0) return;
    const { lost, waiting } = this.inflight.clear();
    for (let i = lost.length + waiting.length; i > 0; i--) this.board.release(this.slot, this.group, false);
    for (const h of lost) {
      try {
        h.lost(reason);
      } catch (err) {
        countFault('worker-frame');
        this.log.error({ err, requestId: h.requestId }, 'internal error while failing a request');
      }
    }
    for (const h of waiting) h.recalled();
    if (waiting.length) this.owner.linkRecalled(this, waiting);
  }
}
