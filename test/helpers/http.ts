import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | string[]> | [string, string][];
  body?: string | Buffer | Readable | AsyncIterable<Buffer>;
  timeoutMs?: number;
}

/** One request over a fresh connection with node:http; the whole body is collected. */
export function request(url: string, options: RequestOptions = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    let headers = Array.isArray(options.headers) ? options.headers.flat() : options.headers;
    if (Array.isArray(headers) && !headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'host')) {
      headers = ['Host', new URL(url).host, ...headers];
    }
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: headers as never, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString('utf8') });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`request to ${url} timed out after ${options.timeoutMs ?? 30_000} ms`)), options.timeoutMs ?? 30_000);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    const body = options.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else Readable.from(body as AsyncIterable<Buffer>).pipe(req);
  });
}

export async function getJson<T = Record<string, unknown>>(url: string, options: RequestOptions = {}): Promise<T> {
  const r = await request(url, options);
  if (r.status !== 200) throw new Error(`${url}: status ${r.status}: ${r.text}`);
  return JSON.parse(r.text) as T;
}

/** Sends raw bytes on a new connection; resolves with everything read until the server closes. */
export function rawRequest(url: string, data: string | Buffer, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const s = connect(Number(u.port), u.hostname, () => s.write(data));
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.on('end', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no end of response within ${timeoutMs} ms; got: ${out.slice(0, 200)}`));
    }, timeoutMs);
  });
}

/** Splits a raw HTTP/1.x response into status, lower-cased headers and body. */
export function parseRaw(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const lines = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = raw.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    let out = '';
    let at = 0;
    for (;;) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.slice(at, eol), 16);
      if (!size) break;
      out += body.slice(eol + 2, eol + 2 + size);
      at = eol + 2 + size + 2;
    }
    body = out;
  }
  return { status: Number((lines[0] as string).split(' ')[1]), headers, body };
}
