/**
 * What `npm run bench -- --scaling` prints: one Markdown table of medians, a row per scenario,
 * layout and loop count, then per scenario and layout the model those medians imply (scaling-model.ts).
 */
import { layoutName, type Layout } from './peers/types.js';
import type { Results, Summary } from './results.js';
import type { Scenario } from './scenarios.js';
import { type LoopCosts, type ModelRow, type ScalingModel, scalingModel } from './scaling-model.js';

/** The server name the results of K loops are kept under (the peer's name: wsgi-host-kK). */
export const loopsServer = (k: number): string => `wsgi-host-k${k}`;

const num = (n: number, digits = 0): string => (Number.isNaN(n) ? '-' : n.toFixed(digits));
const us = (n: number): string => num(n, n < 10 ? 1 : 0);
const rps = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : Number.isNaN(n) ? '-' : 'unbounded');

function markdown(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const TABLE_HEAD = [
  'scenario',
  'layout',
  'loops',
  'req/s',
  '÷ 1 loop',
  'CPU us/req',
  'front end',
  'workers',
  'wrk us/req',
  'server CPU',
  'wrk CPU',
  'errors',
  'notes',
];

function tableRow(sc: Scenario, l: Layout, k: number, s: Summary | undefined, one: Summary | undefined, notes: string[]): string[] {
  const label = [sc.name, layoutName(l), String(k)];
  if (s === undefined) return [...label, 'n/a', ...Array<string>(TABLE_HEAD.length - 5).fill(''), notes.join('; ') || 'not run'];
  const all = [...notes];
  if (s.errors > 0) all.unshift(`${s.errors} errors in ${s.reps} runs: not a result`);
  if (s.otherCpuPct > 15) all.push(`noisy: other processes used ${num(s.otherCpuPct)}% CPU`);
  if (s.wrkCpuPct > 90) all.push('wrk-bound');
  return [
    ...label,
    num(s.rps),
    one === undefined || k === 1 ? '' : num(s.rps / one.rps, 2),
    us(s.serverCpuUsPerReq),
    us(s.frontEndCpuUsPerReq),
    us(s.workersCpuUsPerReq),
    us(s.wrkCpuUsPerReq),
    `${num(s.serverCpuPct)}%`,
    `${num(s.wrkCpuPct)}%`,
    String(s.errors),
    all.join('; '),
  ];
}

export function renderScalingTable(results: Results, scenarios: Scenario[], layouts: Layout[], loops: number[]): string {
  const rows: string[][] = [];
  for (const sc of scenarios) {
    for (const l of layouts) {
      const one = results.summary(sc.name, layoutName(l), loopsServer(1));
      for (const k of loops) {
        rows.push(tableRow(sc, l, k, results.summary(sc.name, layoutName(l), loopsServer(k)), one, results.notesFor(sc.name, layoutName(l), loopsServer(k))));
      }
    }
  }
  return markdown(TABLE_HEAD, rows);
}

function stopText(m: ScalingModel, r: ModelRow): string {
  const b = m.basis;
  let text: string;
  if (r.stop === 'loops') {
    text = `the loops (${r.loops} x ${rps(m.oneLoopCeiling)}): more front-end loops, up to the CPU bound`;
  } else if (r.stop === 'workers-cpu') {
    text = `CPU; the workers' ${us(b.workersUs)} of ${us(b.totalUs)} us (GIL per process): add processes (>= ${r.workerProcesses}), cut worker CPU`;
  } else {
    text = `CPU; the front end's ${us(b.frontEndUs)} of ${us(b.totalUs)} us: cut front-end CPU per request`;
  }
  if (r.loadGenerator === 'thread') text += `; the load generator first: one wrk thread tops out at ${rps(m.wrkThreadCeiling)}`;
  if (r.loadGenerator === 'share') text += `; the load generator: wrk takes ${num((100 * b.wrkUs) / (b.totalUs + b.wrkUs))}% of the shared cores`;
  return text;
}

const MODEL_HEAD = [
  'cores',
  'loops',
  'CPU bound',
  "loops' ceiling",
  'predicted req/s',
  'loops busy (cores)',
  'worker processes',
  'wrk -t1 here',
  'where it stops',
];

/** The model of one scenario and layout, from the medians at each loop count; runs with errors are left out. */
export function renderScalingModel(results: Results, sc: Scenario, l: Layout, loops: number[], cores: number[], loopCap: number, thisMachine: number): string {
  const title = `Model, ${sc.name} ${layoutName(l)}`;
  const measured: LoopCosts[] = [];
  for (const k of loops) {
    const s = results.summary(sc.name, layoutName(l), loopsServer(k));
    if (s === undefined || s.errors > 0) continue;
    measured.push({
      loops: k,
      rps: s.rps,
      totalUs: s.serverCpuUsPerReq,
      frontEndUs: s.frontEndCpuUsPerReq,
      workersUs: s.workersCpuUsPerReq,
      wrkUs: s.wrkCpuUsPerReq,
    });
  }
  const m = scalingModel(measured, cores, loopCap);
  if (m === undefined) return `${title}: no loop count has a result without errors and with CPU figures: no model`;
  const b = m.basis;
  const trend = measured.map((c) => `${c.loops}: ${us(c.frontEndUs)} + ${us(c.workersUs)}`).join(', ');
  const rows = m.rows.map((r) => [
    `${r.cores}${r.cores === thisMachine ? ' (here)' : ''}`,
    String(r.loops),
    rps(r.cpuBound),
    rps(r.loopBound),
    rps(r.predicted),
    num(r.loopCores, 1),
    String(r.workerProcesses),
    rps(r.harnessBound),
    stopText(m, r),
  ]);
  return [
    `${title}, from ${b.loops} loop(s): ${us(b.totalUs)} us of CPU per request = front end ${us(b.frontEndUs)} + workers ${us(b.workersUs)}; ` +
      `wrk ${us(b.wrkUs)} (measured ${rps(b.rps)} req/s on ${thisMachine} cores shared with wrk)`,
    `  front end + workers us per request by loops: ${trend}`,
    `  one loop caps at 1 / front end = ${rps(m.oneLoopCeiling)} req/s; one wrk thread at 1 / wrk = ${rps(m.wrkThreadCeiling)} req/s`,
    `  C cores, loops = min(C, ${loopCap}): CPU bound = C / ${us(b.totalUs)} us; loops' ceiling = loops / ${us(b.frontEndUs)} us; ` +
      `predicted = the smaller (enough worker processes assumed; with loops = C the loops never bind and the CPU bound is the prediction); ` +
      `wrk -t1 here = what this harness can measure on C cores: min(C / (CPU + wrk), 1 / wrk)`,
    markdown(MODEL_HEAD, rows),
  ].join('\n');
}
