import { execFile } from 'node:child_process';
import { Agent, request as httpsRequest } from 'node:https';
import { type ClientHttp2Session, connect as h2connect, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (bounded), stdin closed at once. */
export function run(cmd: string, args: string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** `openssl s_client -brief` against 127.0.0.1:port (stdin closed: it connects, shakes hands and quits). */
export function sClient(port: number, args: string[]): Promise<Run> {
  return run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-brief', ...args], 15_000);
}

/** What a TLS handshake got: the certificate's CN and fingerprint, the protocol, ALPN; or the error code. */
export function handshake(
  port: number,
  options: { servername?: string; alpn?: string[] } = {},
): Promise<{ cn?: string; fingerprint?: string; protocol?: string | null; alpn?: string | false | null; error?: string }> {
  return new Promise((resolve) => {
    const s = tlsConnect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      ...(options.servername !== undefined ? { servername: options.servername } : {}),
      ALPNProtocols: options.alpn ?? ['http/1.1'],
    });
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ error: 'timeout' });
    }, 10_000);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      const peer = s.getPeerCertificate();
      resolve({ cn: peer.subject?.CN as string, fingerprint: peer.fingerprint256, protocol: s.getProtocol(), alpn: s.alpnProtocol });
      s.end();
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ error: e.code ?? e.message });
    });
  });
}

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  /** The server certificate's SHA-256 fingerprint (as X509Certificate.fingerprint256 spells it). */
  certificate: string;
}

/** One HTTPS/1.1 request (certificates not verified; SNI as given), the body collected; bounded. */
export function httpsGet(
  port: number,
  path: string,
  options: { servername?: string; host?: string; agent?: Agent | false; method?: string; body?: string; timeoutMs?: number } = {},
): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        rejectUnauthorized: false,
        servername: options.servername ?? '',
        agent: options.agent ?? false,
        headers: { host: options.host ?? options.servername ?? `127.0.0.1:${port}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        const certificate = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8'), certificate });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`https ${path} timed out`)), options.timeoutMs ?? 20_000);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(options.body);
  });
}

/** An HTTP/2 session to 127.0.0.1:port over TLS (certificates not verified). */
export function h2Session(port: number, servername = 'localhost'): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername });
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error('no HTTP/2 session within 10 s'));
    }, 10_000);
    session.once('connect', () => {
      clearTimeout(timer);
      resolve(session);
    });
    session.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export interface H2Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The stream's RST_STREAM code (0: closed normally). */
  rstCode: number;
}

/** One request on an HTTP/2 session; the body collected; bounded. */
export function h2Request(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: Buffer | string | AsyncIterable<Buffer>,
  timeoutMs = 30_000,
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let responseHeaders: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      stream.close();
      reject(new Error(`HTTP/2 ${String(headers[':path'])} timed out`));
    }, timeoutMs);
    stream.on('response', (h) => {
      status = Number(h[':status']);
      responseHeaders = h;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      clearTimeout(timer);
      const b = Buffer.concat(chunks);
      resolve({ status, headers: responseHeaders, body: b, text: b.toString('utf8'), rstCode: stream.rstCode ?? 0 });
    });
    if (body === undefined) return;
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      stream.end(body);
      return;
    }
    void (async () => {
      for await (const chunk of body) {
        if (!stream.write(chunk)) await new Promise((r) => stream.once('drain', r));
      }
      stream.end();
    })().catch((e: unknown) => reject(e));
  });
}

/** A keep-alive HTTPS agent that does not verify certificates. */
export function keepAliveAgent(servername: string): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false, servername });
}
