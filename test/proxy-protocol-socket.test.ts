import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { type ProxyHeader, ProxyProtocolError, readProxyHeader, type ReadProxyOptions } from '../src/frontdoor/proxy-protocol-socket.js';
import { V2_SIGNATURE } from '../src/frontdoor/proxy-protocol.js';
import { haveOpenssl, makeCertificate } from './helpers/certificates.js';
import { tempDir } from './helpers/tmp.js';

/**
 * A listener that speaks the PROXY protocol: a net.Server reads each connection's header, then
 * hands the socket to an HTTP (or TLS) server, as the front end will. What each connection's
 * header said is kept by socket, and what failed is collected.
 */
function proxyListener(target: HttpServer | ReturnType<typeof createTlsServer>, options: ReadProxyOptions & { delayMs?: number } = {}) {
  const headers = new WeakMap<Socket, ProxyHeader>();
  const failures: ProxyProtocolError[] = [];
  const server: Server = createServer((socket) => {
    const go = (): void => {
      readProxyHeader(socket, options).then(
        (h) => {
          headers.set(socket, h);
          target.emit('connection', socket);
        },
        (err: ProxyProtocolError) => failures.push(err),
      );
    };
    if (options.delayMs) setTimeout(go, options.delayMs);
    else go();
  });
  return { server, headers, failures };
}

const listen = (s: Server): Promise<number> => new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

/** Sends `chunks` (with a pause between them) and resolves with everything the server sent until it closed. */
function exchange(port: number, chunks: (string | Buffer)[], gapMs = 30, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(out)}`));
    }, timeoutMs);
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('connect', async () => {
      for (const c of chunks) {
        if (s.destroyed) break;
        s.write(c);
        await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

function v2Inet4(src: number[], sport: number, dst: number[], dport: number): Buffer {
  const b = Buffer.alloc(28);
  V2_SIGNATURE.copy(b, 0);
  b[12] = 0x21;
  b[13] = 0x11;
  b.writeUInt16BE(12, 14);
  Buffer.from(src).copy(b, 16);
  Buffer.from(dst).copy(b, 20);
  b.writeUInt16BE(sport, 24);
  b.writeUInt16BE(dport, 26);
  return b;
}

describe('the PROXY protocol on real sockets', () => {
  let http: HttpServer;
  let listener: ReturnType<typeof proxyListener>;
  let port: number;
  before(async () => {
    http = createHttpServer((req, res) => {
      const h = listener.headers.get(req.socket);
      const client = h?.kind === 'proxy' ? `${h.source.address}:${h.source.port}` : `local ${req.socket.remoteAddress}`;
      res.setHeader('Connection', 'close');
      res.end(`client=${client} url=${req.url}`);
    });
    listener = proxyListener(http, { timeoutMs: 300 });
    port = await listen(listener.server);
  });
  after(() => {
    listener.server.close();
    http.close();
  });

  test('v1 header and the HTTP request in one write: the request after the header is served whole', async () => {
    const out = await exchange(port, ['PROXY TCP4 203.0.113.7 127.0.0.1 40000 80\r\nGET /one HTTP/1.1\r\nHost: a\r\n\r\n']);
    assert.match(out, /^HTTP\/1\.1 200 OK/);
    assert.match(out, /client=203\.0\.113\.7:40000 url=\/one$/);
  });

  test('v2 header split across writes, then the request in pieces', async () => {
    const h = v2Inet4([198, 51, 100, 9], 5555, [127, 0, 0, 1], 80);
    const out = await exchange(port, [
      h.subarray(0, 5),
      h.subarray(5, 20),
      Buffer.concat([h.subarray(20), Buffer.from('GET /tw')]),
      'o HTTP/1.1\r\nHost: a\r\n\r\n',
    ]);
    assert.match(out, /client=198\.51\.100\.9:5555 url=\/two$/);
  });

  test("v2 LOCAL (a proxy health check): served with the connection's own address", async () => {
    const local = Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
    const out = await exchange(port, [Buffer.concat([local, Buffer.from('GET /check HTTP/1.1\r\nHost: a\r\n\r\n')])]);
    assert.match(out, /client=local 127\.0\.0\.1 url=\/check$/);
  });

  test('hostile: no header, a malformed one, a huge declared length: closed without an answer; the listener keeps serving', async () => {
    const before = listener.failures.length;
    assert.equal(await exchange(port, ['GET / HTTP/1.1\r\nHost: a\r\n\r\n']), '');
    assert.equal(await exchange(port, ['PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\nGET / HTTP/1.1\r\n\r\n']), '');
    assert.equal(await exchange(port, [Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0xff, 0xff]), Buffer.alloc(100)])]), '');
    const codes = listener.failures.slice(before).map((e) => e.code);
    assert.deepEqual(codes, ['PROXY_NOT_PROXY', 'PROXY_V1_MALFORMED', 'PROXY_V2_TOO_LONG']);
    assert.ok(listener.failures.every((e) => e instanceof ProxyProtocolError));
    assert.match(
      await exchange(port, ['PROXY TCP4 203.0.113.8 127.0.0.1 1 80\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n']),
      /client=203\.0\.113\.8:1 url=\/after$/,
    );
  });

  test('a peer that sends nothing, or half a header, is closed after the timeout', async () => {
    const before = listener.failures.length;
    const t0 = Date.now();
    assert.equal(await exchange(port, []), '');
    assert.equal(await exchange(port, ['PROXY TCP4 1.2']), '');
    const took = Date.now() - t0;
    assert.ok(took >= 500 && took < 4000, `two timeouts of 300 ms took ${took} ms`);
    assert.deepEqual(
      listener.failures.slice(before).map((e) => e.code),
      ['PROXY_TIMEOUT', 'PROXY_TIMEOUT'],
    );
  });

  test('a peer that is not a trusted proxy is closed before its bytes are read', async () => {
    const h2 = createHttpServer((_req, res) => res.end('should not be served'));
    const strict = proxyListener(h2, { trustedPeer: (a) => a === '10.0.0.1' });
    const p = await listen(strict.server);
    try {
      assert.equal(await exchange(p, ['PROXY TCP4 203.0.113.7 127.0.0.1 1 80\r\nGET / HTTP/1.1\r\n\r\n']), '');
      assert.equal(strict.failures[0]?.code, 'PROXY_UNTRUSTED_PEER');
      assert.match(strict.failures[0]?.hint ?? '', /trusted-proxies/);
    } finally {
      strict.server.close();
      h2.close();
    }
  });
});

describe('the PROXY protocol in front of TLS', { skip: haveOpenssl() ? false : 'openssl is not installed (apt-get install openssl)' }, () => {
  const t = tempDir();
  after(() => t.cleanup());

  test('header and ClientHello read together: the bytes after the header reach the TLS server, and the handshake completes', async () => {
    const cert = makeCertificate(t.dir, 'proxy-tls', ['localhost']);
    let seen: ProxyHeader | undefined;
    const tlsServer = createTlsServer({ key: readFileSync(cert.privateKey), cert: readFileSync(cert.certificate) }, (s: TLSSocket) => {
      s.end('hello over tls');
    });
    tlsServer.on('tlsClientError', () => undefined);
    // The listener waits before reading, so the header and the ClientHello are buffered together.
    const l = proxyListener(tlsServer, { delayMs: 150 });
    l.server.on('connection', (s) => {
      s.once('close', () => {
        seen = l.headers.get(s);
      });
    });
    const port = await listen(l.server);
    try {
      const text = await new Promise<string>((resolve, reject) => {
        const raw = connect(port, '127.0.0.1', () => {
          raw.write(v2Inet4([192, 0, 2, 44], 4444, [127, 0, 0, 1], 443));
          const s = tlsConnect({ socket: raw, servername: 'localhost', ca: readFileSync(cert.certificate) });
          let body = '';
          s.setEncoding('utf8');
          s.on('data', (d: string) => (body += d));
          s.on('end', () => resolve(body));
          s.on('error', reject);
        });
        raw.on('error', reject);
        setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref();
      });
      assert.equal(text, 'hello over tls');
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(seen?.kind === 'proxy');
      assert.equal(seen.source.address, '192.0.2.44');
    } finally {
      l.server.close();
      tlsServer.close();
    }
  });
});
