import { connect, type Socket } from 'node:net';

/** A response read off a raw connection. */
export interface RawResponse {
  status: number;
  /** The status line and header lines as received. */
  head: string;
  /** Lower-cased names; repeated fields joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

/**
 * A client on a raw TCP connection: writes bytes exactly as given (no client-side normalization)
 * and reads responses one by one, framed by Content-Length, chunked coding or the connection's end.
 * Every wait is bounded.
 */
export class RawClient {
  readonly socket: Socket;
  private buf = Buffer.alloc(0);
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        this.wake?.();
        resolve();
      });
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('error', (e) => {
      this.error = e;
      this.ended = true;
      this.wake?.();
    });
  }

  static open(url: string, timeoutMs = 5000, localAddress?: string): Promise<RawClient> {
    const u = new URL(url);
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    return new Promise((resolve, reject) => {
      const s = connect({ port: Number(u.port), host, ...(localAddress !== undefined ? { localAddress } : {}) });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`no connection to ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawClient(s));
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Half-close: no more bytes from us (shutdown(SHUT_WR)). */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The server closed (or reset) the connection and every byte it sent was read. */
  get isClosed(): boolean {
    return this.ended && this.buf.length === 0;
  }

  /** Bytes received and not yet parsed as a response. */
  get pending(): string {
    return this.buf.toString('latin1');
  }

  /** Waits until the server closes the connection, at most timeoutMs; true if it did. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (!(await this.waitData(deadline))) return false;
    }
    return true;
  }

  /**
   * The next response (1xx interim responses included), or undefined when the connection ends
   * before one. Rejects after timeoutMs. headRequest: the response has no body (HEAD).
   */
  async read(timeoutMs = 10_000, headRequest = false): Promise<RawResponse | undefined> {
    const deadline = Date.now() + timeoutMs;
    let end: number;
    for (;;) {
      end = this.buf.indexOf('\r\n\r\n');
      if (end !== -1) break;
      if (this.ended) return undefined;
      if (!(await this.waitData(deadline))) throw new Error(`no response head within ${timeoutMs} ms; got: ${JSON.stringify(this.pending.slice(0, 300))}`);
    }
    const head = this.buf.subarray(0, end).toString('latin1');
    const lines = head.split('\r\n');
    const status = Number((lines[0] as string).split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    let at = end + 4;
    let body: Buffer;
    if (headRequest || (status >= 100 && status < 200) || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const eol = await this.until(() => this.buf.indexOf('\r\n', at), deadline);
        const size = parseInt(this.buf.subarray(at, eol).toString('latin1'), 16);
        at = eol + 2;
        if (size === 0) {
          const trailerEnd = await this.until(() => this.buf.indexOf('\r\n', at), deadline);
          at = trailerEnd + 2;
          break;
        }
        await this.until(() => (this.buf.length >= at + size + 2 ? 1 : -1), deadline);
        parts.push(Buffer.from(this.buf.subarray(at, at + size)));
        at += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      await this.until(() => (this.buf.length >= at + n ? 1 : -1), deadline, true);
      body = Buffer.from(this.buf.subarray(at, at + n));
      at += n;
    } else {
      while (!this.ended) {
        if (!(await this.waitData(deadline))) throw new Error(`no end of a response without length within ${timeoutMs} ms`);
      }
      body = Buffer.from(this.buf.subarray(at));
      at = this.buf.length;
    }
    this.buf = this.buf.subarray(Math.min(at, this.buf.length));
    return { status, head, headers, body, text: body.toString('latin1') };
  }

  /** The next response that is not a 1xx. */
  async readFinal(timeoutMs = 10_000, headRequest = false): Promise<RawResponse | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.read(Math.max(1, deadline - Date.now()), headRequest);
      if (r === undefined || r.status >= 200) return r;
    }
  }

  private async until(find: () => number, deadline: number, shortOk = false): Promise<number> {
    for (;;) {
      const i = find();
      if (i !== -1) return i;
      if (this.ended) {
        if (shortOk) throw new Error(`the connection ended inside a response body; got: ${JSON.stringify(this.pending.slice(0, 300))}`);
        throw new Error(`the connection ended inside a response; got: ${JSON.stringify(this.pending.slice(0, 300))}`);
      }
      if (!(await this.waitData(deadline))) throw new Error(`response incomplete at the deadline; got: ${JSON.stringify(this.pending.slice(0, 300))}`);
    }
  }

  /** Waits for more bytes or the end; false at the deadline. */
  private waitData(deadline: number): Promise<boolean> {
    if (this.error !== undefined && this.ended) return Promise.resolve(true);
    const ms = deadline - Date.now();
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(false);
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(true);
      };
    });
  }
}

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

/** Sends one request (Connection: close) on a new connection and reads its final response (bounded). */
export async function rawHttp(r: RawRequest): Promise<RawResponse> {
  const method = r.method ?? 'GET';
  const lines = [`${method} ${r.path} HTTP/${r.hostHeader === null ? '1.0' : '1.1'}`];
  if (r.hostHeader !== null) lines.push(`Host: ${r.hostHeader ?? `${r.host}:${r.port}`}`);
  for (const [k, v] of r.headers ?? []) lines.push(`${k}: ${v}`);
  if (r.body !== undefined || method === 'POST') lines.push(`Content-Length: ${Buffer.byteLength(r.body ?? '')}`);
  lines.push('Connection: close', '', r.body ?? '');
  const c = await RawClient.open(`http://${r.host.includes(':') ? `[${r.host}]` : r.host}:${r.port}`, 5000, r.localAddress);
  try {
    c.write(lines.join('\r\n'));
    const res = await c.readFinal(r.timeoutMs ?? 20_000, method === 'HEAD');
    if (res === undefined) throw new Error(`${method} ${r.path} on ${r.host}:${r.port}: no response head (${c.pending.length} bytes)`);
    return res;
  } finally {
    c.destroy();
  }
}

/** Sends raw bytes on a new connection and reads one final response (bounded). */
export async function rawExchange(url: string, data: string | Buffer, timeoutMs = 10_000): Promise<RawResponse | undefined> {
  const c = await RawClient.open(url);
  try {
    c.write(data);
    return await c.readFinal(timeoutMs);
  } finally {
    c.destroy();
  }
}

/** Resolves with the time taken (ms) by fn, or rejects when it takes longer than limitMs. */
export async function within<T>(limitMs: number, what: string, fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${limitMs} ms`)), limitMs);
  });
  try {
    const value = await Promise.race([fn(), timeout]);
    return { value, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}
