/**
 * Bounds on the front end's V8 heap, so that its RSS stays under load near what it is idle.
 *
 * Left to its defaults, V8 11.3 (Node 20) grows the young generation to two 16 MiB semi-spaces
 * under any hello load, and lets the old generation's committed memory grow to about twice what
 * is live before it collects; new connections (each promotes ~0.7 KB of node:http's objects)
 * then push the front end from ~70 MB idle to 120-140 MB (docs/performance.md, issue 17). Two
 * bounds, measured there (front-end CPU per request unchanged within the noise):
 *
 * - The old generation grows by HEAP_GROWING_PERCENT over what is live, not V8's factor of up to
 *   4 (`--heap-growing-percent`, which V8 reads each time it sets the next limit: a run-time
 *   setting takes effect, for every heap of the process).
 * - The young generation stops growing at SEMI_SPACE_MB per semi-space. A front-end loop in a
 *   thread gets that as its `resourceLimits` (YOUNG_GENERATION_MB). The main thread's heap is
 *   made before any of our code runs, so there the bound is kept at run time: after each young
 *   collection, V8's growth factor for the young generation (`--semi-space-growth-factor`, read
 *   when it grows) is 1 while the main heap is at the bound and 2 below it (after V8 shrank it
 *   in an idle spell, it grows again as before). It is 1 until the first young collection is
 *   observed, and the command line installs this before it loads a command's modules
 *   (cli/heap-bounds-first.ts): loading them would otherwise take it to 2 x 16 MiB at once. That factor is one setting for the whole
 *   process, so this is done only when the main thread is the one loop: with loop threads it
 *   would stop theirs from growing too, and the main loop's young generation is left as V8 grows
 *   it.
 *
 * Where a setting cannot be made, V8 behaves as it would without this.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** The old generation's growth over what is live (V8 picks up to 300% on its own). */
export const HEAP_GROWING_PERCENT = 30;
/** The young generation's bound per semi-space (V8's default maximum: 16). */
export const SEMI_SPACE_MB = 4;
/** A loop thread's `resourceLimits.maxYoungGenerationSizeMb`: V8 sizes it as 3 semi-spaces. */
export const YOUNG_GENERATION_MB = 3 * SEMI_SPACE_MB;

const MiB = 1024 * 1024;

/** Whether the young generation may grow, given its size now: pure, for the unit test. */
export function mayGrow(newSpaceBytes: number, semiSpaceMb = SEMI_SPACE_MB): boolean {
  // new_space's size counts both semi-spaces
  return newSpaceBytes < 2 * semiSpaceMb * MiB;
}

function setFlag(flag: string): boolean {
  try {
    setFlagsFromString(flag);
    return true;
  } catch {
    return false;
  }
}

let oldBounded = false;

/** The old generation's bound, for every heap of the process (once). */
export function boundOldGeneration(): void {
  if (oldBounded) return;
  oldBounded = true;
  setFlag(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

let youngBounded: PerformanceObserver | undefined;

function newSpaceBytes(): number | undefined {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size;
}

/**
 * The main thread's young-generation bound, kept after each young collection (once; call only
 * when the main thread is the only front-end loop). Returns whether it is kept.
 */
export function boundMainYoungGeneration(): boolean {
  if (youngBounded !== undefined) return true;
  if (newSpaceBytes() === undefined) return false;
  let growing: boolean | undefined;
  const check = (): void => {
    const size = newSpaceBytes();
    if (size === undefined) return;
    const want = mayGrow(size);
    if (want === growing) return;
    if (setFlag(`--semi-space-growth-factor=${want ? 2 : 1}`)) growing = want;
  };
  youngBounded = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) return check();
    }
  });
  youngBounded.observe({ entryTypes: ['gc'] });
  // Not grown until the first young collection is observed: the observer's callbacks run on the
  // event loop, so while modules load (synchronously) V8 could otherwise double it several times.
  if (setFlag('--semi-space-growth-factor=1')) growing = false;
  release = (): void => {
    youngBounded?.disconnect();
    youngBounded = undefined;
    if (growing === false) setFlag('--semi-space-growth-factor=2');
  };
  return true;
}

let release: (() => void) | undefined;

/** Lets the main thread's young generation grow as V8 grows it again (front-end loop threads started). */
export function releaseMainYoungGeneration(): void {
  release?.();
  release = undefined;
}
