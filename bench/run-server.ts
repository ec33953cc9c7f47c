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
import { median, type Results } from './results.js';
import type { Scenario } from './scenarios.js';
import { fmtMs } from './table.js';
import { validate } from './validate.js';

/**
 * wsgi-host's idle CPU: its tree is watched with no request, from SETTLE_MS after its last
 * scenario, over IDLE_WINDOWS consecutive windows of IDLE_MS, and the median window counts. What
 * the line is for shows in every window: timers, polling, heartbeats. A one-off after a load in one
 * or two: V8's memory-reducing full collections (two, ~0.1 s of CPU with its helper threads) come
 * anywhere from ~10 s to over 90 s after the last request, depending on when the last full
 * collection ran, and a single window after a fixed wait caught them in some starts and not in
 * others (1.96% and 2.27% in one full run). Watched by hand, a server also ran a ~2 ms task every
 * ~7.5 s after a load (051654d alike), and nothing after the collections in the 60 s watched.
 * Every window is printed. It is watched after the scenarios, never before them: a wait before
 * the load would let V8 shrink the heap, and the scenarios would then run on a young generation
 * that has to grow again (hello-c64 0.91x of the same build measured from a fresh start), which
 * no other server is made to do.
 */
export const IDLE_MS = 5000;
export const IDLE_WINDOWS = 4;
export const SETTLE_MS = 10_000;
export const firstLine = (err: unknown): string => describeError(err).split('\n')[0] ?? '';

/** The tree's CPU over IDLE_MS from now, % of one CPU: the scheduler's nanoseconds where the kernel shows them, else 10 ms ticks. */
async function idleWindowPct(pid: number): Promise<number> {
  const before = { ran: treeRunMs(pid), tree: sampleTree(pid) };
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const ran = treeRunMs(pid);
  return ran !== undefined && before.ran !== undefined ? ((ran - before.ran) * 100) / IDLE_MS : ((sampleTree(pid).cpuS - before.tree.cpuS) * 100_000) / IDLE_MS;
}

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
      // Idle CPU: the median of IDLE_WINDOWS windows with no request (see IDLE_MS above).
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const windows: number[] = [];
      for (let i = 0; i < IDLE_WINDOWS; i++) windows.push(await idleWindowPct(handle.pid));
      const pct = median(windows);
      console.log(`${tag} idle CPU ${pct.toFixed(3)}% (median; each ${IDLE_MS / 1000} s window: ${windows.map((w) => `${w.toFixed(3)}%`).join(' ')})`);
      results.addIdleCpu(at, peer.name, pct);
    }
  } catch (err) {
    console.error(`${tag} ${String(err)}`);
    noteAll(`failed: ${firstLine(err)}`);
  } finally {
    await handle.stop();
  }
}
