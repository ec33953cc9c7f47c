/**
 * The scaling model (`npm run bench -- --scaling`): from the CPU per request measured with 1, 2, ...
 * front-end loops, what C cores would serve, and what stops it. Pure: numbers in, numbers out.
 *
 * For C cores the server runs L = min(C, loopCap) front-end loops and enough worker processes:
 * - the CPU bound: C / (CPU per request, front end + workers);
 * - the loops' ceiling: L / (front-end CPU per request): a loop is one thread, at most one core
 *   (with L = 1, the one-loop ceiling);
 * - predicted = the smaller; where it stops is that bound, and for the CPU bound the larger share of
 *   a request's CPU (the workers': add processes, each holds one GIL, at most one core; the front
 *   end's: cut its CPU per request).
 * The load generator is bounded apart: one wrk thread tops out at 1 / (wrk's CPU per request), and
 * sharing the C cores (as the harness runs it) at C / (CPU per request + wrk's). It is named where
 * it stops the harness before the server (one wrk thread below the prediction), or where its share
 * of the shared cores is comparable to the server's (WRK_SHARE or more).
 */

/** Medians of one loop count's runs: req/s, and CPU per request in microseconds. */
export interface LoopCosts {
  loops: number;
  rps: number;
  totalUs: number;
  frontEndUs: number;
  workersUs: number;
  /** wrk's own CPU per request (it shares the machine) */
  wrkUs: number;
}

export type Stop = 'loops' | 'workers-cpu' | 'front-end-cpu';

/** wrk's share of the CPU it and the server use (wrk / (total + wrk)) from which it is named as a ceiling. */
export const WRK_SHARE = 0.2;

export interface ModelRow {
  cores: number;
  loops: number;
  /** req/s: C / total */
  cpuBound: number;
  /** req/s: L / front end */
  loopBound: number;
  /** req/s: min(cpuBound, loopBound) */
  predicted: number;
  stop: Stop;
  /** cores' worth of front-end CPU at the predicted rate (how busy the L loops are, summed) */
  loopCores: number;
  /** worker processes needed at the predicted rate: one GIL each, at most one core each */
  workerProcesses: number;
  /** req/s: what the harness can measure here, wrk -t1 on the same C cores: min(C / (total + wrk), 1 / wrk) */
  harnessBound: number;
  /**
   * the load generator as a ceiling: 'thread' when one wrk thread tops out below the prediction,
   * 'share' when it takes WRK_SHARE or more of the cores it shares with the server; else undefined
   */
  loadGenerator: 'thread' | 'share' | undefined;
}

export interface ScalingModel {
  /** the measurement the model uses: the most loops with usable costs */
  basis: LoopCosts;
  /** req/s: 1 / front end */
  oneLoopCeiling: number;
  /** req/s: 1 / wrk (one wrk thread) */
  wrkThreadCeiling: number;
  rows: ModelRow[];
}

const PER_US = 1e6;

function usable(c: LoopCosts): boolean {
  return [c.totalUs, c.frontEndUs, c.workersUs].every((x) => Number.isFinite(x) && x >= 0) && c.totalUs > 0 && c.frontEndUs > 0;
}

/** req/s for `cores` cores at `us` CPU microseconds per request (Infinity when it costs nothing). */
const rate = (cores: number, us: number): number => (us > 0 ? (cores * PER_US) / us : Number.POSITIVE_INFINITY);

/**
 * The model for each core count in `cores`, from the medians measured at each loop count;
 * undefined when no loop count has usable CPU figures (no run, or CPU below /proc's resolution).
 */
export function scalingModel(measured: readonly LoopCosts[], cores: readonly number[], loopCap: number): ScalingModel | undefined {
  const basis = measured.filter(usable).sort((a, b) => b.loops - a.loops)[0];
  if (basis === undefined) return undefined;
  const wrkUs = Number.isFinite(basis.wrkUs) && basis.wrkUs > 0 ? basis.wrkUs : 0;
  const rows = cores.map((c): ModelRow => {
    const loops = Math.min(c, loopCap);
    const cpuBound = rate(c, basis.totalUs);
    const loopBound = rate(loops, basis.frontEndUs);
    const predicted = Math.min(cpuBound, loopBound);
    const stop: Stop = loopBound < cpuBound ? 'loops' : basis.workersUs >= basis.frontEndUs ? 'workers-cpu' : 'front-end-cpu';
    return {
      cores: c,
      loops,
      cpuBound,
      loopBound,
      predicted,
      stop,
      loopCores: (predicted * basis.frontEndUs) / PER_US,
      workerProcesses: Math.max(1, Math.ceil((predicted * basis.workersUs) / PER_US)),
      harnessBound: Math.min(rate(c, basis.totalUs + wrkUs), rate(1, wrkUs)),
      loadGenerator: rate(1, wrkUs) < predicted ? 'thread' : wrkUs / (basis.totalUs + wrkUs) >= WRK_SHARE ? 'share' : undefined,
    };
  });
  return { basis, oneLoopCeiling: rate(1, basis.frontEndUs), wrkThreadCeiling: rate(1, wrkUs), rows };
}
