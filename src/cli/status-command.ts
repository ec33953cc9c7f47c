import { adminRequest, answerJson, badAnswer, describeAnswer } from '../admin/admin-client.js';
import { clientAddress } from '../admin/admin-target.js';
import type { StatusReport } from '../admin/status-report.js';
import { ADMIN_FLAGS, adminTarget, takeAdminFlags } from './admin-flags.js';
import { parseCommand } from './args.js';
import { INPUT_OPTIONS, loadInput } from './config-input.js';

export const STATUS_HELP = `Usage: wsgi-host status (-c FILE | --apache FILE | SCRIPT [serve options]) [--json]

Show what the running server that serves this configuration is doing: each group's state, Python,
capacity used, requests and latency, restarts, and its processes. The same as the status page
(GET / on the admin listener) and GET /status.

  --json                   the report as JSON
  --admin WHERE            the admin listener the server was started with (--admin of serve;
                           default: admin.listen of the configuration, else auto)
  --admin-token-file FILE  the admin token, when the server has one
  -h, --help               show this help

Exit status: 0 with the report; 1 when no server answers, or it answers something else (what
came is printed).
`;

export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    'status',
    argv,
    { ...INPUT_OPTIONS, ...ADMIN_FLAGS, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values.help) {
    process.stdout.write(STATUS_HELP);
    return 0;
  }
  const json = values.json === true;
  delete values.json;
  const flags = takeAdminFlags(values);
  const loaded = await loadInput('status', values, positionals);
  const target = adminTarget(loaded, values, flags, 'client');
  const r = await adminRequest(await clientAddress(target), 'GET', '/status', target.token, 30_000);
  if (r.status !== 200) {
    const said = /^text\/plain\b/i.test(r.contentType ?? '') && r.body.length < 2000 ? `: ${r.body.trim()}` : ` (${describeAnswer(r)})`;
    process.stderr.write(`wsgi-host: ${r.from} answered ${r.status}${said}\n`);
    return 1;
  }
  const report = answerJson(r, 'the status report as JSON');
  let text: string;
  try {
    text = formatStatus(report as StatusReport);
  } catch {
    throw badAnswer(r, 'the status report as JSON');
  }
  process.stdout.write(json ? r.body : text);
  return 0;
}

const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;
const ms = (s: number | null): string => (s === null ? '-' : s < 0.001 ? `${(s * 1e6).toFixed(0)} us` : `${(s * 1000).toFixed(1)} ms`);
const ago = (sec: number): string => (sec < 120 ? `${sec}s` : sec < 7200 ? `${Math.round(sec / 60)}m` : `${(sec / 3600).toFixed(1)}h`);

/** The status report for a terminal. */
export function formatStatus(s: StatusReport): string {
  const out: string[] = [
    `wsgi-host ${s.server.version} (pid ${s.server.pid}, Node ${s.server.nodeVersion}), up ${ago(s.server.uptimeSeconds)}, serving ${s.server.config}`,
    `  listening on ${s.server.listen.join(', ')}; ${s.server.inflight} request(s) in flight; front end ${mb(s.server.rssBytes)}`,
  ];
  for (const g of s.groups) {
    const procs = g.processes.dynamic
      ? `${g.processes.running} process(es), dynamic ${g.processes.dynamic.min}-${g.processes.dynamic.max}`
      : `${g.processes.running}/${g.processes.configured} process(es)`;
    out.push(
      '',
      `Group ${g.label}: ${g.state}${g.failure ? ` (${g.failure})` : ''}`,
      `  Python ${g.pythonVersion}, python-home ${g.pythonHome}`,
      `  ${procs} x ${g.threadsPerProcess} thread(s): ${g.busyThreads}/${g.capacity} busy, ${g.queueLength} queued; mounts ${g.mounts.join(', ')}`,
      `  requests ${g.requests.total} (${
        Object.entries(g.requests.byClass)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || 'none yet'
      }); latency p50 ${ms(g.latency.p50)}, p90 ${ms(g.latency.p90)}, p99 ${ms(g.latency.p99)}`,
    );
    const restarts = Object.entries(g.restarts.counts).filter(([, n]) => n > 0);
    if (restarts.length) out.push(`  restarts: ${restarts.map(([k, n]) => `${k} ${n}`).join(', ')}`);
    out.push('  PID      PYTHON   UPTIME  SERVED  BUSY  RSS       CPU     STATE      STARTED BECAUSE');
    for (const p of g.processList) {
      out.push(
        `  ${String(p.pid).padEnd(8)} ${(p.pythonVersion ?? '-').padEnd(8)} ${ago(p.uptimeSeconds).padEnd(7)} ${String(p.served).padEnd(7)} ${`${p.busy}/${p.threads}`.padEnd(5)} ${mb(p.rssBytes).padEnd(9)} ${`${p.cpuSeconds.toFixed(1)}s`.padEnd(7)} ${p.state.padEnd(10)} ${p.lastRestart.reason}${p.lastRestart.detail ? `: ${p.lastRestart.detail}` : ''}`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}
