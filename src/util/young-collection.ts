/**
 * A young-generation collection after every few megabytes of request body, in each front-end
 * loop. node:http (and node:http2) hand each body read over as a new Buffer whose memory lies
 * outside V8's heap; V8 frees it only when a collection finds its Buffer dead, and V8 11.3
 * (Node 20) counts that memory, while it lives, against the old generation's limit. Once the
 * young generation has grown (any hello or JSON load grows it to its maximum), young collections
 * come too rarely to free the upload chunks in time, the limit looks reached, and V8 runs a full
 * mark-compact every 50-70 ms under 10 MB uploads: the front end then spent twice the GC-thread
 * time and ~30% more main-thread time per upload, and uploads ran 0.67-0.80x as fast as on a
 * fresh server (docs/performance.md, issue 17). A young collection over a generation of dead
 * chunks takes ~0.5 ms and frees them; one per 4 MiB of body keeps the full ones away.
 *
 * The collector is V8's own `gc({ type: 'minor' })`, exposed by the documented flag `--expose-gc`
 * for one fresh context (the flag stays set: V8 reads it only when a context is created). Where
 * that is not possible, nothing is collected early and V8 behaves as it would without this.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Request-body bytes between two young collections. */
export const BODY_BYTES_PER_COLLECTION = 4 * 1024 * 1024;

type Collect = () => void;

/** Counts body bytes and collects after every `every` of them. Pure but for the collector given. */
export class YoungCollection {
  private pending = 0;
  private readonly every: number;
  private readonly collect: Collect | undefined;

  constructor(collect: Collect | undefined, every = BODY_BYTES_PER_COLLECTION) {
    this.collect = collect;
    this.every = every;
  }

  /** Whether collections happen (the collector could be had). */
  get active(): boolean {
    return this.collect !== undefined;
  }

  /** n more bytes of request body arrived in a new buffer. */
  note(n: number): void {
    if (this.collect === undefined) return;
    this.pending += n;
    if (this.pending < this.every) return;
    this.pending = 0;
    this.collect();
  }
}

/** V8's young-generation collector, or undefined where it cannot be had. */
export function minorCollector(): Collect | undefined {
  type Gc = (options: { type: 'minor' }) => void;
  let gc = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== 'function') {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('typeof gc === "function" ? gc : undefined');
    } catch {
      return undefined;
    }
  }
  if (typeof gc !== 'function') return undefined;
  const run = gc as Gc;
  return () => run({ type: 'minor' });
}

let shared: YoungCollection | undefined;

/** This thread's counter (each front-end loop is a thread with a heap of its own). */
export function bodyCollection(): YoungCollection {
  shared ??= new YoungCollection(minorCollector());
  return shared;
}
