/** What the runs measured, kept per scenario, layout and server, and their medians. */
import type { RunResult } from './measure.js';
import type { TreeSample } from './process-tree.js';

const key = (...parts: string[]): string => parts.join('|');

export function median(values: number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** A RunResult's medians over the repetitions (errors summed). */
export type Summary = Omit<RunResult, 'requests' | 'mbps'> & { reps: number; mbps: number | undefined };

export class Results {
  private runs = new Map<string, RunResult[]>();
  private notes = new Map<string, Set<string>>();
  private idle = new Map<string, TreeSample[]>();
  private idleCpu = new Map<string, number[]>();

  add(scenario: string, layout: string, server: string, r: RunResult): void {
    const k = key(scenario, layout, server);
    this.runs.set(k, [...(this.runs.get(k) ?? []), r]);
  }

  /** a reason shown instead of (or beside) numbers: n/a, failed to start, Apache warnings */
  note(scenario: string, layout: string, server: string, text: string): void {
    const k = key(scenario, layout, server);
    this.notes.set(k, (this.notes.get(k) ?? new Set()).add(text));
  }

  notesFor(scenario: string, layout: string, server: string): string[] {
    return [...(this.notes.get(key(scenario, layout, server)) ?? [])];
  }

  /** the server's tree right after it started and answered each route once */
  addIdle(layout: string, server: string, s: TreeSample): void {
    const k = key(layout, server);
    this.idle.set(k, [...(this.idle.get(k) ?? []), s]);
  }

  /** the tree's CPU (% of one CPU) over a quiet period after its last scenario, with no request */
  addIdleCpu(layout: string, server: string, pct: number): void {
    const k = key(layout, server);
    this.idleCpu.set(k, [...(this.idleCpu.get(k) ?? []), pct]);
  }

  idleCpuPct(layout: string, server: string): number[] {
    return this.idleCpu.get(key(layout, server)) ?? [];
  }

  idleSamples(layout: string, server: string): TreeSample[] {
    return this.idle.get(key(layout, server)) ?? [];
  }

  /** the largest RSS of the tree's root (wsgi-host's front end) under load, over all scenarios */
  rootRssLoad(layout: string, server: string): number {
    let max = 0;
    for (const [k, runs] of this.runs) {
      if (!k.endsWith(key('', layout, server))) continue;
      for (const r of runs) max = Math.max(max, r.rootRssLoadBytes);
    }
    return max;
  }

  summary(scenario: string, layout: string, server: string): Summary | undefined {
    const runs = this.runs.get(key(scenario, layout, server));
    if (runs === undefined || runs.length === 0) return undefined;
    const m = (f: (r: RunResult) => number): number => median(runs.map(f));
    return {
      reps: runs.length,
      rps: m((r) => r.rps),
      mbps: runs[0]?.mbps === undefined ? undefined : m((r) => r.mbps ?? NaN),
      p50Ms: m((r) => r.p50Ms),
      p99Ms: m((r) => r.p99Ms),
      errors: runs.reduce((s, r) => s + r.errors, 0),
      serverCpuPct: m((r) => r.serverCpuPct),
      serverCpuUsPerReq: m((r) => r.serverCpuUsPerReq),
      frontEndCpuUsPerReq: m((r) => r.frontEndCpuUsPerReq),
      workersCpuUsPerReq: m((r) => r.workersCpuUsPerReq),
      wrkCpuPct: m((r) => r.wrkCpuPct),
      wrkCpuUsPerReq: m((r) => r.wrkCpuUsPerReq),
      otherCpuPct: m((r) => r.otherCpuPct),
      rssIdleBytes: m((r) => r.rssIdleBytes),
      rssLoadBytes: m((r) => r.rssLoadBytes),
      rootRssLoadBytes: Math.max(...runs.map((r) => r.rootRssLoadBytes)),
    };
  }
}
