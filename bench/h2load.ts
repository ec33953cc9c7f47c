/**
 * h2load (Debian's nghttp2-client): HTTP/2 over TLS for a fixed time, like wrk for HTTP/1.1. Its
 * per-request log (--log-file: start, status, microseconds) gives the percentiles; its CPU time
 * is read as wrk's is, from this process's reaped-children times.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoadGenerator } from './load-generator.js';
import type { WrkResult } from './wrk.js';

export interface H2loadOptions {
  url: string;
  connections: number;
  /** concurrent streams per connection (-m) */
  streams: number;
  durationS: number;
  timeoutS: number;
  /** run h2load with taskset -c 1 */
  pin: boolean;
}

export function h2loadArgs(o: H2loadOptions, logFile: string): string[] {
  return ['-c', String(o.connections), '-m', String(o.streams), '-t', '1', '-D', String(o.durationS), '-T', String(o.timeoutS), '--log-file', logFile, o.url];
}

/** h2load's summary and its per-request log, as wrk's result. */
export function parseH2load(out: string, log: string): Omit<WrkResult, 'cpuS'> {
  const finished = /finished in ([\d.]+)(us|ms|s), ([\d.]+) req\/s/.exec(out);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const traffic = /traffic: [\d.]+\w* \((\d+)\) total/.exec(out);
  if (finished === null || requests === null) throw new Error(`h2load printed no result:\n${out}`);
  const unit = { us: 1e-6, ms: 1e-3, s: 1 }[finished[2] as 'us' | 'ms' | 's'];
  const durations = log
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Number(l.split('\t')[2]) / 1000)
    .filter((ms) => Number.isFinite(ms))
    .sort((a, b) => a - b);
  const pct = (p: number): number => (durations.length === 0 ? NaN : (durations[Math.min(durations.length - 1, Math.floor(p * durations.length))] as number));
  const succeeded = Number(requests[4]);
  return {
    requests: succeeded,
    durationS: Number(finished[1]) * unit,
    rps: Number(finished[3]),
    bytesRead: traffic === null ? 0 : Number(traffic[1]),
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    socketErrors: Number(requests[5]) + Number(requests[6]) + Number(requests[7]),
    non2xx: codes === null ? 0 : Number(codes[2]) + Number(codes[3]) + Number(codes[4]),
  };
}

export function runH2load(o: H2loadOptions): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'wsgi-host-h2load-'));
  const logFile = join(dir, 'requests.log');
  const parse = (out: string): Omit<WrkResult, 'cpuS'> => {
    let log = '';
    try {
      log = readFileSync(logFile, 'utf8');
    } catch {
      // no request finished: no log
    }
    return parseH2load(out, log);
  };
  return runLoadGenerator('h2load', h2loadArgs(o, logFile), o.pin, parse).finally(() => rmSync(dir, { recursive: true, force: true }));
}
