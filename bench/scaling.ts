/**
 * `npm run bench -- --scaling`: wsgi-host alone, hello-c64 and json-c16, started with 1, 2, ...
 * front-end loops (serve --front-ends K) in each layout, the loop counts interleaved and rotated
 * each repetition; one table of medians, then the model they imply for 2 to 32 cores and this machine.
 */
import { mkdtempSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeOnExit, stopAll } from './cleanup.js';
import { ensurePackages } from './install.js';
import { LOOP_CAP, type Options } from './options.js';
import { frontEndsMissing, wsgiHostWithFrontEnds } from './peers/wsgi-host.js';
import { layoutName } from './peers/types.js';
import { RetryBudget } from './quiet.js';
import { Results } from './results.js';
import { runServer } from './run-server.js';
import { loopsServer, renderScalingModel, renderScalingTable } from './scaling-report.js';
import { SCENARIOS } from './scenarios.js';

export const SCALING_SCENARIOS = ['hello-c64', 'json-c16'];
/** The model's core counts, beside this machine's. */
const MODEL_CORES = [2, 4, 8, 16, 32];

export async function runScaling(o: Options): Promise<number> {
  ensurePackages(['wrk', ...(o.pin ? ['util-linux'] : [])]);
  const scenarios = SCENARIOS.filter((s) => SCALING_SCENARIOS.includes(s.name));
  const here = availableParallelism();
  const missing = o.loops.some((k) => k > 1) ? frontEndsMissing() : undefined;
  const runnable = o.loops.filter((k) => k === 1 || missing === undefined);
  const workDir = mkdtempSync(join(tmpdir(), 'wsgi-host-bench-'));
  removeOnExit(workDir);
  const perStart = scenarios.reduce((s) => s + o.durations.warmupS + o.durations.measureS + 0.3, 2);
  console.log(
    [
      `wsgi-host scaling benchmark, ${new Date().toISOString()}`,
      `machine: ${cpus().length} vCPUs (${cpus()[0]?.model ?? '?'}), ${here} this process may use, Linux ${release()}, Node ${process.version}`,
      `CPU pinning: ${o.pin ? 'wrk pinned to CPU 1 (taskset -c 1)' : 'none (wrk and wsgi-host share the CPUs)'}`,
      `front-end loops: ${o.loops.join(', ')} (K > 1 started with serve --front-ends K; K = 1 without the flag); ` +
        `layouts: ${o.layouts.map(layoutName).join(', ')}`,
      `load: wrk -t1 --latency on 127.0.0.1, ${o.durations.measureS}s measured after a ${o.durations.warmupS}s warm-up; ` +
        `${o.reps} repetition(s), loop counts interleaved; medians`,
      `scenarios:\n${scenarios.map((s) => `  ${s.name}: ${s.description}`).join('\n')}`,
      'CPU per request: the whole tree; front end = the Node process (utime+stime, all its threads); workers = the rest of the tree',
      `estimated time: ~${Math.ceil((o.reps * o.layouts.length * runnable.length * perStart) / 60)} min`,
      ...(missing !== undefined ? [`K > 1 rows are n/a: ${missing} (the front-end loops are not in this build)`] : []),
    ].join('\n') + '\n',
  );
  const t0 = Date.now();
  const results = new Results();
  const retry = new RetryBudget(o.quick ? 60_000 : 120_000);
  try {
    for (const l of o.layouts) {
      for (const k of o.loops.filter((k) => !runnable.includes(k))) {
        for (const sc of scenarios) results.note(sc.name, layoutName(l), loopsServer(k), `n/a: ${missing}`);
      }
    }
    for (let rep = 0; rep < o.reps; rep++) {
      for (const l of o.layouts) {
        // rotate the order each repetition so drift hits every loop count alike
        const order = runnable.map((_, i) => runnable[(i + rep) % runnable.length] as number);
        for (const k of order) {
          await runServer(o, wsgiHostWithFrontEnds(k), l, rep, workDir, results, retry, { scenarios, tls: undefined });
        }
      }
    }
    console.log(`\n${renderScalingTable(results, scenarios, o.layouts, o.loops)}\n`);
    const cores = [...new Set([...MODEL_CORES, here])].sort((a, b) => a - b);
    for (const sc of scenarios) {
      for (const l of o.layouts) console.log(`${renderScalingModel(results, sc, l, o.loops, cores, LOOP_CAP, here)}\n`);
    }
    console.log(`took ${((Date.now() - t0) / 60_000).toFixed(1)} min; ${retry.retries} run(s) repeated because other processes were busy`);
    return 0;
  } finally {
    await stopAll();
  }
}
