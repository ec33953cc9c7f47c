/**
 * The one view of every worker process's load that all front-end event loops share (front-ends > 1):
 * shared memory, read and written with Atomics, so that two loops never over-fill one process and
 * none needs to ask another. Per process slot: the requests it holds from every loop (running and
 * waiting inside it) and how many it finished (maximum-requests). Per group: a counter bumped each
 * time one of its processes frees a thread, which a loop with queued requests waits on
 * (Atomics.waitAsync: no timer, no polling), and the requests queued in the loops other than the
 * first (so that a dynamic pool grows for them too).
 *
 * The first loop (the main thread) owns the slots: it gives one to each process it starts; the
 * others only count. A slot is reused after SLOTS more processes started, long after its process left.
 */

const SLOTS = 4096;
const GROUPS = 1024;
/** Int32 cells per process slot: busy, served. */
const SLOT_CELLS = 2;
/** Int32 cells per group: the free counter, the loops waiting on it, requests queued in other loops. */
const GROUP_CELLS = 3;
const GROUP_BASE = SLOTS * SLOT_CELLS;

export class Scoreboard {
  readonly buffer: SharedArrayBuffer;
  private readonly cells: Int32Array;
  private nextSlot = 0;
  private nextGroup = 0;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer((GROUP_BASE + GROUPS * GROUP_CELLS) * 4);
    this.cells = new Int32Array(this.buffer);
  }

  /** (first loop) A slot for a new process, its counters at zero. */
  allocateSlot(): number {
    const slot = this.nextSlot;
    this.nextSlot = (slot + 1) % SLOTS;
    Atomics.store(this.cells, slot * SLOT_CELLS, 0);
    Atomics.store(this.cells, slot * SLOT_CELLS + 1, 0);
    return slot;
  }

  /** (first loop) A group's index, for its free signal. */
  allocateGroup(): number {
    const g = this.nextGroup;
    this.nextGroup = (g + 1) % GROUPS;
    const at = GROUP_BASE + g * GROUP_CELLS;
    Atomics.store(this.cells, at + 2, 0);
    return g;
  }

  busy(slot: number): number {
    return Atomics.load(this.cells, slot * SLOT_CELLS);
  }

  served(slot: number): number {
    return Atomics.load(this.cells, slot * SLOT_CELLS + 1);
  }

  /** Counts one more request held by the process, whatever it holds already (the first loop decided). */
  add(slot: number): void {
    Atomics.add(this.cells, slot * SLOT_CELLS, 1);
  }

  /** Counts one more request held by the process if it holds fewer than limit; false when it is full. */
  tryAcquire(slot: number, limit: number): boolean {
    const at = slot * SLOT_CELLS;
    let seen = Atomics.load(this.cells, at);
    while (seen < limit) {
      const was = Atomics.compareExchange(this.cells, at, seen, seen + 1);
      if (was === seen) return true;
      seen = was;
    }
    return false;
  }

  /**
   * A request the process held is over (finished: counted as served, or given back); one thread
   * may be free: the loops waiting for one of the group's threads are woken.
   */
  release(slot: number, group: number, finished: boolean): void {
    Atomics.sub(this.cells, slot * SLOT_CELLS, 1);
    if (finished) Atomics.add(this.cells, slot * SLOT_CELLS + 1, 1);
    const at = GROUP_BASE + group * GROUP_CELLS;
    Atomics.add(this.cells, at, 1);
    if (Atomics.load(this.cells, at + 1) === 0) return;
    // Waking another loop costs a cross-thread wake-up: once per turn of this loop per group (what
    // frees later in the same turn is seen by the woken loop when it looks).
    if (this.wakeDue.has(group)) return;
    this.wakeDue.add(group);
    if (this.wakeDue.size === 1) setImmediate(this.wake);
  }

  private readonly wakeDue = new Set<number>();
  private readonly wake = (): void => {
    for (const group of this.wakeDue) Atomics.notify(this.cells, GROUP_BASE + group * GROUP_CELLS);
    this.wakeDue.clear();
  };

  /**
   * Resolves when one of the group's processes frees a thread, or after ms (a timer of this loop
   * bounds the wait, and keeps the loop alive meanwhile: a pending Atomics.waitAsync does not).
   */
  freed(group: number, ms: number): Promise<void> {
    const at = GROUP_BASE + group * GROUP_CELLS;
    const seen = Atomics.load(this.cells, at);
    Atomics.add(this.cells, at + 1, 1);
    return new Promise((resolve) => {
      let over = false;
      const finish = (): void => {
        if (over) return;
        over = true;
        clearTimeout(timer);
        Atomics.sub(this.cells, at + 1, 1);
        resolve();
      };
      const timer = setTimeout(finish, ms);
      const w = Atomics.waitAsync(this.cells, at, seen, ms);
      if (!w.async) finish();
      else w.value.then(finish, finish);
    });
  }

  /** Requests queued in the loops other than the first, for the group (n may be negative). */
  queuedElsewhere(group: number, n?: number): number {
    const at = GROUP_BASE + group * GROUP_CELLS + 2;
    if (n === undefined) return Atomics.load(this.cells, at);
    return Atomics.add(this.cells, at, n) + n;
  }
}
