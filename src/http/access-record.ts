import type { AccessRecord } from '../observability/access-log.js';
import type { Exchange } from './exchange.js';

/**
 * An access log record read from a finished exchange (its lookups are methods: no closures per
 * line). The front end publishes one on the wsgi-host:request:finish channel for every request an
 * application answered, when something subscribes (the access log does).
 */
export class ExchangeRecord implements AccessRecord {
  readonly remoteAddr: string;
  readonly remotePort: number;
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly status: number;
  readonly bytes: number;
  readonly micros: number;
  readonly requestId: string;
  readonly group: string;
  readonly time = Date.now();
  private readonly ex: Exchange;

  constructor(ex: Exchange) {
    const req = ex.req;
    this.ex = ex;
    // The client as the request resolved it (a PROXY header's, a trusted proxy header's): routes.ts.
    this.remoteAddr = ex.head.remoteAddr || '-';
    this.remotePort = Number(ex.head.remotePort) || 0;
    this.method = req.method ?? '-';
    this.url = req.url ?? '-';
    this.httpVersion = req.httpVersion;
    this.status = ex.status;
    this.bytes = ex.bytesSent;
    this.micros = (performance.now() - ex.arrivedAt) * 1000;
    this.requestId = ex.requestId;
    this.group = ex.stats.label;
  }

  header(name: string): string | undefined {
    const v = this.ex.req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  responseHeader(name: string): string | undefined {
    const h = this.ex.responseHeaders;
    for (let i = 0; i < h.length; i += 2) if ((h[i] as string).toLowerCase() === name) return h[i + 1];
    const v = this.ex.res.getHeader(name);
    return v === undefined ? undefined : String(v);
  }
}
