/** The load: what each scenario requests, at what concurrency, for how long. */
import { join } from 'node:path';
import { WRK_SCRIPTS } from './paths.js';

export interface Scenario {
  name: string;
  description: string;
  path: string;
  connections: number;
  /** wrk -s script (uploads) */
  script?: string;
  /** extra request headers (new connection per request) */
  headers?: string[];
  /** MB/s shown: of request bodies (requests x uploadBytes) or of everything wrk read */
  mbps?: 'request' | 'response';
  uploadBytes?: number;
  /** a long-running request (10 MB up, 100 MB down): longer runs, longer timeout */
  bulk?: boolean;
  /**
   * Over TLS: 'tls' is HTTPS with HTTP/1.1 (wrk), 'h2' is HTTP/2 chosen by ALPN (h2load, from
   * Debian's nghttp2-client); the server is started with a certificate for these. Plain HTTP when absent.
   */
  transport?: 'tls' | 'h2';
  /** h2: concurrent streams per connection (h2load -m) */
  streams?: number;
}

const MB = 1024 * 1024;

export const SCENARIOS: Scenario[] = [
  { name: 'hello-c1', description: 'hello world (13 bytes), keep-alive, 1 connection', path: '/hello', connections: 1 },
  { name: 'hello-c16', description: 'hello world, keep-alive, 16 connections', path: '/hello', connections: 16 },
  { name: 'hello-c64', description: 'hello world, keep-alive, 64 connections', path: '/hello', connections: 64 },
  {
    name: 'hello-close-c64',
    description: "hello world, new connection per request (wrk sends 'Connection: close'), 64 connections",
    path: '/hello',
    connections: 64,
    headers: ['Connection: close'],
  },
  { name: 'json-c16', description: '~1 KB JSON built from environ, 16 connections', path: '/json', connections: 16 },
  { name: '100k-c16', description: '100 KB response, 16 connections', path: '/100k', connections: 16, mbps: 'response' },
  {
    name: 'upload-10m-c4',
    description: '10 MB POST body read from wsgi.input in 64 KB reads, 4 connections',
    path: '/upload',
    connections: 4,
    script: join(WRK_SCRIPTS, 'upload.lua'),
    mbps: 'request',
    uploadBytes: 10 * MB,
    bulk: true,
  },
  {
    name: 'download-100m-c2',
    description: 'streamed 100 MB download (generator of 64 KB blocks), 2 connections',
    path: '/download',
    connections: 2,
    mbps: 'response',
    bulk: true,
  },
  {
    name: 'tls-hello-c16',
    description: 'hello world over TLS (HTTPS/1.1, keep-alive), 16 connections',
    path: '/hello',
    connections: 16,
    transport: 'tls',
  },
  {
    name: 'tls-100k-c16',
    description: '100 KB response over TLS (HTTPS/1.1), 16 connections',
    path: '/100k',
    connections: 16,
    mbps: 'response',
    transport: 'tls',
  },
  {
    name: 'h2-hello-c16',
    description: 'hello world over HTTP/2 (TLS, ALPN h2), 16 streams at once: 4 connections x 4 streams',
    path: '/hello',
    connections: 4,
    streams: 4,
    transport: 'h2',
  },
  {
    name: 'h2-100k-c16',
    description: '100 KB response over HTTP/2, 16 streams at once: 4 connections x 4 streams',
    path: '/100k',
    connections: 4,
    streams: 4,
    mbps: 'response',
    transport: 'h2',
  },
];

/** --quick runs these unless --only says otherwise. */
export const QUICK_SCENARIOS = ['hello-c1', 'hello-c64', 'hello-close-c64', 'json-c16'];

export interface Durations {
  /** whole seconds (wrk takes no fractions) measured per scenario, and for the bulk ones */
  measureS: number;
  bulkMeasureS: number;
  /** a wrk run of the same scenario just before the measured one, not counted */
  warmupS: number;
}

export const FULL_DURATIONS: Durations = { measureS: 3, bulkMeasureS: 3, warmupS: 1 };
export const QUICK_DURATIONS: Durations = { measureS: 1, bulkMeasureS: 2, warmupS: 1 };
