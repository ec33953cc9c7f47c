/**
 * A pool as a front-end loop other than the first sees it (front-ends > 1): the RequestPort its
 * routes send requests to. It holds one link (worker-link.ts) to each process the first loop
 * announced (loop-view.ts), picks the least busy one that has a free thread on the shared
 * scoreboard (claimed with a compare-and-swap, so no two loops over-fill a process), and otherwise
 * queues the request (queue-size, queue-timeout) until a thread frees in any loop. Starting,
 * replacing and stopping processes stays with the first loop; a request that runs past
 * request-timeout is answered here and reported there (the process is replaced there).
 */
import type { PoolRequest, RequestPort, RequestStream } from '../contract/request-port.js';
import type { Logger } from '../observability/logger.js';
import type { PoolView } from './loop-view.js';
import type { ReplyPoller } from './reply-poller.js';
import { RequestHandle } from './request-handle.js';
import { RequestQueue } from './request-queue.js';
import { nextServiceMs, PIPELINE_DEPTH, PIPELINE_SERVICE_MS, PIPELINE_YOUNG_MS } from './scheduler.js';
import type { Scoreboard } from './scoreboard.js';
import { type LinkOwner, WorkerLink } from './worker-link.js';

const TICK_MS = 500;

export interface LoopPoolHost {
  board: Scoreboard;
  log: Logger;
  poller: ReplyPoller;
  /** A request of process pid ran past request-timeout (the first loop replaces the process). */
  stuck(poolKey: string, pid: number, ranMs: number): void;
  /** Process pid served its maximum-requests (the first loop recycles it). */
  exhausted(poolKey: string, pid: number): void;
}

export class LoopPool implements RequestPort, LinkOwner {
  readonly label: string;
  readonly id: number;
  private key: string;
  private view: PoolView;
  private readonly links = new Map<number, WorkerLink>();
  private readonly queue = new RequestQueue<RequestHandle>();
  private readonly host: LoopPoolHost;
  private readonly log: Logger;
  private waitingFree = false;
  /** queue-timeout and request-timeout, twice a second while this loop holds or queues requests of the pool. */
  private tickTimer: NodeJS.Timeout | undefined;
  private retired = false;
  /** Moving average of how long this loop's requests of the pool run (ms), as the first loop keeps its own. */
  private serviceMs = Number.POSITIVE_INFINITY;
  /** After a reload retired this pool: where requests it gives back go. */
  private successor: LoopPool | undefined;
  /** Requests of this pool counted on the scoreboard as queued in a loop other than the first. */
  private counted = 0;

  constructor(key: string, view: PoolView, host: LoopPoolHost) {
    this.key = key;
    this.view = view;
    this.id = view.id;
    this.label = view.label;
    this.host = host;
    this.log = host.log.child({ group: view.label });
    this.update(key, view);
  }

  /** Starts the tick unless it runs (a request of this loop started or waits). */
  private arm(): void {
    if (this.tickTimer !== undefined || this.retired) return;
    this.tickTimer = setInterval(() => this.tick(), TICK_MS);
    this.tickTimer.unref();
  }

  /** What the first loop says now: links to new processes, draining ones drained, gone ones closed. */
  update(key: string, view: PoolView): void {
    this.key = key;
    this.view = view;
    const seen = new Set<number>();
    for (const p of view.processes) {
      seen.add(p.pid);
      let link = this.links.get(p.pid);
      if (link === undefined) {
        if (p.state !== 'ready') continue;
        link = new WorkerLink(p, view.boardGroup, this, this.host.board, this.log, this.host.poller);
        this.links.set(p.pid, link);
      }
      link.stuck = p.stuck;
      if (p.state === 'draining') link.drain();
    }
    for (const [pid, link] of this.links) {
      if (seen.has(pid)) continue;
      // The process left: what it answered before is read first; the link leaves when it closes.
      link.processExited();
      if (link.state === 'gone') this.links.delete(pid);
    }
    if (view.state === 'failed' || view.state === 'stopping' || view.state === 'stopped') {
      const why = view.state === 'failed' ? `group '${this.label}' is not serving: ${view.failure ?? 'failed'}` : `group '${this.label}' is shutting down`;
      for (const h of this.queue.takeAll()) h.reject(why, view.state === 'failed' ? 30 : 5);
      this.count();
    } else this.drain();
  }

  /** This pool left the configuration (a reload): its queue goes to its successor, its links close as their processes leave. */
  retire(successor: LoopPool | undefined): void {
    this.retired = true;
    clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    this.successor = successor;
    for (const link of this.links.values()) link.drain();
    const waiting = this.queue.takeAll();
    this.count();
    for (const h of waiting) {
      if (successor !== undefined) successor.submit(h);
      else h.reject(`group '${this.label}' is shutting down`, 5);
    }
  }

  dispatch(request: PoolRequest): RequestStream {
    const handle = new RequestHandle(request);
    this.submit(handle);
    return handle;
  }

  submit(h: RequestHandle): void {
    if (h.cancelled) return;
    const v = this.view;
    if (v.state === 'failed') return h.reject(`group '${this.label}' is not serving: ${v.failure ?? 'failed'}`, 30);
    if (v.state === 'stopping' || v.state === 'stopped') return h.reject(`group '${this.label}' is shutting down`, 5);
    if (this.tickTimer === undefined) this.arm();
    if (this.queue.length === 0 && this.tryStart(h)) return;
    if (this.queue.length >= v.queueSize) {
      return h.reject(`group '${this.label}' is full: ${this.queue.length} requests already wait for a thread (queue-size)`, 1);
    }
    this.queue.push(h);
    this.count();
    this.waitForFree();
  }

  /**
   * Starts h on the least busy process with a free thread, claimed on the scoreboard; failing that,
   * pipelining as the first loop does (scheduler.ts): a process whose threads are all busy may be
   * sent up to PIPELINE_DEPTH more, for a group whose requests have been fast, while this loop's
   * oldest request on it is young.
   */
  private tryStart(h: RequestHandle): boolean {
    const link = this.claim();
    if (link === undefined) return false;
    link.start(h);
    return true;
  }

  /** A process with room for one more request, claimed on the scoreboard (the caller starts one on it). */
  private claim(): WorkerLink | undefined {
    const board = this.host.board;
    const generation = this.view.generation;
    const young = this.serviceMs < PIPELINE_SERVICE_MS ? Date.now() - PIPELINE_YOUNG_MS : Number.POSITIVE_INFINITY;
    for (let attempt = 0; attempt < 4; attempt++) {
      let best: WorkerLink | undefined;
      let bestBusy = 0;
      let limit = 0;
      for (const link of this.links.values()) {
        if (link.state !== 'ready' || link.stuck || link.generation !== generation || !link.channel.connected) continue;
        const busy = board.busy(link.slot);
        const cap = busy < link.threads ? link.threads : link.oldestStart() >= young ? link.threads + PIPELINE_DEPTH : 0;
        if (busy < cap && (best === undefined || busy < bestBusy)) {
          best = link;
          bestBusy = busy;
          limit = cap;
        }
      }
      if (best === undefined) return undefined;
      if (board.tryAcquire(best.slot, limit)) return best;
    }
    return undefined;
  }

  private drain(): void {
    // The request leaves the queue before it starts: starting one may end it (and the queue skips
    // ended ones), which must not take its successor out unstarted.
    while (this.queue.peek() !== undefined) {
      const link = this.claim();
      if (link === undefined) break;
      const h = this.queue.shift();
      if (h === undefined) {
        this.host.board.release(link.slot, this.view.boardGroup, false);
        break;
      }
      link.start(h);
    }
    this.count();
  }

  /** Keeps the scoreboard's count of requests queued outside the first loop equal to this queue. */
  private count(): void {
    const n = this.queue.length;
    if (n !== this.counted) {
      this.host.board.queuedElsewhere(this.view.boardGroup, n - this.counted);
      this.counted = n;
    }
  }

  private waitForFree(): void {
    if (this.waitingFree) return;
    this.waitingFree = true;
    void this.host.board.freed(this.view.boardGroup, TICK_MS).then(() => {
      this.waitingFree = false;
      this.drain();
      if (this.queue.length > 0) this.waitForFree();
    });
  }

  linkFree(_link: WorkerLink, ranMs: number): void {
    if (ranMs > 0) this.serviceMs = nextServiceMs(this.serviceMs, ranMs);
    if (this.queue.length > 0) this.drain();
  }

  linkRecalled(_link: WorkerLink, requests: RequestHandle[]): void {
    for (const h of requests) (this.successor ?? this).submit(h);
  }

  linkExhausted(link: WorkerLink): void {
    this.host.exhausted(this.key, link.pid);
  }

  linkClosed(link: WorkerLink): void {
    if (this.links.get(link.pid) === link && link.state === 'gone') this.links.delete(link.pid);
  }

  /** Stops the tick once this loop holds no request of the pool and queues none (a new one arms it). */
  private settle(): void {
    if (this.queue.length > 0) return;
    for (const link of this.links.values()) if (link.busy > 0) return;
    clearInterval(this.tickTimer);
    this.tickTimer = undefined;
  }

  private tick(): void {
    this.check(Date.now());
    this.settle();
  }

  private check(now: number): void {
    const limit = this.view.queueTimeout;
    if (limit > 0) {
      const late = this.queue.expire(now - limit * 1000);
      for (const h of late.waiting) h.reject(`no thread of group '${this.label}' became free within queue-timeout (${limit}s)`, 1);
      this.count();
    }
    const timeout = this.view.requestTimeout;
    if (timeout <= 0) return;
    for (const link of this.links.values()) {
      if (link.busy === 0) continue;
      for (const h of link.runningSince(now - timeout * 1000)) {
        if (h.timedOut) continue;
        const ranMs = now - h.startedAt;
        this.log.error(
          { pid: link.pid, requestId: h.requestId },
          `request-timeout: a request has run ${(ranMs / 1000).toFixed(1)}s (limit ${timeout}s); answered 504; the process is replaced`,
        );
        h.timeout(timeout);
        h.cancel();
        link.stuck = true;
        link.recallWaiting();
        this.host.stuck(this.key, link.pid, ranMs);
      }
    }
  }
}
