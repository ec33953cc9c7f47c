/** The one results table, as Markdown (readable on a console, pasteable into docs/performance.md). */
import { RAW_NODE, WSGI_HOST } from './peers/index.js';
import { layoutName, type Layout, type Peer } from './peers/types.js';
import type { Results, Summary } from './results.js';
import type { Scenario } from './scenarios.js';

export function fmtMs(ms: number): string {
  if (Number.isNaN(ms)) return '-';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms >= 100) return `${ms.toFixed(0)}ms`;
  if (ms >= 10) return `${ms.toFixed(1)}ms`;
  return `${ms.toFixed(2)}ms`;
}

const mb = (bytes: number): string => (Number.isNaN(bytes) ? '-' : (bytes / (1024 * 1024)).toFixed(1));
const num = (n: number, digits = 0): string => (Number.isNaN(n) ? '-' : n.toFixed(digits));
const ratio = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');

const HEAD = [
  'scenario',
  'layout',
  'server',
  'req/s',
  'MB/s',
  'p50',
  'p99',
  'errors',
  'server CPU',
  'CPU us/req',
  'wrk CPU',
  'other CPU',
  'RSS idle MB',
  'RSS load MB',
  'wsgi-host req/s ÷',
  'wsgi-host p50 ÷',
  'notes',
];

function row(sc: Scenario, l: Layout, peer: Peer, s: Summary | undefined, host: Summary | undefined, notes: string[]): string[] {
  const label = [sc.name, layoutName(l), peer.name];
  const allNotes = [...notes];
  if (peer.note !== undefined) allNotes.push(peer.note);
  if (s === undefined) {
    return [...label, 'n/a', ...Array<string>(HEAD.length - 5).fill(''), allNotes.join('; ') || 'not run'];
  }
  if (s.errors > 0) allNotes.unshift(`${s.errors} errors in ${s.reps} runs: not a result`);
  if (s.otherCpuPct > 15) allNotes.push(`noisy: other processes used ${num(s.otherCpuPct)}% CPU`);
  if (s.wrkCpuPct > 90) allNotes.push('wrk-bound');
  const isHost = peer.name === WSGI_HOST;
  const hostErr = host !== undefined && host.errors > 0 ? '*' : '';
  let rpsRatio = isHost || host === undefined ? '' : `${ratio(host.rps / s.rps)}${hostErr}`;
  if (peer.name === RAW_NODE && rpsRatio !== '') rpsRatio += ' (share)';
  const p50Ratio = isHost || host === undefined ? '' : ratio(host.p50Ms / s.p50Ms);
  return [
    ...label,
    num(s.rps, s.rps < 100 ? 1 : 0),
    s.mbps === undefined ? '' : num(s.mbps),
    fmtMs(s.p50Ms),
    fmtMs(s.p99Ms),
    String(s.errors),
    `${num(s.serverCpuPct)}%`,
    num(s.serverCpuUsPerReq, s.serverCpuUsPerReq < 10 ? 1 : 0),
    `${num(s.wrkCpuPct)}%`,
    `${num(s.otherCpuPct)}%`,
    mb(s.rssIdleBytes),
    mb(s.rssLoadBytes),
    rpsRatio,
    p50Ratio,
    allNotes.join('; '),
  ];
}

export function renderTable(results: Results, scenarios: Scenario[], layouts: Layout[], peers: Peer[]): string {
  const rows: string[][] = [];
  for (const sc of scenarios) {
    for (const l of layouts) {
      const host = results.summary(sc.name, layoutName(l), WSGI_HOST);
      for (const peer of peers) {
        const at = peer.layoutIndependent ? 'any' : layoutName(l);
        rows.push(row(sc, l, peer, results.summary(sc.name, at, peer.name), host, results.notesFor(sc.name, at, peer.name)));
      }
    }
  }
  const widths = HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(HEAD), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
