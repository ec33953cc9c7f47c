import { connect } from 'node:net';

/** One request on a fresh connection, byte for byte as given (the path is sent as written). */
export interface RawRequest {
  host: string;
  port: number;
  /** The client's address (a loopback address other than 127.0.0.1 to be another client). */
  localAddress?: string;
  method?: string;
  path: string;
  /** The Host header; null: none (and HTTP/1.0). Default: host:port. */
  hostHeader?: string | null;
  headers?: [string, string][];
  body?: string;
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function rawHttp(r: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const method = r.method ?? 'GET';
    const lines = [`${method} ${r.path} HTTP/${r.hostHeader === null ? '1.0' : '1.1'}`];
    if (r.hostHeader !== null) lines.push(`Host: ${r.hostHeader ?? `${r.host}:${r.port}`}`);
    for (const [k, v] of r.headers ?? []) lines.push(`${k}: ${v}`);
    if (r.body !== undefined || method === 'POST') lines.push(`Content-Length: ${Buffer.byteLength(r.body ?? '')}`);
    lines.push('Connection: close', '', r.body ?? '');
    const socket = connect({ host: r.host, port: r.port, ...(r.localAddress !== undefined ? { localAddress: r.localAddress } : {}) });
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.write(lines.join('\r\n')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.setTimeout(r.timeoutMs ?? 20_000, () => socket.destroy(new Error(`${method} ${r.path} on ${r.host}:${r.port}: no answer in time`)));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`${method} ${r.path} on ${r.host}:${r.port}: no response head (${all.length} bytes)`));
      const head = all.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const h of head.slice(1)) {
        const colon = h.indexOf(':');
        const name = h.slice(0, colon).trim().toLowerCase();
        headers[name] = headers[name] !== undefined ? `${headers[name]}, ${h.slice(colon + 1).trim()}` : h.slice(colon + 1).trim();
      }
      let body: Buffer = all.subarray(end + 4);
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
      resolve({ status, headers, body });
    });
  });
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', i);
    if (eol < 0) break;
    const size = parseInt(data.subarray(i, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    out.push(data.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}
