/**
 * The requests of a pool that wait for a thread (pure: no I/O, no timers; test/unit/request-queue.test.ts).
 *
 * `waiting` is a FIFO (an array with a moving head, compacted now and then: no shift() per
 * request); `held` are the requests that noticed a changed script and wait for the new generation
 * of processes. A request that was cancelled while it waited (its client went away) is skipped,
 * never given a process; queue-timeout takes out the ones that waited too long.
 */
export interface Queued {
  /** When it was dispatched (ms). */
  readonly queuedAt: number;
  /** It was cancelled while it waited: it is skipped. */
  readonly cancelled: boolean;
}

export class RequestQueue<T extends Queued> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private held: T[] = [];

  /** Requests waiting for a thread (cancelled ones not yet skipped included). */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Requests held for a restarting generation. */
  get heldLength(): number {
    return this.held.length;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** Holds a request until the new generation serves (releaseHeld). */
  hold(item: T): void {
    this.held.push(item);
  }

  /** The next request that was not cancelled, or undefined. */
  shift(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head] as T;
      this.items[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      if (!item.cancelled) return item;
    }
    this.items.length = 0;
    this.head = 0;
    return undefined;
  }

  /** The next request that was not cancelled, left in the queue; undefined when none. */
  peek(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head] as T;
      if (!item.cancelled) return item;
      this.items[this.head++] = undefined;
    }
    return undefined;
  }

  /** The held requests (not cancelled), in order; none are held after. */
  releaseHeld(): T[] {
    return this.held.splice(0).filter((x) => !x.cancelled);
  }

  /** Every request, waiting then held (not cancelled); the queue is empty after. */
  takeAll(): T[] {
    const out: T[] = [];
    for (let x = this.shift(); x !== undefined; x = this.shift()) out.push(x);
    out.push(...this.releaseHeld());
    return out;
  }

  /**
   * Takes out the requests dispatched at or before `limit` (ms) and not cancelled: those waiting
   * for a thread, and those held for a restart.
   */
  expire(limit: number): { waiting: T[]; held: T[] } {
    const late = { waiting: [] as T[], held: [] as T[] };
    if (this.held.length > 0 && (this.held[0] as T).queuedAt <= limit) {
      late.held = this.held.filter((x) => x.queuedAt <= limit && !x.cancelled);
      this.held = this.held.filter((x) => x.queuedAt > limit);
    }
    while (this.head < this.items.length) {
      const item = this.items[this.head] as T;
      if (!item.cancelled && item.queuedAt > limit) break;
      this.items[this.head++] = undefined;
      if (!item.cancelled) late.waiting.push(item);
    }
    if (this.head >= this.items.length) {
      this.items.length = 0;
      this.head = 0;
    }
    return late;
  }
}
