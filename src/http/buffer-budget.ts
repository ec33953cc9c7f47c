/**
 * The memory all request bodies buffered in the front end may take together (limits.buffer-memory).
 * A body that cannot get its share is not refused: it is streamed to the application as it arrives,
 * as every body larger than buffer-request-body is.
 */
export class BufferBudget {
  private limit: number;
  private used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Takes n bytes when they fit; false (nothing taken) when they do not. */
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  /** A reload: the new limit applies to what is taken from now on. */
  setLimit(limit: number): void {
    this.limit = limit;
  }

  get inUse(): number {
    return this.used;
  }
}
