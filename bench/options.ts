/** `npm run bench -- [options]` */
import { parseArgs } from 'node:util';
import { PEERS } from './peers/index.js';
import type { Layout } from './peers/types.js';
import { FULL_DURATIONS, QUICK_DURATIONS, QUICK_SCENARIOS, SCENARIOS, type Durations, type Scenario } from './scenarios.js';

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
  -h, --help           this help
`;

export interface Options {
  help: boolean;
  codec: boolean;
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
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const quick = v.quick === true;
  const base = quick ? QUICK_DURATIONS : FULL_DURATIONS;
  const duration = positive('--duration', v.duration, base.measureS);
  const quickSet = SCENARIOS.filter((s) => QUICK_SCENARIOS.includes(s.name));
  return {
    help: v.help === true,
    codec: v.codec === true,
    quick,
    pin: v.pin === true,
    reps: positive('--reps', v.reps, quick ? 1 : 3),
    scenarios: pick('scenario', v.only, SCENARIOS, (s) => s.name, quick ? quickSet : SCENARIOS),
    servers: pick('server', v.servers, PEERS, (p) => p.name, PEERS).map((p) => p.name),
    baseline: v.baseline,
    layouts: (v.layouts ?? '2x1,1x4').split(',').map(layout),
    durations: { ...base, measureS: duration, bulkMeasureS: v.duration !== undefined ? duration : base.bulkMeasureS },
  };
}
