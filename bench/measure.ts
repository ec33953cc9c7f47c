/**
 * One measured run of one scenario against a running server: a warm-up, then the server's tree
 * at rest (RSS, CPU), wrk for the fixed time while the tree's RSS is sampled, the tree again.
 */
import { runH2load } from './h2load.js';
import type { ServerHandle } from './peers/process.js';
import { machineBusyS, sampleTree } from './process-tree.js';
import type { Durations, Scenario } from './scenarios.js';
import { runWrk, type WrkOptions, type WrkResult } from './wrk.js';

export interface RunResult {
  rps: number;
  /** payload MB/s (MiB of request or response bodies per second), when the scenario counts it */
  mbps?: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** socket errors + non-2xx (wrk counts 4xx and 5xx); every connection when none got an answer */
  errors: number;
  /** % of one CPU, over the run's wall time */
  serverCpuPct: number;
  serverCpuUsPerReq: number;
  /** of serverCpuUsPerReq: the front end's (the root's executable: wsgi-host's Node process) and the rest of the tree's */
  frontEndCpuUsPerReq: number;
  workersCpuUsPerReq: number;
  wrkCpuPct: number;
  wrkCpuUsPerReq: number;
  /** % of one CPU used by everything else on the machine (the harness itself excluded): noise */
  otherCpuPct: number;
  rssIdleBytes: number;
  rssLoadBytes: number;
  rootRssLoadBytes: number;
}

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function measure(server: ServerHandle, sc: Scenario, d: Durations, pin: boolean): Promise<RunResult> {
  const wrk = (durationS: number): WrkOptions => ({
    url: `${server.url}${sc.path}`,
    connections: sc.connections,
    durationS,
    timeoutS: sc.bulk ? 30 : 5,
    ...(sc.script !== undefined ? { script: sc.script } : {}),
    ...(sc.headers !== undefined ? { headers: sc.headers } : {}),
    pin,
  });
  // HTTP/2 scenarios load with h2load, the others with wrk (https:// URLs over TLS).
  const load = (durationS: number): Promise<WrkResult> =>
    sc.transport === 'h2'
      ? runH2load({ url: `${server.url}${sc.path}`, connections: sc.connections, streams: sc.streams ?? 1, durationS, timeoutS: sc.bulk ? 30 : 5, pin })
      : runWrk(wrk(durationS));
  await load(d.warmupS);
  await sleep(300); // let connections close and the server go idle
  const idle = sampleTree(server.pid);
  let rssLoad = 0;
  let rootRssLoad = 0;
  const sampler = setInterval(() => {
    const s = sampleTree(server.pid);
    rssLoad = Math.max(rssLoad, s.rssBytes);
    rootRssLoad = Math.max(rootRssLoad, s.rootRssBytes);
  }, 250);
  const t0 = process.hrtime.bigint();
  const busy0 = machineBusyS();
  const self0 = process.cpuUsage();
  let r: WrkResult;
  try {
    r = await load(sc.bulk ? d.bulkMeasureS : d.measureS);
  } finally {
    clearInterval(sampler);
  }
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = sampleTree(server.pid);
  const selfUsage = process.cpuUsage(self0);
  const selfS = (selfUsage.user + selfUsage.system) / 1e6;
  const cpuS = after.cpuS - idle.cpuS;
  const frontEndS = after.frontEndCpuS - idle.frontEndCpuS;
  const perReqUs = (s: number): number => (r.requests > 0 ? (s * 1e6) / r.requests : NaN);
  const otherS = machineBusyS() - busy0 - cpuS - r.cpuS - selfS;
  return {
    rps: r.rps,
    ...(sc.mbps !== undefined ? { mbps: (sc.mbps === 'request' ? r.requests * (sc.uploadBytes ?? 0) : r.bytesRead) / r.durationS / MiB } : {}),
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    requests: r.requests,
    // wrk counts a timeout only when the late answer comes: a server that stopped answering shows
    // as 0 requests and 0 errors. Count that as an error on every connection.
    errors: r.socketErrors + r.non2xx + (r.requests === 0 ? sc.connections : 0),
    serverCpuPct: (100 * cpuS) / wallS,
    serverCpuUsPerReq: perReqUs(cpuS),
    frontEndCpuUsPerReq: perReqUs(frontEndS),
    workersCpuUsPerReq: perReqUs(cpuS - frontEndS),
    wrkCpuPct: (100 * r.cpuS) / wallS,
    wrkCpuUsPerReq: perReqUs(r.cpuS),
    otherCpuPct: Math.max(0, (100 * otherS) / wallS),
    rssIdleBytes: idle.rssBytes,
    rssLoadBytes: Math.max(rssLoad, after.rssBytes),
    rootRssLoadBytes: Math.max(rootRssLoad, after.rootRssBytes),
  };
}
