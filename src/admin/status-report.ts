import { packageVersion } from '../util/package-info.js';
import type { RestartRecord } from '../workers/restart-log.js';
import type { ServerSnapshot } from './server-snapshot.js';
import { type StatsSample, threadUse } from '../observability/group-stats.js';
import { processUsage } from '../util/process-usage.js';

export interface ProcessStatus {
  pid: number;
  generation: number;
  state: string;
  pythonVersion: string | null;
  pythonHome: string;
  startedAt: number;
  uptimeSeconds: number;
  served: number;
  busy: number;
  threads: number;
  rssBytes: number;
  cpuSeconds: number;
  /** Why this process was started: 'start', or the reason it replaced another. */
  lastRestart: { reason: string; detail: string; at: number };
}

export interface GroupStatus {
  label: string;
  group: string | null;
  applicationGroup: string;
  state: string;
  failure: string | null;
  pythonHome: string;
  interpreter: string;
  pythonVersion: string;
  processes: { configured: number; dynamic: { min: number; max: number; idleTimeout: number } | null; running: number };
  threadsPerProcess: number;
  capacity: number;
  busyThreads: number;
  idleThreads: number;
  queueLength: number;
  inflight: number;
  mounts: string[];
  requests: { total: number; byClass: Record<'1xx' | '2xx' | '3xx' | '4xx' | '5xx', number> };
  /** Seconds, over everything served. */
  latency: { p50: number | null; p90: number | null; p99: number | null };
  restarts: { counts: Record<string, number>; recent: RestartRecord[] };
  /** One sample per second, the last five minutes. */
  history: StatsSample[];
  processList: ProcessStatus[];
}

export interface StatusReport {
  /** When this report was made (epoch ms, the server's clock). */
  generatedAt: number;
  server: {
    version: string;
    pid: number;
    nodeVersion: string;
    startedAt: number;
    uptimeSeconds: number;
    config: string;
    listen: string[];
    inflight: number;
    rssBytes: number;
    cpuSeconds: number;
    /** The front end's own memory: V8's heap, and buffers outside it. */
    memory: { heapTotalBytes: number; heapUsedBytes: number; externalBytes: number; arrayBuffersBytes: number };
  };
  groups: GroupStatus[];
}

/** Everything the status page, `wsgi-host status` and the status API show. */
export async function statusReport(snapshot: ServerSnapshot): Promise<StatusReport> {
  const now = Date.now();
  const own = await processUsage(process.pid);
  const groups: GroupStatus[] = [];
  for (const pool of snapshot.pools) {
    const env = pool.environment;
    if (env === undefined) continue;
    const stats = snapshot.stats.get(pool.label);
    const processList: ProcessStatus[] = [];
    const { busy, capacity } = threadUse(pool.workers);
    for (const w of pool.workers) {
      const usage = await processUsage(w.pid);
      processList.push({
        pid: w.pid,
        generation: w.generation,
        state: w.recycling && w.state === 'ready' ? 'recycling' : w.state,
        pythonVersion: w.python?.version ?? null,
        pythonHome: w.python?.prefix ?? env.home,
        startedAt: w.startedAt,
        uptimeSeconds: Math.round((now - w.startedAt) / 1000),
        served: w.served,
        busy: w.busy,
        threads: w.threads,
        rssBytes: usage.rssBytes,
        cpuSeconds: usage.cpuSeconds,
        lastRestart: { ...w.startReason, at: w.startedAt },
      });
    }
    const s = pool.settings;
    const c = stats?.statusClasses ?? [];
    groups.push({
      label: pool.label,
      group: pool.group,
      applicationGroup: pool.applicationGroup,
      state: pool.state,
      failure: pool.failure ?? null,
      pythonHome: env.home,
      interpreter: env.interpreter,
      pythonVersion: env.info.version,
      processes: { configured: s.processes, dynamic: s.dynamic ?? null, running: processList.length },
      threadsPerProcess: s.threads,
      capacity,
      busyThreads: busy,
      idleThreads: capacity - busy,
      queueLength: pool.queueLength,
      inflight: stats?.allInflight ?? 0,
      mounts: pool.mounts,
      requests: { total: stats?.count ?? 0, byClass: { '1xx': c[1] ?? 0, '2xx': c[2] ?? 0, '3xx': c[3] ?? 0, '4xx': c[4] ?? 0, '5xx': c[5] ?? 0 } },
      latency: stats?.overall() ?? { p50: null, p90: null, p99: null },
      restarts: pool.restarts,
      history: stats?.history ?? [],
      processList,
    });
  }
  return {
    generatedAt: now,
    server: {
      version: packageVersion(),
      pid: process.pid,
      nodeVersion: process.version,
      startedAt: snapshot.startedAt,
      uptimeSeconds: Math.round((now - snapshot.startedAt) / 1000),
      config: snapshot.config,
      listen: snapshot.listen.map((a) => `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`),
      inflight: snapshot.inflight,
      rssBytes: own.rssBytes,
      cpuSeconds: own.cpuSeconds,
      memory: memoryBreakdown(),
    },
    groups,
  };
}

function memoryBreakdown(): StatusReport['server']['memory'] {
  const m = process.memoryUsage();
  return { heapTotalBytes: m.heapTotal, heapUsedBytes: m.heapUsed, externalBytes: m.external, arrayBuffersBytes: m.arrayBuffers };
}
