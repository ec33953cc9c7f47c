/**
 * Other work on the machine (another engineer's test run, a compiler) skews a run. A run during
 * which other processes used more than NOISY_PCT of a CPU is repeated, after waiting for the
 * machine to go quiet, while a time budget for such repeats lasts; the least noisy try is kept.
 */
import { machineBusyS } from './process-tree.js';

export const NOISY_PCT = 25;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait until the machine's CPUs are nearly idle over 0.5 s, at most maxMs; the time waited. */
export async function waitForQuiet(maxMs: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < maxMs) {
    const before = machineBusyS();
    await sleep(500);
    if (machineBusyS() - before < 0.1) break; // < 10% of one CPU
  }
  return Date.now() - t0;
}

export class RetryBudget {
  private leftMs: number;
  retries = 0;

  constructor(ms: number) {
    this.leftMs = ms;
  }

  /** Run `attempt` up to 3 times while it reports noise and the budget lasts; keep the quietest. */
  async run<T extends { otherCpuPct: number }>(attempt: () => Promise<T>): Promise<T> {
    let best = await attempt();
    for (let i = 0; i < 2 && best.otherCpuPct > NOISY_PCT && this.leftMs > 0; i++) {
      const t0 = Date.now();
      await waitForQuiet(5000);
      const r = await attempt();
      this.leftMs -= Date.now() - t0;
      this.retries++;
      if (r.otherCpuPct < best.otherCpuPct) best = r;
    }
    return best;
  }
}
