/**
 * One server start: start a server in one layout, check every route it will serve, measure each
 * scenario against it (repeated while other processes make noise), note what went wrong, stop it.
 */
import { describeError } from '../src/errors.js';
import { measure } from './measure.js';
import type { Options } from './options.js';
import { WSGI_HOST } from './peers/index.js';
import type { ServerHandle } from './peers/process.js';
import { layoutName, type Layout, type Peer, type TlsFiles } from './peers/types.js';
import { freePort } from './ports.js';
import { sampleTree, treeRunMs } from './process-tree.js';
import type { RetryBudget } from './quiet.js';
import type { Results } from './results.js';
import type { Scenario } from './scenarios.js';
import { fmtMs } from './table.js';
import { validate } from './validate.js';

/**
 * wsgi-host's idle CPU: its tree is watched for IDLE_MS with no request, from SETTLE_MS after its
 * last scenario (so that one-off work after a load, V8's memory-reducing GC about 8 s after the
 * last request, is not counted as idle: what shows is timers, polling and heartbeats). It is
 * watched after the scenarios, never before them: a wait before the load would let V8 shrink the
 * heap, and the scenarios would then run on a young generation that has to grow again (hello-c64
 * 0.91x of the same build measured from a fresh start), which no other server is made to do.
 */
const IDLE_MS = 5000;
const SETTLE_MS = 10_000;
export const firstLine = (err: unknown): string => describeError(err).split('\n')[0] ?? '';

/** Start one server in one layout, measure every scenario against it, stop it. */
export async function runServer(
  o: Pick<Options, 'reps' | 'durations' | 'pin'>,
  peer: Peer,
  l: Layout,
  rep: number,
  workDir: string,
  results: Results,
  retry: RetryBudget,
  start: { scenarios: Scenario[]; tls: TlsFiles | undefined },
): Promise<void> {
  const at = peer.layoutIndependent ? 'any' : layoutName(l);
  const scenarios = start.scenarios;
  const noteAll = (text: string): void => {
    for (const sc of scenarios) results.note(sc.name, at, peer.name, text);
  };
  const tag = `[rep ${rep + 1}/${o.reps}] ${at.padEnd(4)} ${peer.name.padEnd(17)}`;
  let handle: ServerHandle;
  try {
    handle = await peer.start({ layout: l, port: await freePort(), workDir, ...(start.tls !== undefined ? { tls: start.tls } : {}) });
  } catch (err) {
    console.error(`${tag} failed to start: ${String(err)}`);
    return noteAll(`failed to start: ${firstLine(err)}`);
  }
  try {
    await validate(handle.url, ['/hello']);
    const idle = sampleTree(handle.pid);
    results.addIdle(at, peer.name, idle);
    await validate(
      handle.url,
      scenarios.map((s) => s.path),
    );
    for (const sc of scenarios) {
      const warningsBefore = peer.warnings?.(handle).length ?? 0;
      try {
        const r = await retry.run(() => measure(handle, sc, o.durations, o.pin));
        results.add(sc.name, at, peer.name, r);
        console.log(
          `${tag} ${sc.name.padEnd(16)} ${r.rps.toFixed(0).padStart(6)} req/s` +
            `${r.mbps !== undefined ? ` ${r.mbps.toFixed(0).padStart(5)} MB/s` : ''}  p50 ${fmtMs(r.p50Ms)}  p99 ${fmtMs(r.p99Ms)}` +
            `  errors ${r.errors}  server ${r.serverCpuPct.toFixed(0)}%  wrk ${r.wrkCpuPct.toFixed(0)}%  other ${r.otherCpuPct.toFixed(0)}%` +
            `  root RSS ${(r.rootRssLoadBytes / 1048576).toFixed(0)} MB`,
        );
      } catch (err) {
        console.error(`${tag} ${sc.name}: ${String(err)}`);
        results.note(sc.name, at, peer.name, `failed: ${firstLine(err)}`);
      }
      const warnings = peer.warnings?.(handle).slice(warningsBefore) ?? [];
      if (warnings.length > 0) {
        console.error(`${tag} ${sc.name}: ${warnings.length} warning(s) in ${handle.logFile}:\n  ${warnings.slice(0, 3).join('\n  ')}`);
        results.note(
          sc.name,
          at,
          peer.name,
          `${warnings.length} log warnings (${firstLine(warnings[0])
            .replace(/^.*\] /, '')
            .slice(0, 60)})`,
        );
      }
    }
    if (peer.name === WSGI_HOST) {
      // Idle CPU: the tree with no request for IDLE_MS (timers, polling, heartbeats would show
      // here), in the scheduler's nanoseconds where the kernel shows them, else in 10 ms ticks.
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const before = { ran: treeRunMs(handle.pid), tree: sampleTree(handle.pid) };
      await new Promise((r) => setTimeout(r, IDLE_MS));
      const ran = treeRunMs(handle.pid);
      const pct =
        ran !== undefined && before.ran !== undefined
          ? ((ran - before.ran) * 100) / IDLE_MS
          : ((sampleTree(handle.pid).cpuS - before.tree.cpuS) * 100_000) / IDLE_MS;
      results.addIdleCpu(at, peer.name, pct);
    }
  } catch (err) {
    console.error(`${tag} ${String(err)}`);
    noteAll(`failed: ${firstLine(err)}`);
  } finally {
    await handle.stop();
  }
}
