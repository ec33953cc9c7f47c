/**
 * Memory that worker connections are read into, and that the response bytes are written to the
 * client from, uncopied. Each connection reads into its own 256 KiB slab; what the front end keeps
 * past a read (a response body on its way to the client) is retained, and released when its write
 * completed. While nothing of its slab is retained, a connection reads from the slab's start again,
 * as into one reused buffer; once something is, reads go on after it, and when too little is left,
 * into another slab. A slab whose last retained bytes are released returns to a pool of a few free
 * slabs for the next connection that needs one. Steady bulk transfers then allocate nothing and
 * copy nothing in user space: fresh buffers (even pooled ones) count as external memory, which
 * makes V8 run full collections every few dozen megabytes, and a copy of every response byte cost
 * ~7% of the front end's CPU under 100 MB downloads (docs/performance.md).
 *
 * Bytes that are not retained are read over by the connection's next reads: whoever keeps a view
 * of what a worker sent past the call that gave it retains it (or copies it). A view that is not
 * of a slab (a frame assembled from several reads, or a read from a socketpair) is its own memory:
 * retaining and releasing it does nothing.
 */

/** A slab's size: a connection's reads go into at most this much. */
export const SLAB_SIZE = 256 * 1024;
/** A read gets at least this much room; with less left, the connection takes another slab. */
export const MIN_READ = 64 * 1024;
/** Free slabs kept for reuse, at most (per thread). */
const KEEP = 8;

interface Slab {
  readonly buf: Buffer;
  /** Retained views of it not yet released. */
  refs: number;
  /** The reader it is the current slab of, if any. */
  reader: SlabReader | undefined;
}

const free: Slab[] = [];
const owners = new WeakMap<ArrayBufferLike, Slab>();

function take(reader: SlabReader): Slab {
  const slab = free.pop() ?? newSlab();
  slab.reader = reader;
  return slab;
}

function newSlab(): Slab {
  const slab: Slab = { buf: Buffer.allocUnsafeSlow(SLAB_SIZE), refs: 0, reader: undefined };
  owners.set(slab.buf.buffer, slab);
  return slab;
}

function give(slab: Slab): void {
  if (free.length < KEEP) free.push(slab);
}

/** One connection's reads (net's `onread`: `buffer: () => reader.next()`, and `filled(n)` in its callback). */
export class SlabReader {
  private slab: Slab;
  private offset = 0;
  private closed = false;

  constructor() {
    this.slab = take(this);
  }

  /** The memory the next read goes into. */
  next(): Buffer {
    const slab = this.slab;
    if (slab.refs === 0) this.offset = 0;
    else if (SLAB_SIZE - this.offset < MIN_READ) {
      slab.reader = undefined; // it returns to the pool when its last view is released
      this.slab = take(this);
      this.offset = 0;
    }
    return this.slab.buf.subarray(this.offset);
  }

  /** n bytes were read into the memory next() gave last. */
  filled(n: number): void {
    this.offset += n;
  }

  /** The connection is gone: its slab returns to the pool once nothing of it is retained. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const slab = this.slab;
    slab.reader = undefined;
    if (slab.refs === 0) give(slab);
  }
}

/** Keeps view's bytes from being read over until release(view); returns view. */
export function retain(view: Buffer): Buffer {
  const slab = owners.get(view.buffer);
  if (slab !== undefined) slab.refs++;
  return view;
}

/** A view retained before was written (or dropped): its bytes may be read over. */
export function release(view: Buffer): void {
  const slab = owners.get(view.buffer);
  if (slab === undefined || slab.refs === 0) return;
  slab.refs--;
  if (slab.refs === 0 && slab.reader === undefined) give(slab);
}

/** Free slabs in this thread's pool (for tests). */
export function freeSlabs(): number {
  return free.length;
}
