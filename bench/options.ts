/** `npm run bench -- [options]` */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { PEERS } from './peers/index.js';
import type { Layout } from './peers/types.js';
import { FULL_DURATIONS, QUICK_DURATIONS, QUICK_SCENARIOS, SCENARIOS, type Durations, type Scenario } from './scenarios.js';

/** --scaling: the most front-end loops measured by default, and the model's most loops on any machine. */
export const LOOP_CAP = 8;

export const HELP = `Usage: npm run bench -- [options]

Benchmarks wsgi-host against gunicorn (sync, gthread), uWSGI, Apache mod_wsgi (daemon, embedded),
waitress and a raw Node http server, all on 127.0.0.1, with wrk; prints one table of medians. The
tls-* rows run over HTTPS/1.1 (wsgi-host and gunicorn, on one self-signed certificate), the h2-*
rows over HTTP/2 with h2load (wsgi-host; Debian's nghttp2-client is installed when missing).

  --quick              1 repetition, short runs, scenarios ${QUICK_SCENARIOS.join(', ')}
  --only A,B           scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}
  --servers A,B        servers: ${PEERS.map((p) => p.name).join(', ')}
  --layouts 2x1,1x4    processes x threads layouts (default: 2x1,1x4)
  --reps N             repetitions, servers interleaved (default: 3; --quick: 1)
  --duration S         seconds measured per scenario (default: ${FULL_DURATIONS.measureS}; bulk ${FULL_DURATIONS.bulkMeasureS})
  --pin                run wrk pinned to CPU 1 (taskset -c 1); default: no pinning
  --baseline DIR       also run the wsgi-host built in checkout DIR (git worktree add DIR COMMIT;
                       npm ci and npx tsc -p tsconfig.json there), as wsgi-host@COMMIT: before/after
  --codec              only the protocol codec micro-benchmarks (bench/codec.ts, bench/codec.py)
  --scaling            wsgi-host alone, hello-c64 and json-c16, with 1, 2, ... front-end loops
                       (serve --front-ends K): req/s, CPU per request (front end, workers, wrk) and
                       the model they imply for 2 to 32 cores; --reps, --duration, --pin, --quick
                       and --layouts apply (default layout: Px1, P = the CPUs this process may
                       use: here ${availableParallelism()})
  --loops 1,2          with --scaling: the loop counts (default: 1 to the CPUs this process may
                       use, at most ${LOOP_CAP})
  -h, --help           this help
`;

export interface Options {
  help: boolean;
  codec: boolean;
  /** --scaling: wsgi-host alone with each of `loops` front-end loops */
  scaling: boolean;
  loops: number[];
  quick: boolean;
  pin: boolean;
  reps: number;
  scenarios: Scenario[];
  servers: string[];
  /** --baseline: a checkout whose build runs beside this one */
  baseline: string | undefined;
  layouts: Layout[];
  durations: Durations;
}

function pick<T>(what: string, list: string | undefined, all: T[], name: (t: T) => string, fallback: T[]): T[] {
  if (list === undefined) return fallback;
  return list.split(',').map((n) => {
    const found = all.find((t) => name(t) === n.trim());
    if (found === undefined) throw new Error(`unknown ${what} '${n}'; known: ${all.map(name).join(', ')}`);
    return found;
  });
}

function layout(text: string): Layout {
  const m = /^(\d+)x(\d+)$/.exec(text.trim());
  if (m === null) throw new Error(`--layouts: '${text}' is not PROCESSESxTHREADS, e.g. 2x1`);
  return { processes: Number(m[1]), threads: Number(m[2]) };
}

function positive(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} '${text}' is not a whole number >= 1`);
  return n;
}

/** --loops 1,2,4: distinct whole numbers >= 1, in the order given. */
function loopList(text: string): number[] {
  const loops = text.split(',').map((n) => positive('--loops', n.trim(), 1));
  return [...new Set(loops)];
}

export function parseOptions(argv: string[]): Options {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      servers: { type: 'string' },
      layouts: { type: 'string' },
      reps: { type: 'string' },
      duration: { type: 'string' },
      pin: { type: 'boolean' },
      baseline: { type: 'string' },
      codec: { type: 'boolean' },
      scaling: { type: 'boolean' },
      loops: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const quick = v.quick === true;
  const base = quick ? QUICK_DURATIONS : FULL_DURATIONS;
  const duration = positive('--duration', v.duration, base.measureS);
  const quickSet = SCENARIOS.filter((s) => QUICK_SCENARIOS.includes(s.name));
  const scaling = v.scaling === true;
  if (scaling) {
    const other = (['only', 'servers', 'baseline', 'codec'] as const).filter((k) => v[k] !== undefined);
    if (other.length > 0) throw new Error(`--scaling runs wsgi-host alone on its own scenarios: leave out --${other.join(', --')}`);
  } else if (v.loops !== undefined) {
    throw new Error('--loops goes with --scaling');
  }
  const cpus = availableParallelism();
  return {
    help: v.help === true,
    codec: v.codec === true,
    scaling,
    loops: v.loops === undefined ? Array.from({ length: Math.min(cpus, LOOP_CAP) }, (_, i) => i + 1) : loopList(v.loops),
    quick,
    pin: v.pin === true,
    reps: positive('--reps', v.reps, quick ? 1 : 3),
    scenarios: pick('scenario', v.only, SCENARIOS, (s) => s.name, quick ? quickSet : SCENARIOS),
    servers: pick('server', v.servers, PEERS, (p) => p.name, PEERS).map((p) => p.name),
    baseline: v.baseline,
    layouts: (v.layouts ?? (scaling ? `${cpus}x1` : '2x1,1x4')).split(',').map(layout),
    durations: { ...base, measureS: duration, bulkMeasureS: v.duration !== undefined ? duration : base.bulkMeasureS },
  };
}
