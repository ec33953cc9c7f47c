/**
 * The requests one worker process holds: frame ids (u32, 0 is the connection itself), in the order
 * they were sent, with when each started running. The worker takes waiting requests in the order
 * sent, so the first `threads` are the running ones; the others wait inside it for a thread (their
 * start is 0) and can be recalled to run elsewhere.
 */
import type { RequestHandle } from './request-handle.js';

export class InflightTable {
  private readonly threads: number;
  private readonly byId = new Map<number, RequestHandle>();
  private nextId = 1;

  constructor(threads: number) {
    this.threads = threads;
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: number): RequestHandle | undefined {
    return this.byId.get(id);
  }

  /** Takes a request: its frame id. It runs at once when a thread is free, else it waits. */
  add(handle: RequestHandle, now: number): number {
    let id: number;
    do {
      id = this.nextId;
      this.nextId = id >= 0xffffffff ? 1 : id + 1;
    } while (this.byId.has(id));
    handle.startedAt = this.byId.size < this.threads ? now : 0;
    this.byId.set(id, handle);
    return id;
  }

  /** Forgets a request that never ran (recalled). */
  forget(id: number): void {
    this.byId.delete(id);
  }

  /** Forgets a finished request; returns how long it ran (ms). A thread freed: the oldest waiting one starts. */
  release(id: number, now: number): number {
    const handle = this.byId.get(id);
    const started = handle?.startedAt ?? 0;
    this.byId.delete(id);
    if (this.byId.size >= this.threads) {
      let seen = 0;
      for (const h of this.byId.values()) {
        if (h.startedAt === 0) {
          h.startedAt = now;
          break;
        }
        if (++seen >= this.threads) break;
      }
    }
    return started > 0 ? now - started : 0;
  }

  /** When the longest-running request started (ms); 0 when idle. */
  oldestStart(): number {
    for (const h of this.byId.values()) return h.startedAt;
    return 0;
  }

  /** Requests that started running before `before` (ms). */
  runningSince(before: number): RequestHandle[] {
    const out: RequestHandle[] = [];
    for (const h of this.byId.values()) if (h.startedAt !== 0 && h.startedAt < before) out.push(h);
    return out;
  }

  /** Requests waiting inside the process that may run elsewhere and were not asked back yet. */
  recallable(): RequestHandle[] {
    const out: RequestHandle[] = [];
    for (const h of this.byId.values()) if (h.startedAt === 0 && !h.recalling && h.recallable) out.push(h);
    return out;
  }

  /** Empties the table: the requests that were running (lost), and those that waited and may run elsewhere. */
  clear(): { lost: RequestHandle[]; waiting: RequestHandle[] } {
    const lost: RequestHandle[] = [];
    const waiting: RequestHandle[] = [];
    for (const h of this.byId.values()) (h.startedAt === 0 && h.recallable ? waiting : lost).push(h);
    this.byId.clear();
    return { lost, waiting };
  }
}
