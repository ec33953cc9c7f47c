/**
 * The requests of one client connection, served one at a time in the order they came: the next one
 * starts when the previous response was sent whole. A client that pipelines gets its answers in
 * order (RFC 9112 9.3.2) without taking more than one place in any group's queue; reading ahead of
 * the one being served is bounded (maxWaiting), and a connection-level error (a malformed next
 * request, headers that never finish) is answered only once every earlier response went out.
 */
export interface QueueHooks<T> {
  /** Serve this request now: every earlier response was sent. */
  start(item: T): void;
  /** Stop reading from the client. */
  hold(): void;
  /** Read from the client again. */
  release(): void;
  /** Answer the connection-level error and close: nothing else is being answered. */
  final(status: number, why: string): void;
}

export class ConnectionQueue<T> {
  private readonly hooks: QueueHooks<T>;
  private maxWaiting: number;
  private readonly waiting: T[] = [];
  private current: T | undefined;
  private newest: T | undefined;
  private failure: { status: number; why: string } | undefined;
  private closed = false;
  private holding = false;

  constructor(maxWaiting: number, hooks: QueueHooks<T>) {
    this.maxWaiting = Math.max(1, maxWaiting);
    this.hooks = hooks;
  }

  /** Requests parsed and not yet started. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** The request being served, if any. */
  get active(): T | undefined {
    return this.current;
  }

  /** The request that came last (served, waiting or done), if any. */
  get last(): T | undefined {
    return this.newest;
  }

  /** Reading is held (too many waiting, or the connection failed). */
  get held(): boolean {
    return this.holding;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** A request was parsed. */
  push(item: T): void {
    if (this.closed || this.failure !== undefined) return;
    this.newest = item;
    if (this.current === undefined && this.waiting.length === 0) {
      this.current = item;
      this.hooks.start(item);
      return;
    }
    this.waiting.push(item);
    if (this.waiting.length >= this.maxWaiting) this.hold();
  }

  /** The response to item was sent whole (or cut short): start the next one. */
  done(item: T): void {
    if (item !== this.current) return;
    this.current = undefined;
    if (this.closed) return;
    const next = this.waiting.shift();
    if (this.holding && this.failure === undefined && this.waiting.length < this.maxWaiting) {
      this.holding = false;
      this.hooks.release();
    }
    if (next !== undefined) {
      this.current = next;
      this.hooks.start(next);
    } else if (this.failure !== undefined) {
      this.hooks.final(this.failure.status, this.failure.why);
    }
  }

  /** The connection cannot go on: answer status after the requests before the failure, then close. */
  fail(status: number, why: string): void {
    if (this.closed || this.failure !== undefined) return;
    this.failure = { status, why };
    this.hold();
    if (this.current === undefined && this.waiting.length === 0) this.hooks.final(status, why);
  }

  /** The client went away: returns the requests that never started (nothing is served any more). */
  close(): T[] {
    this.closed = true;
    return this.waiting.splice(0);
  }

  /** A reload changed the bound. */
  setMaxWaiting(n: number): void {
    this.maxWaiting = Math.max(1, n);
  }

  private hold(): void {
    if (this.holding) return;
    this.holding = true;
    this.hooks.hold();
  }
}
