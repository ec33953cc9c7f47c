/**
 * A front-end event loop other than the first (front-ends > 1), in its own worker thread: the
 * composition root of that loop. It serves HTTP exactly as the first loop does (the same FrontEnd,
 * listeners, rules, routes and exchanges), accepting on the same listening sockets, and sends each
 * application request straight to a worker process over its own connection (LoopPool, WorkerLink),
 * claiming a thread on the shared scoreboard. The worker processes' lives, the admin listener, the
 * access log file and the statistics stay with the first loop: this one reports its finished
 * requests and access log lines there in batches, and follows what the first loop announces (the
 * processes, the configuration on reload, drain and stop).
 */
import { subscribe } from 'node:diagnostics_channel';
import { parentPort, workerData } from 'node:worker_threads';
import { listenerProbe, type Readiness } from '../admin/readiness.js';
import type { ServePlan } from '../config/plan.js';
import { describeError } from '../errors.js';
import { FrontEnd, type ListenerProbe, REQUEST_FINISH_CHANNEL } from '../http/front-end.js';
import { listenerSet } from '../http/listeners.js';
import { buildRoutes } from '../http/routes.js';
import { type AccessRecord, compileFormat } from '../observability/access-log.js';
import { GroupStats } from '../observability/group-stats.js';
import { createLogger } from '../observability/logger.js';
import { installUnhandledErrorHandlers } from '../observability/unhandled-errors.js';
import type { RequestPort } from '../contract/request-port.js';
import { LoopPool, type LoopPoolHost } from '../workers/loop-pool.js';
import type { WorkerView } from '../workers/loop-view.js';
import { ReplyPoller } from '../workers/reply-poller.js';
import { Scoreboard } from '../workers/scoreboard.js';
import { type Finished, type FromLoop, fromPlain, type LoopStart, type ToLoop } from './loop-messages.js';

/** How often a loop reports its finished requests and access log lines to the first loop. */
const REPORT_MS = 100;

const start = workerData as LoopStart;
const port = parentPort as NonNullable<typeof parentPort>;
const post = (m: FromLoop): void => port.postMessage(m);
const log = createLogger(start.log).child({ loop: start.index });
installUnhandledErrorHandlers(log);

let plan: ServePlan = fromPlain(start.plan);
let readiness: Readiness = start.readiness;
let bindings = start.bindings;
const board = new Scoreboard(start.board);
const host: LoopPoolHost = {
  board,
  log,
  poller: new ReplyPoller(plan.config.busyPoll),
  stuck: (key, pid, ranMs) => post({ t: 'stuck', key, pid, ranMs }),
  exhausted: (key, pid) => post({ t: 'exhausted', key, pid }),
};

/** Group statistics that go to the first loop's (one server's statistics, not one per loop). */
let finished: Finished[] = [];
let lines: string[] = [];
/**
 * A report is due within REPORT_MS once an application request started or finished (no timer
 * while idle), so the first loop's status and metrics count this loop's requests in flight too.
 */
let reportTimer: NodeJS.Timeout | undefined;
let moved = false;
function reportSoon(): void {
  moved = true;
  reportTimer ??= setTimeout(report, REPORT_MS);
}
function report(): void {
  reportTimer = undefined;
  if (!moved && lines.length === 0) return;
  moved = false;
  const groups: [string, number][] = [];
  for (const s of stats.values()) groups.push([s.label, s.inflight]);
  post({ t: 'report', finished, lines, inflight: frontEnd.inflight, groups });
  finished = [];
  lines = [];
}
class ForwardedStats extends GroupStats {
  override started(): void {
    super.started();
    reportSoon();
  }
  /** Counted here only as no longer in flight; the statistics are the first loop's (reported). */
  override finished(status: number, seconds: number): void {
    this.inflight--;
    finished.push([this.label, status, seconds]);
    reportSoon();
  }
}
const stats = new Map<string, GroupStats>();
const statsFor = (label: string): GroupStats => {
  let s = stats.get(label);
  if (s === undefined) {
    s = new ForwardedStats(label);
    stats.set(label, s);
  }
  return s;
};

/** The pools as this loop sees them, by their identity (kept across reloads when the pool is). */
let pools = new Map<number, LoopPool>();
function ports(view: WorkerView): Map<string, RequestPort> {
  const next = new Map<number, LoopPool>();
  const byKey = new Map<string, RequestPort>();
  for (const [key, pv] of Object.entries(view.pools)) {
    let pool = pools.get(pv.id);
    if (pool === undefined) pool = new LoopPool(key, pv, host);
    else pool.update(key, pv);
    next.set(pv.id, pool);
    byKey.set(key, pool);
  }
  for (const [id, pool] of pools) {
    if (next.has(id)) continue;
    const key = Object.entries(view.pools).find(([, pv]) => pv.label === pool.label)?.[0];
    pool.retire(key === undefined ? undefined : (byKey.get(key) as LoopPool | undefined));
  }
  pools = next;
  return byKey;
}

const probeOf = (p: ServePlan): ListenerProbe | undefined => {
  const health = p.config.health;
  return health.onListeners ? (method, path) => listenerProbe(health, () => readiness, method, path) : undefined;
};

const sharing = { reusePort: start.reusePort, bound: (key: string) => bindings[key] };
let frontEnd: FrontEnd;

async function main(): Promise<void> {
  const access = plan.config.log.access === 'off' ? undefined : compileFormat(plan.config.log.accessFormat);
  if (access !== undefined) {
    subscribe(REQUEST_FINISH_CHANNEL, (record) => {
      lines.push(access(record as AccessRecord));
      reportSoon();
    });
  }
  const prepared = await FrontEnd.loadListeners(listenerSet(plan.config, plan.baseDir));
  frontEnd = new FrontEnd(buildRoutes(plan, ports(start.view), statsFor), { limits: plan.config.limits, log, probe: probeOf(plan), sharing });
  await frontEnd.listen(prepared);
  port.on('message', (m: ToLoop) => {
    void handle(m).catch((err: unknown) => log.error({ err }, `front-end loop ${start.index}: ${describeError(err)}`));
  });
  post({ t: 'listening' });
}

async function handle(m: ToLoop): Promise<void> {
  switch (m.t) {
    case 'view':
      readiness = m.readiness;
      ports(m.view);
      return;
    case 'reload': {
      const next = fromPlain(m.plan);
      bindings = m.bindings;
      const prepared = await frontEnd.prepareListeners(listenerSet(next.config, next.baseDir));
      const note = await frontEnd.reconfigure(buildRoutes(next, ports(m.view), statsFor), next.config.limits, probeOf(next), prepared);
      plan = next;
      post({ t: 'reloaded', note });
      return;
    }
    case 'drain':
      frontEnd.beginDrain();
      return;
    case 'stop':
      frontEnd.beginDrain();
      await frontEnd.close(m.graceMs);
      clearTimeout(reportTimer);
      report();
      post({ t: 'stopped' });
      return;
  }
}

main().catch((err: unknown) => post({ t: 'failed', message: describeError(err) }));
