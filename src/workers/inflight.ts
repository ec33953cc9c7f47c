/**
 * The requests one worker process holds: frame ids (u32, 0 is the connection itself), in the order
 * they were sent, with when each started running. The worker takes waiting requests in the order
 * sent, so the first `threads` are the running ones; the others wait inside it for a thread (their
 * start is 0) and can be recalled to run elsewhere.
 *
 * Held in two arrays in send order (ids and requests), searched from the oldest: a process holds
 * few requests (its threads plus the scheduler's PIPELINE_DEPTH), and the frames of the running
 * ones, the first entries, are the ones that come. Not a Map: a Map that requests keep entering
 * and leaving is rebuilt every few dozen of them, and V8 links each discarded table to its
 * successor; once one of those tables has reached the old generation (every full collection puts
 * the live one there), every later table, and every request they still name, survives the young
 * collections until the next full one. Under load that promoted ~2 KB per request, grew the heap
 * by tens of MB and quadrupled the time spent in young collections (docs/performance.md, issue 17).
 * These arrays are only ever written in place (a vacated entry is cleared), so nothing retired
 * keeps a request alive.
 */
import type { RequestHandle } from './request-handle.js';

/** What the table reads and writes of a request. */
export interface InflightEntry {
  /** When it started running (ms); 0 while it waits inside the process. */
  startedAt: number;
  /** Asked back (RECALL sent), not answered yet. */
  readonly recalling: boolean;
  /** It may still run elsewhere (nothing of it was sent to the application). */
  readonly recallable: boolean;
}

export class InflightTable<H extends InflightEntry = RequestHandle> {
  private readonly threads: number;
  /** Frame ids and requests, in the order sent; entries at `count` and beyond are cleared. */
  private readonly ids: number[] = [];
  private readonly handles: (H | undefined)[] = [];
  private count = 0;
  private nextId = 1;

  constructor(threads: number) {
    this.threads = threads;
  }

  get size(): number {
    return this.count;
  }

  get(id: number): H | undefined {
    const i = this.indexOf(id);
    return i < 0 ? undefined : this.handles[i];
  }

  /** Takes a request: its frame id. It runs at once when a thread is free, else it waits. */
  add(handle: H, now: number): number {
    let id: number;
    do {
      id = this.nextId;
      this.nextId = id >= 0xffffffff ? 1 : id + 1;
    } while (this.indexOf(id) >= 0);
    handle.startedAt = this.count < this.threads ? now : 0;
    const n = this.count;
    if (n < this.ids.length) {
      this.ids[n] = id;
      this.handles[n] = handle;
    } else {
      this.ids.push(id);
      this.handles.push(handle);
    }
    this.count = n + 1;
    return id;
  }

  /** Forgets a request that never ran (recalled). */
  forget(id: number): void {
    this.remove(this.indexOf(id));
  }

  /** Forgets a finished request; returns how long it ran (ms). A thread freed: the oldest waiting one starts. */
  release(id: number, now: number): number {
    const i = this.indexOf(id);
    const started = i < 0 ? 0 : (this.handles[i] as H).startedAt;
    this.remove(i);
    if (this.count >= this.threads) {
      const end = Math.min(this.count, this.threads);
      for (let j = 0; j < end; j++) {
        const h = this.handles[j] as H;
        if (h.startedAt === 0) {
          h.startedAt = now;
          break;
        }
      }
    }
    return started > 0 ? now - started : 0;
  }

  /** When the longest-running request started (ms); 0 when idle. */
  oldestStart(): number {
    return this.count === 0 ? 0 : (this.handles[0] as H).startedAt;
  }

  /** Requests that started running before `before` (ms). */
  runningSince(before: number): H[] {
    const out: H[] = [];
    for (let i = 0; i < this.count; i++) {
      const h = this.handles[i] as H;
      if (h.startedAt !== 0 && h.startedAt < before) out.push(h);
    }
    return out;
  }

  /** Requests waiting inside the process that may run elsewhere and were not asked back yet. */
  recallable(): H[] {
    const out: H[] = [];
    for (let i = 0; i < this.count; i++) {
      const h = this.handles[i] as H;
      if (h.startedAt === 0 && !h.recalling && h.recallable) out.push(h);
    }
    return out;
  }

  /** Empties the table: the requests that were running (lost), and those that waited and may run elsewhere. */
  clear(): { lost: H[]; waiting: H[] } {
    const lost: H[] = [];
    const waiting: H[] = [];
    for (let i = 0; i < this.count; i++) {
      const h = this.handles[i] as H;
      (h.startedAt === 0 && h.recallable ? waiting : lost).push(h);
      this.handles[i] = undefined;
    }
    this.count = 0;
    return { lost, waiting };
  }

  private indexOf(id: number): number {
    const ids = this.ids;
    for (let i = 0; i < this.count; i++) if (ids[i] === id) return i;
    return -1;
  }

  /** Takes entry i out, keeping the order; the vacated last entry is cleared. */
  private remove(i: number): void {
    if (i < 0) return;
    const last = this.count - 1;
    for (let j = i; j < last; j++) {
      this.ids[j] = this.ids[j + 1] as number;
      this.handles[j] = this.handles[j + 1];
    }
    this.handles[last] = undefined;
    this.count = last;
  }
}
