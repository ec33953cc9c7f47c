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
 * wsgi-host's idle CPU: its tree is watched for IDLE_MS with no request, from SETTLE_MS after it
 * started (so that one-off work after start-up, V8's memory-reducing GC about 8 s in, is not
 * counted as idle: what shows is timers, polling and heartbeats).
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
  let startedAt = 0;
  try {
    startedAt = Date.now();
    handle = await peer.start({ layout: l, port: await freePort(), workDir, ...(start.tls !== undefined ? { tls: start.tls } : {}) });
  } catch (err) {
    console.error(`${tag} failed to start: ${String(err)}`);
    return noteAll(`failed to start: ${firstLine(err)}`);
  }
  try {
    await validate(handle.url, ['/hello']);
    const idle = sampleTree(handle.pid);
    results.addIdle(at, peer.name, idle);
    if (peer.name === WSGI_HOST) {
      // Idle CPU: the tree with no request for IDLE_MS (timers, polling, heartbeats would show
      // here), in the scheduler's nanoseconds where the kernel shows them, else in 10 ms ticks.
      await new Promise((r) => setTimeout(r, Math.max(0, startedAt + SETTLE_MS - Date.now())));
      const before = { ran: treeRunMs(handle.pid), tree: sampleTree(handle.pid) };
      await new Promise((r) => setTimeout(r, IDLE_MS));
      const ran = treeRunMs(handle.pid);
      const pct =
        ran !== undefined && before.ran !== undefined
          ? ((ran - before.ran) * 100) / IDLE_MS
          : ((sampleTree(handle.pid).cpuS - before.tree.cpuS) * 100_000) / IDLE_MS;
      results.addIdleCpu(at, peer.name, pct);
    }
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
            `  errors ${r.errors}  server ${r.serverCpuPct.toFixed(0)}%  wrk ${r.wrkCpuPct.toFixed(0)}%  other ${r.otherCpuPct.toFixed(0)}%`,
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
  } catch (err) {
    console.error(`${tag} ${String(err)}`);
    noteAll(`failed: ${firstLine(err)}`);
  } finally {
    await handle.stop();
  }
}
