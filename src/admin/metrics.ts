import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RESTART_REASONS } from '../workers/restart-log.js';
import type { ServerSnapshot } from './server-snapshot.js';
import { containedFaults, FAULT_BOUNDARIES, UNHANDLED_KINDS, unhandledErrors } from '../observability/faults.js';
import { LATENCY_BUCKETS, threadUse } from '../observability/group-stats.js';
import { type ProcessUsage, processUsage } from '../util/process-usage.js';

interface WorkerUsage extends ProcessUsage {
  labels: { group: string; pid: string };
}

/**
 * Prometheus metrics. Requests are counted on the hot path with plain increments (GroupStats);
 * these collectors read those counters, and each process's memory and CPU, when scraped.
 */
const LATENCY_HELP = 'Time from the request arriving to its response ending, by group.';

export function createMetrics(snapshot: () => ServerSnapshot): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'wsgi_host_frontend_' });
  const groups = () => snapshot().pools;
  const stats = () => snapshot().stats;
  // Each worker's /proc figures, read once per scrape for the two gauges that show them: the
  // registry collects every metric at once, so the second gauge joins the read the first started.
  let reading: Promise<WorkerUsage[]> | undefined;
  const workerUsage = (): Promise<WorkerUsage[]> =>
    (reading ??= Promise.all(
      groups().flatMap((p) => p.workers.map((w) => processUsage(w.pid).then((u) => ({ labels: { group: p.label, pid: String(w.pid) }, ...u })))),
    ).finally(() => {
      reading = undefined;
    }));

  new Counter({
    name: 'wsgi_host_requests_total',
    help: 'Requests finished, by group and status class (499: the client went away first).',
    labelNames: ['group', 'status_class'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [label, s] of stats()) {
        for (let c = 1; c <= 5; c++) this.inc({ group: label, status_class: `${c}xx` }, s.statusClasses[c] ?? 0);
      }
    },
  });
  const latency = new Histogram({
    name: 'wsgi_host_request_duration_seconds',
    help: LATENCY_HELP,
    labelNames: ['group'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  // prom-client histograms only accumulate observe() calls: expose our buckets instead (the text
  // output goes through getForPromString(), the JSON one through get()).
  const ours = async () => {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const [label, s] of stats()) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += s.buckets[i] ?? 0;
        values.push({ labels: { group: label, le }, value: cumulative, metricName: 'wsgi_host_request_duration_seconds_bucket' });
      });
      cumulative += s.buckets[LATENCY_BUCKETS.length] ?? 0;
      values.push({ labels: { group: label, le: '+Inf' }, value: cumulative, metricName: 'wsgi_host_request_duration_seconds_bucket' });
      values.push({ labels: { group: label }, value: s.sumSeconds, metricName: 'wsgi_host_request_duration_seconds_sum' });
      values.push({ labels: { group: label }, value: s.count, metricName: 'wsgi_host_request_duration_seconds_count' });
    }
    return { name: 'wsgi_host_request_duration_seconds', help: LATENCY_HELP, type: 'histogram' as const, aggregator: 'sum' as const, values };
  };
  Object.assign(latency, { get: ours, getForPromString: ours });
  new Gauge({
    name: 'wsgi_host_requests_in_flight',
    help: 'Requests being served or waiting, by group.',
    labelNames: ['group'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [label, s] of stats()) this.set({ group: label }, s.allInflight);
    },
  });
  new Gauge({
    name: 'wsgi_host_queue_length',
    help: 'Requests waiting for a free thread, by group.',
    labelNames: ['group'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of groups()) this.set({ group: p.label }, p.queueLength);
    },
  });
  new Gauge({
    name: 'wsgi_host_threads',
    help: 'Threads of the ready processes, busy or idle, by group (capacity used).',
    labelNames: ['group', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of groups()) {
        const { busy, capacity } = threadUse(p.workers);
        this.set({ group: p.label, state: 'busy' }, busy);
        this.set({ group: p.label, state: 'idle' }, capacity - busy);
      }
    },
  });
  new Gauge({
    name: 'wsgi_host_processes',
    help: 'Worker processes, by group and state (starting, ready, draining).',
    labelNames: ['group', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of groups()) {
        const counts: Record<string, number> = { starting: 0, ready: 0, draining: 0 };
        for (const w of p.workers) counts[w.state] = (counts[w.state] ?? 0) + 1;
        for (const [state, n] of Object.entries(counts)) this.set({ group: p.label, state }, n);
      }
    },
  });
  new Counter({
    name: 'wsgi_host_worker_restarts_total',
    help: 'Worker processes replaced or stopped, by group and reason.',
    labelNames: ['group', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of groups()) for (const r of RESTART_REASONS) this.inc({ group: p.label, reason: r }, p.restarts.counts[r]);
    },
  });
  // Each worker's /proc figures: one gauge per figure, read together (workerUsage).
  const perWorker: [string, string, keyof ProcessUsage][] = [
    ['wsgi_host_worker_resident_memory_bytes', 'Resident memory of each worker process.', 'rssBytes'],
    ['wsgi_host_worker_cpu_seconds', 'CPU time (user + system) used by each worker process so far.', 'cpuSeconds'],
  ];
  for (const [name, help, figure] of perWorker) {
    new Gauge({
      name,
      help,
      labelNames: ['group', 'pid'],
      registers: [registry],
      async collect() {
        const usage = await workerUsage();
        this.reset();
        for (const u of usage) this.set(u.labels, u[figure]);
      },
    });
  }
  new Counter({
    name: 'wsgi_host_contained_faults_total',
    help: 'Faults a containment boundary caught (the request or worker failed, the server did not), by boundary.',
    labelNames: ['boundary'],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of FAULT_BOUNDARIES) this.inc({ boundary: b }, containedFaults[b]);
    },
  });
  new Counter({
    name: 'wsgi_host_unhandled_errors_total',
    help: 'Exceptions and promise rejections that escaped every containment boundary (a wsgi-host bug; the server kept serving), by kind.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const k of UNHANDLED_KINDS) this.inc({ kind: k }, unhandledErrors[k]);
    },
  });
  return registry;
}
