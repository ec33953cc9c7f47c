const SLAB = 1024 * 1024;
/** Free slabs kept for reuse, at most. */
const KEEP = 4;

interface Slab {
  buf: Buffer;
  /** Copies in it not yet released (their writes have not completed). */
  refs: number;
}

/**
 * Copies bytes out of a reused read buffer into 1 MiB slabs, and reuses a slab once every copy
 * in it was released (its write completed). Steady bulk transfers then allocate nothing: fresh
 * buffers (even pooled ones) count as external memory, which makes V8 run full garbage
 * collections every few dozen megabytes. A copy never released just keeps its slab from reuse;
 * copies larger than a quarter slab get their own buffer.
 */
export class SlabCopier {
  private current: Slab = newSlab();
  private offset = 0;
  private readonly free: Slab[] = [];
  private readonly owners = new WeakMap<ArrayBufferLike, Slab>();

  constructor() {
    this.owners.set(this.current.buf.buffer, this.current);
  }

  copy(src: Buffer): Buffer {
    const n = src.length;
    if (n > SLAB / 4) return Buffer.from(src);
    if (this.offset + n > SLAB) {
      const old = this.current;
      if (old.refs === 0) this.recycle(old);
      this.current = this.free.pop() ?? this.track(newSlab());
      this.offset = 0;
    }
    const slab = this.current;
    src.copy(slab.buf, this.offset);
    const out = slab.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    slab.refs++;
    return out;
  }

  /** The write of a copy completed: its bytes may be reused. */
  release(copy: Buffer): void {
    const slab = this.owners.get(copy.buffer);
    if (slab === undefined) return;
    slab.refs--;
    if (slab.refs === 0 && slab !== this.current) this.recycle(slab);
  }

  private recycle(slab: Slab): void {
    if (this.free.length < KEEP && !this.free.includes(slab)) this.free.push(slab);
  }

  private track(slab: Slab): Slab {
    this.owners.set(slab.buf.buffer, slab);
    return slab;
  }
}

function newSlab(): Slab {
  return { buf: Buffer.allocUnsafeSlow(SLAB), refs: 0 };
}
