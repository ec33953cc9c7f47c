/**
 * wrk (Debian's), one thread, with --latency: run it (load-generator.ts) and parse what it prints. Its CPU time is
 * read from this process's reaped-children times (/proc/self/stat cutime+cstime) before and after.
 */
import { runLoadGenerator } from './load-generator.js';

export interface WrkOptions {
  url: string;
  connections: number;
  durationS: number;
  timeoutS: number;
  script?: string;
  headers?: string[];
  /** run wrk with taskset -c 1 */
  pin: boolean;
}

export interface WrkResult {
  requests: number;
  /** wrk's own measured duration */
  durationS: number;
  rps: number;
  /** bytes wrk read: response heads and bodies, partial ones included */
  bytesRead: number;
  p50Ms: number;
  p99Ms: number;
  socketErrors: number;
  non2xx: number;
  /** CPU seconds wrk used */
  cpuS: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (m === null) throw new Error(`wrk: cannot read the time '${text}'`);
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

export function parseWrk(out: string): Omit<WrkResult, 'cpuS'> {
  const done = /(\d+) requests in ([\d.]+\w+), ([\d.]+)(B|KB|MB|GB|TB) read/.exec(out);
  const p50 = /^\s*50%\s+(\S+)/m.exec(out);
  const p99 = /^\s*99%\s+(\S+)/m.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (done === null || rps === null) throw new Error(`wrk printed no result:\n${out}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    requests: Number(done[1]),
    durationS: toMs(done[2] as string) / 1000,
    rps: Number(rps[1]),
    bytesRead: Number(done[3]) * 1024 ** ['B', 'KB', 'MB', 'GB', 'TB'].indexOf(done[4] as string),
    // no latency lines when no request completed
    p50Ms: p50 === null ? NaN : toMs(p50[1] as string),
    p99Ms: p99 === null ? NaN : toMs(p99[1] as string),
    socketErrors: sock === null ? 0 : sock.slice(1).reduce((s, n) => s + Number(n), 0),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
  };
}

export function wrkArgs(o: WrkOptions): string[] {
  return [
    '-t1',
    `-c${o.connections}`,
    `-d${o.durationS}s`,
    `--timeout`,
    `${o.timeoutS}s`,
    '--latency',
    ...(o.script !== undefined ? ['-s', o.script] : []),
    ...(o.headers ?? []).flatMap((h) => ['-H', h]),
    o.url,
  ];
}

export function runWrk(o: WrkOptions): Promise<WrkResult> {
  return runLoadGenerator('wrk', wrkArgs(o), o.pin, parseWrk);
}
