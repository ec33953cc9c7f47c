import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect as http2Connect } from 'node:http2';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { V2_SIGNATURE } from '../src/frontdoor/proxy-protocol.js';
import { clientAddress, clientPort, proxyProtocolStage } from '../src/http/proxy-protocol-stage.js';
import { createLogger } from '../src/observability/logger.js';
import { haveOpenssl, makeCertificate } from './helpers/certificates.js';
import { RawClient, rawHttp } from './helpers/raw-http.js';
import { tempDir } from './helpers/tmp.js';
import { runCli, waitFor, WsgiHost } from './helpers/wsgi-host.js';

/**
 * Behind a proxy, on real sockets: the client's facts from trusted proxies only (X-Forwarded-*,
 * RFC 7239 Forwarded, the PROXY protocol v1 and v2), what untrusted peers send stripped, and the
 * address access rules and the access log see. The proxy is a client bound to 127.0.0.2; any other
 * client comes from 127.0.0.1.
 */

const APP = String.raw`
import json
KEYS = ["REMOTE_ADDR", "REMOTE_PORT", "wsgi.url_scheme", "SERVER_NAME", "SERVER_PORT", "HTTP_HOST", "SCRIPT_NAME", "PATH_INFO", "SITE"]
def application(environ, start_response):
    seen = dict((k, environ.get(k)) for k in KEYS)
    seen["headers"] = sorted(k for k in environ if k.startswith("HTTP_"))
    seen["HTTP_X_FORWARDED_FOR"] = environ.get("HTTP_X_FORWARDED_FOR")
    seen["HTTP_FORWARDED"] = environ.get("HTTP_FORWARDED")
    body = json.dumps(seen).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
`;

interface Seen {
  REMOTE_ADDR: string;
  REMOTE_PORT: string;
  'wsgi.url_scheme': string;
  SERVER_NAME: string;
  SERVER_PORT: string;
  HTTP_HOST: string;
  SCRIPT_NAME: string;
  PATH_INFO: string;
  SITE: string | null;
  headers: string[];
  HTTP_X_FORWARDED_FOR: string | null;
  HTTP_FORWARDED: string | null;
}

const PROXY = '127.0.0.2';

function portOf(url: string): number {
  return Number(new URL(url).port);
}

async function get(
  url: string,
  path: string,
  headers: [string, string][],
  from?: string,
  hostHeader?: string,
): Promise<{ status: number; seen: Seen | undefined }> {
  const r = await rawHttp({
    host: '127.0.0.1',
    port: portOf(url),
    path,
    headers,
    ...(from !== undefined ? { localAddress: from } : {}),
    ...(hostHeader !== undefined ? { hostHeader } : {}),
  });
  return { status: r.status, seen: r.status === 200 ? (JSON.parse(r.text) as Seen) : undefined };
}

describe('trusted proxy headers (X-Forwarded-*): believed from trusted proxies only, stripped from everyone else', () => {
  const t = tempDir();
  let host: WsgiHost;
  let accessLog: string;

  before(async () => {
    t.file('app.wsgi', APP);
    accessLog = `${t.dir}/access.log`;
    const config = t.file(
      'site.toml',
      `
trusted-proxies = ["${PROXY}"]
trusted-proxy-headers = ["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port"]

[log]
access = "${accessLog}"

[[host]]
server-name = "a.test"
[[host.mount]]
script = "app.wsgi"
environ = { SITE = "a" }
[[host.mount]]
path = "/staff"
script = "app.wsgi"
environ = { SITE = "a" }
access = [{ require = "ip 203.0.113.0/24" }]

[[host]]
server-name = "b.test"
[[host.mount]]
script = "app.wsgi"
environ = { SITE = "b" }
`,
    );
    host = await WsgiHost.serve(['-c', config]);
  });
  after(async () => {
    await host.stop();
    t.cleanup();
  });

  test('a spoofed X-Forwarded-For (and its synonyms) from an untrusted peer is ignored and stripped: the application never sees it', async () => {
    const { seen } = await get(
      host.url,
      '/',
      [
        ['X-Forwarded-For', '203.0.113.9'],
        ['x-forwarded-for', '198.51.100.1'],
        ['X-Real-IP', '203.0.113.9'],
        ['X-Forwarded-Proto', 'https'],
        ['X-Forwarded-SSL', 'on'],
        ['X-Forwarded-Host', 'evil.test'],
        ['X-Forwarded-Port', '443'],
        ['X-Forwarded-Server', 'not-configured.test'],
      ],
      undefined,
      'a.test',
    );
    assert.ok(seen);
    assert.equal(seen.REMOTE_ADDR, '127.0.0.1');
    assert.equal(seen['wsgi.url_scheme'], 'http');
    assert.equal(seen.HTTP_HOST, 'a.test');
    assert.equal(seen.SERVER_NAME, 'a.test');
    assert.equal(seen.SERVER_PORT, String(portOf(host.url)));
    for (const h of [
      'HTTP_X_FORWARDED_FOR',
      'HTTP_X_REAL_IP',
      'HTTP_X_FORWARDED_PROTO',
      'HTTP_X_FORWARDED_SSL',
      'HTTP_X_FORWARDED_HOST',
      'HTTP_X_FORWARDED_PORT',
    ]) {
      assert.ok(!seen.headers.includes(h), `${h} was stripped (got ${seen.headers.join(' ')})`);
    }
    // A purpose with no configured header is not touched (as mod_wsgi).
    assert.ok(seen.headers.includes('HTTP_X_FORWARDED_SERVER'));
  });

  test('from a trusted proxy: the right-most address that is not a trusted proxy, the scheme, HTTP_HOST and SERVER_PORT; other synonyms stripped', async () => {
    const { seen } = await get(
      host.url,
      '/x',
      [
        ['X-Forwarded-For', '6.6.6.6, 203.0.113.9, 127.0.0.2'],
        ['X-Real-IP', '6.6.6.6'],
        ['X-Forwarded-Proto', 'https'],
        ['X-Forwarded-SSL', 'off'],
        ['X-Forwarded-Host', 'shop.example.com'],
        ['X-Forwarded-Port', '443'],
      ],
      PROXY,
      'a.test',
    );
    assert.ok(seen);
    assert.equal(seen.REMOTE_ADDR, '203.0.113.9', 'the client the trusted proxy saw, not what the client claimed (6.6.6.6)');
    assert.equal(seen['wsgi.url_scheme'], 'https');
    assert.equal(seen.HTTP_HOST, 'shop.example.com', 'HTTP_HOST from X-Forwarded-Host, as mod_wsgi sets it');
    assert.equal(seen.SERVER_NAME, 'a.test', 'SERVER_NAME stays the received Host (X-Forwarded-Server is not trusted here)');
    assert.equal(seen.SERVER_PORT, '443');
    assert.equal(seen.SITE, 'a', 'routed by the Host received, never by X-Forwarded-Host');
    assert.equal(seen.HTTP_X_FORWARDED_FOR, '203.0.113.9, 127.0.0.2', 'the believed header passes on from the client on, as mod_wsgi rewrites it');
    assert.ok(!seen.headers.includes('HTTP_X_REAL_IP'));
    assert.ok(!seen.headers.includes('HTTP_X_FORWARDED_SSL'));
    // The proxy forwarding a host of another virtual host does not move the request there.
    const other = await get(host.url, '/', [['X-Forwarded-Host', 'b.test']], PROXY, 'a.test');
    assert.equal(other.seen?.SITE, 'a');
    assert.equal(other.seen?.HTTP_HOST, 'b.test');
  });

  test("values that are not what they claim are not believed: a bad scheme, port or host keeps the connection's", async () => {
    const { seen } = await get(
      host.url,
      '/',
      [
        ['X-Forwarded-For', 'unknown'],
        ['X-Forwarded-Proto', 'javascript'],
        ['X-Forwarded-Host', 'a.test/../evil'],
        ['X-Forwarded-Port', '99999'],
      ],
      PROXY,
      'a.test',
    );
    assert.ok(seen);
    assert.equal(seen.REMOTE_ADDR, PROXY);
    assert.equal(seen['wsgi.url_scheme'], 'http');
    assert.equal(seen.HTTP_HOST, 'a.test');
    assert.equal(seen.SERVER_PORT, String(portOf(host.url)));
  });

  test('Require ip checks the client the trusted proxy names (as Apache behind mod_remoteip); a spoofed header from elsewhere gets no further', async () => {
    const allowed = await get(host.url, '/staff/', [['X-Forwarded-For', '203.0.113.9']], PROXY, 'a.test');
    assert.equal(allowed.status, 200);
    assert.equal(allowed.seen?.REMOTE_ADDR, '203.0.113.9');
    const outsider = await get(host.url, '/staff/', [['X-Forwarded-For', '198.51.100.1']], PROXY, 'a.test');
    assert.equal(outsider.status, 403);
    // The client puts an allowed address in front of its own: the proxy appends the real one.
    const appended = await get(host.url, '/staff/', [['X-Forwarded-For', '203.0.113.9, 198.51.100.1']], PROXY, 'a.test');
    assert.equal(appended.status, 403);
    const spoofed = await get(host.url, '/staff/', [['X-Forwarded-For', '203.0.113.9']], undefined, 'a.test');
    assert.equal(spoofed.status, 403);
    // The proxy itself, without a header, is the client.
    assert.equal((await get(host.url, '/staff/', [], PROXY, 'a.test')).status, 403);
  });

  test("the access log shows the client's address", async () => {
    await get(host.url, '/logged', [['X-Forwarded-For', '192.0.2.44']], PROXY, 'a.test');
    await get(host.url, '/spoofed', [['X-Forwarded-For', '192.0.2.45']], undefined, 'a.test');
    await waitFor(() => /\/spoofed/.test(readFileSync(accessLog, 'utf8')), 5000, 'the access log lines');
    const lines = readFileSync(accessLog, 'utf8').split('\n');
    assert.match(lines.find((l) => l.includes('/logged')) ?? '', /^192\.0\.2\.44 /);
    assert.match(lines.find((l) => l.includes('/spoofed')) ?? '', /^127\.0\.0\.1 /);
  });
});

describe('RFC 7239 Forwarded from a trusted proxy', () => {
  const t = tempDir();
  let host: WsgiHost;

  before(async () => {
    t.file('app.wsgi', APP);
    const config = t.file(
      'site.toml',
      `
trusted-proxies = ["${PROXY}", "10.0.0.0/8"]
trusted-proxy-headers = ["Forwarded"]

[[mount]]
script = "app.wsgi"
`,
    );
    host = await WsgiHost.serve(['-c', config]);
  });
  after(async () => {
    await host.stop();
    t.cleanup();
  });

  test("the element of the first untrusted hop gives the address (with its port), the scheme and the host; X-Forwarded-For is stripped (Forwarded's purpose)", async () => {
    const { seen } = await get(
      host.url,
      '/',
      [
        ['Forwarded', 'for=198.51.100.1;proto=http, for="[2001:db8::7]:4711";proto=https;host="shop.example.com:8443"'],
        ['Forwarded', 'for=10.1.2.3;proto=http'],
        ['X-Forwarded-For', '6.6.6.6'],
      ],
      PROXY,
    );
    assert.ok(seen);
    assert.equal(seen.REMOTE_ADDR, '2001:db8::7');
    assert.equal(seen.REMOTE_PORT, '4711');
    assert.equal(seen['wsgi.url_scheme'], 'https');
    assert.equal(seen.HTTP_HOST, 'shop.example.com:8443');
    assert.ok(seen.HTTP_FORWARDED?.startsWith('for=198.51.100.1'));
    assert.ok(!seen.headers.includes('HTTP_X_FORWARDED_FOR'));
  });

  test('a malformed element stops the walk at the last good address; from an untrusted peer the header is stripped', async () => {
    const broken = await get(host.url, '/', [['Forwarded', 'for=203.0.113.9, for="unterminated']], PROXY);
    assert.equal(broken.seen?.REMOTE_ADDR, PROXY);
    const untrusted = await get(host.url, '/', [['Forwarded', 'for=203.0.113.9;proto=https']]);
    assert.equal(untrusted.seen?.REMOTE_ADDR, '127.0.0.1');
    assert.equal(untrusted.seen?.['wsgi.url_scheme'], 'http');
    assert.equal(untrusted.seen?.HTTP_FORWARDED, null);
  });
});

// ---- the PROXY protocol -------------------------------------------------------------------------

function v2Header(command: 'proxy' | 'local', family: 'tcp4' | 'tcp6', src: string, dst: string, sport: number, dport: number, tlv = Buffer.alloc(0)): Buffer {
  const addr = (text: string): Buffer => {
    if (family === 'tcp4') return Buffer.from(text.split('.').map(Number));
    const [head, tail] = text.split('::') as [string, string | undefined];
    const h = head === '' ? [] : head.split(':');
    const tl = tail === undefined || tail === '' ? [] : tail.split(':');
    const words = [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl].map((w) => Number.parseInt(w, 16));
    const b = Buffer.alloc(16);
    for (const [i, w] of words.entries()) b.writeUInt16BE(w, i * 2);
    return b;
  };
  const body =
    command === 'local' ? Buffer.alloc(0) : Buffer.concat([addr(src), addr(dst), Buffer.from([sport >> 8, sport & 255, dport >> 8, dport & 255]), tlv]);
  const fixed = Buffer.from([
    command === 'local' ? 0x20 : 0x21,
    command === 'local' ? 0x00 : family === 'tcp4' ? 0x11 : 0x21,
    body.length >> 8,
    body.length & 255,
  ]);
  return Buffer.concat([V2_SIGNATURE, fixed, body]);
}

/** Opens a connection from `from`, writes `chunks` (a pause between them), and collects what comes back until the server closes it. */
function converse(port: number, from: string, chunks: (string | Buffer)[], gapMs = 20, timeoutMs = 10_000): Promise<{ data: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const s: Socket = connect({ port, host: '127.0.0.1', localAddress: from });
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the server did not close within ${timeoutMs} ms; got ${JSON.stringify(data.slice(0, 200))}`));
    }, timeoutMs);
    s.setEncoding('latin1');
    s.on('data', (d: string) => (data += d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closedAfterMs: Date.now() - started });
    });
    s.on('connect', async () => {
      for (const c of chunks) {
        if (s.destroyed) return;
        s.write(c);
        await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

const request = (path: string, close = true): string => `GET ${path} HTTP/1.1\r\nHost: p.test\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

describe('the PROXY protocol on a listener that asks for it (proxy-protocol = true)', () => {
  const t = tempDir();
  let host: WsgiHost;
  let port: number;
  let accessLog: string;

  before(async () => {
    t.file('app.wsgi', APP);
    accessLog = `${t.dir}/access.log`;
    const config = t.file(
      'site.toml',
      `
listen = [{ host = "127.0.0.1", port = 8000, proxy-protocol = true }]
trusted-proxies = ["${PROXY}"]

[limits]
header-timeout = 2

[log]
access = "${accessLog}"

[[mount]]
script = "app.wsgi"
`,
    );
    host = await WsgiHost.serve(['-c', config]);
    port = portOf(host.url);
  });
  after(async () => {
    await host.stop();
    t.cleanup();
  });

  const body = (data: string): Seen => JSON.parse(data.slice(data.indexOf('\r\n\r\n') + 4)) as Seen;

  test('v1 from the proxy: REMOTE_ADDR and REMOTE_PORT are the client it names, for every request of the connection', async () => {
    const c = await RawClient.open(`http://127.0.0.1:${port}`, 5000, PROXY);
    try {
      c.write(`PROXY TCP4 198.51.100.7 10.0.0.1 51234 80\r\n${request('/one', false)}`);
      const one = await c.readFinal();
      assert.equal(one?.status, 200);
      assert.equal((JSON.parse(one?.text ?? '{}') as Seen).REMOTE_ADDR, '198.51.100.7');
      assert.equal((JSON.parse(one?.text ?? '{}') as Seen).REMOTE_PORT, '51234');
      c.write(request('/two', false));
      const two = await c.readFinal();
      assert.equal((JSON.parse(two?.text ?? '{}') as Seen).REMOTE_ADDR, '198.51.100.7');
    } finally {
      c.destroy();
    }
    await waitFor(() => /\/two/.test(readFileSync(accessLog, 'utf8')), 5000, 'the access log lines');
    assert.match(
      readFileSync(accessLog, 'utf8')
        .split('\n')
        .find((l) => l.includes('/one')) ?? '',
      /^198\.51\.100\.7 /,
    );
  });

  test("v2 from the proxy (IPv4 and IPv6, TLVs skipped, the header and the request in separate writes); LOCAL keeps the proxy's own address", async () => {
    const v4 = await converse(port, PROXY, [
      v2Header('proxy', 'tcp4', '203.0.113.9', '10.0.0.1', 40000, 443, Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32])),
      request('/v4'),
    ]);
    assert.match(v4.data, /^HTTP\/1\.1 200 /);
    assert.equal(body(v4.data).REMOTE_ADDR, '203.0.113.9');
    assert.equal(body(v4.data).REMOTE_PORT, '40000');
    const v6 = await converse(port, PROXY, [Buffer.concat([v2Header('proxy', 'tcp6', '2001:db8::1', '2001:db8::2', 1234, 443), Buffer.from(request('/v6'))])]);
    assert.equal(body(v6.data).REMOTE_ADDR, '2001:db8::1');
    const local = await converse(port, PROXY, [v2Header('local', 'tcp4', '', '', 0, 0), request('/local')]);
    assert.match(local.data, /^HTTP\/1\.1 200 /);
    assert.equal(body(local.data).REMOTE_ADDR, PROXY);
    // Byte by byte, within the time: still whole.
    const header = Buffer.from('PROXY TCP4 192.0.2.1 10.0.0.1 1 80\r\n');
    const slow = await converse(port, PROXY, [...[...header].map((b) => Buffer.from([b])), request('/slow')], 5);
    assert.equal(body(slow.data).REMOTE_ADDR, '192.0.2.1');
  });

  test('refused, the connection closed without an answer: a PROXY header from a peer that is not a trusted proxy, none at all, a malformed one, an oversized v2', async () => {
    const cases: [string, string, (string | Buffer)[]][] = [
      ['a client that is not a trusted proxy', '127.0.0.1', [`PROXY TCP4 203.0.113.9 10.0.0.1 1 80\r\n${request('/')}`]],
      ['plain HTTP', PROXY, [request('/')]],
      ['a v1 line with a name for an address', PROXY, [`PROXY TCP4 client.test 10.0.0.1 1 80\r\n${request('/')}`]],
      ['a v1 line without CRLF in 107 bytes', PROXY, [`PROXY TCP4 ${'1'.repeat(120)}`]],
      ['a v2 header of 4000 bytes', PROXY, [Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0x0f, 0x90])])]],
      ['a v2 header for UDP', PROXY, [Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x12, 0x00, 0x0c]), Buffer.alloc(12)])]],
    ];
    for (const [what, from, chunks] of cases) {
      const r = await converse(port, from, chunks);
      assert.equal(r.data, '', `${what}: closed without a byte sent`);
    }
    await host.waitForLog(/PROXY protocol: closed \d+ connection\(s\)/, 5000);
  });

  test('slow: a PROXY header not whole within header-timeout (2 s here; 5 s at most) is closed', async () => {
    const r = await converse(port, PROXY, ['PROXY TCP4 203.0.113.9 '], 20, 8000);
    assert.equal(r.data, '');
    assert.ok(r.closedAfterMs >= 1500 && r.closedAfterMs < 5000, `closed after ${r.closedAfterMs} ms`);
    // After the PROXY header, header-timeout still holds for the HTTP head (node:http's check runs).
    const head = await converse(port, PROXY, ['PROXY TCP4 203.0.113.9 10.0.0.1 3 80\r\nGET / HTTP/1.1\r\nHost: p.test\r\n'], 20, 8000);
    assert.match(head.data, /^HTTP\/1\.1 408 /);
    assert.ok(head.closedAfterMs >= 1500 && head.closedAfterMs < 5000, `408 after ${head.closedAfterMs} ms`);
    // The server still serves.
    const after = await converse(port, PROXY, [`PROXY TCP4 198.51.100.8 10.0.0.1 2 80\r\n${request('/after')}`]);
    assert.equal(body(after.data).REMOTE_ADDR, '198.51.100.8');
  });
});

describe('a TLS listener with proxy-protocol = true: PROXY header, then TLS, then HTTP/1.1 or HTTP/2 by ALPN', {
  skip: haveOpenssl() ? false : 'openssl is not installed (apt-get install openssl)',
}, () => {
  const t = tempDir();
  let host: WsgiHost;
  let port: number;
  let ca: Buffer;

  before(async () => {
    t.file('app.wsgi', APP);
    const cert = makeCertificate(t.dir, 'proxied', ['proxied.test']);
    ca = readFileSync(cert.certificate);
    const config = t.file(
      'site.toml',
      `
listen = [{ host = "127.0.0.1", port = 8000, proxy-protocol = true, tls = { certificate = "${cert.certificate}", private-key = "${cert.privateKey}" } }]
trusted-proxies = ["${PROXY}"]

[[mount]]
script = "app.wsgi"
`,
    );
    host = await WsgiHost.serve(['-c', config]);
    port = portOf(host.url);
  });
  after(async () => {
    await host.stop();
    t.cleanup();
  });

  /** A TLS connection from the proxy's address after a PROXY v1 header naming `client`. */
  function proxiedTls(client: string, alpn: string): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const raw = connect({ port, host: '127.0.0.1', localAddress: PROXY }, () => {
        raw.write(`PROXY TCP4 ${client} 10.0.0.1 4444 443\r\n`);
        const s = tlsConnect({ socket: raw, servername: 'proxied.test', ca, ALPNProtocols: [alpn] }, () => resolve(s));
        s.on('error', reject);
      });
      raw.on('error', reject);
      setTimeout(() => reject(new Error('no TLS handshake within 5 s')), 5000).unref();
    });
  }

  test('HTTP/1.1: the client the PROXY header names, the scheme https', async () => {
    const s = await proxiedTls('198.51.100.21', 'http/1.1');
    assert.equal(s.alpnProtocol, 'http/1.1');
    const text = await new Promise<string>((resolve, reject) => {
      let out = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => (out += d));
      s.on('end', () => resolve(out));
      s.on('error', reject);
      s.write('GET /one HTTP/1.1\r\nHost: proxied.test\r\nConnection: close\r\n\r\n');
      setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref();
    });
    assert.match(text, /^HTTP\/1\.1 200 /);
    const seen = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Seen;
    assert.equal(seen.REMOTE_ADDR, '198.51.100.21');
    assert.equal(seen.REMOTE_PORT, '4444');
    assert.equal(seen['wsgi.url_scheme'], 'https');
  });

  test('HTTP/2: the same client on every stream of the session', async () => {
    const s = await proxiedTls('198.51.100.22', 'h2');
    assert.equal(s.alpnProtocol, 'h2');
    const session = http2Connect('https://proxied.test', { createConnection: () => s });
    try {
      for (const path of ['/a', '/b']) {
        const text = await new Promise<string>((resolve, reject) => {
          const req = session.request({ ':path': path });
          let out = '';
          req.setEncoding('utf8');
          req.on('data', (d: string) => (out += d));
          req.on('end', () => resolve(out));
          req.on('error', reject);
          setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref();
        });
        const seen = JSON.parse(text) as Seen;
        assert.equal(seen.REMOTE_ADDR, '198.51.100.22', path);
        assert.equal(seen['wsgi.url_scheme'], 'https');
      }
    } finally {
      session.close();
    }
  });

  test('no PROXY header: the TLS handshake never starts (the connection is closed)', async () => {
    const closed = await new Promise<boolean>((resolve) => {
      const raw = connect({ port, host: '127.0.0.1', localAddress: PROXY }, () => {
        const s = tlsConnect({ socket: raw, servername: 'proxied.test', ca }, () => resolve(false));
        s.on('error', () => resolve(true));
        s.on('close', () => resolve(true));
      });
      raw.on('error', () => resolve(true));
      setTimeout(() => resolve(false), 8000).unref();
    });
    assert.equal(closed, true);
  });
});

describe('redirect-to-https behind a proxy that terminates TLS: the trusted X-Forwarded-Proto decides', {
  skip: haveOpenssl() ? false : 'openssl is not installed (apt-get install openssl)',
}, () => {
  const t = tempDir();
  let host: WsgiHost;
  let plain: string;

  before(async () => {
    t.file('app.wsgi', APP);
    makeCertificate(t.dir, 'a', ['a.test']);
    const config = t.file(
      'site.toml',
      `
listen = [{ host = "127.0.0.1", port = 0 }, { host = "127.0.0.1", port = 0, tls = { certificate = "a.crt", private-key = "a.key" } }]
trusted-proxies = ["${PROXY}"]
trusted-proxy-headers = ["X-Forwarded-Proto"]

[[mount]]
script = "app.wsgi"

[[host]]
server-name = "a.test"
redirect-to-https = true
`,
    );
    const started = await WsgiHost.serveListeners(['-c', config], 2, { cwd: t.dir });
    host = started.host;
    plain = started.listeners[0] as string;
  });
  after(async () => {
    await host.stop();
    t.cleanup();
  });

  test('https from the trusted proxy is served (no redirect loop); http from it, or https claimed by anyone else, is redirected', async () => {
    const served = await get(plain, '/x', [['X-Forwarded-Proto', 'https']], PROXY, 'a.test');
    assert.equal(served.status, 200);
    assert.equal(served.seen?.['wsgi.url_scheme'], 'https');
    assert.equal((await get(plain, '/x', [['X-Forwarded-Proto', 'http']], PROXY, 'a.test')).status, 308);
    assert.equal((await get(plain, '/x', [['X-Forwarded-Proto', 'https']], undefined, 'a.test')).status, 308);
  });
});

describe('the PROXY protocol stage in front of an HTTPS server (the accept pipeline: PROXY -> TLS -> HTTP)', {
  skip: haveOpenssl() ? false : 'openssl is not installed (apt-get install openssl)',
}, () => {
  const t = tempDir();
  after(() => t.cleanup());

  test('the client the header names is what the request sees through the TLS socket', async () => {
    const cert = makeCertificate(t.dir, 'stage', ['localhost']);
    const https = createHttpsServer({ key: readFileSync(cert.privateKey), cert: readFileSync(cert.certificate) }, (req, res) => {
      res.end(`${clientAddress(req.socket)}:${clientPort(req.socket)}`);
    });
    const front = proxyProtocolStage(https, { trusted: (a) => a === PROXY, headerTimeoutMs: () => 2000, log: createLogger({ level: 'error' }) });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const port = (front.address() as AddressInfo).port;
    try {
      const text = await new Promise<string>((resolve, reject) => {
        const raw = connect({ port, host: '127.0.0.1', localAddress: PROXY }, () => {
          raw.write('PROXY TCP4 198.51.100.9 10.0.0.1 5555 443\r\n');
          const s = tlsConnect({ socket: raw, servername: 'localhost', ca: readFileSync(cert.certificate) }, () => {
            s.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
          });
          let out = '';
          s.setEncoding('latin1');
          s.on('data', (d: string) => (out += d));
          s.on('end', () => resolve(out));
          s.on('error', reject);
        });
        raw.on('error', reject);
        setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref();
      });
      assert.match(text, /^HTTP\/1\.1 200 /);
      assert.ok(text.endsWith('198.51.100.9:5555'), text);
    } finally {
      front.close();
      https.close();
    }
  });
});

describe('serve SCRIPT --trust-proxy --trust-proxy-header (mod_wsgi-express)', () => {
  const t = tempDir();
  let host: WsgiHost;
  before(async () => {
    host = await WsgiHost.serve([t.file('app.wsgi', APP), '--trust-proxy', PROXY, '--trust-proxy-header', 'X-Forwarded-For']);
  });
  after(async () => {
    await host.stop();
    t.cleanup();
  });

  test('from the proxy the header is believed, from another client it is removed', async () => {
    assert.equal((await get(host.url, '/', [['X-Forwarded-For', '203.0.113.9']], PROXY)).seen?.REMOTE_ADDR, '203.0.113.9');
    const other = await get(host.url, '/', [['X-Forwarded-For', '203.0.113.9']]);
    assert.equal(other.seen?.REMOTE_ADDR, '127.0.0.1');
    assert.equal(other.seen?.HTTP_X_FORWARDED_FOR, null);
  });

  test('--trust-proxy-header without --trust-proxy is refused with the fix', async () => {
    const r = await runCli(['serve', t.file('app2.wsgi', APP), '--trust-proxy-header', 'X-Forwarded-For', '--port', '0', '--admin', 'off']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /trusted-proxies names no proxy/);
    assert.match(r.stderr, /--trust-proxy-header/);
  });
});

describe('the PROXY protocol stage when the listener closes', () => {
  test('a connection still reading its header is dropped at once: closing (SIGTERM, a reload) does not wait for its timeout', async () => {
    const http = createHttpServer((_req, res) => res.end('ok'));
    const front = proxyProtocolStage(http, { trusted: () => true, headerTimeoutMs: () => 5000, log: createLogger({ level: 'error' }) });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const port = (front.address() as AddressInfo).port;
    const waiting = connect(port, '127.0.0.1');
    waiting.on('error', () => undefined);
    await new Promise((r) => waiting.once('connect', r));
    waiting.write('PROXY TCP4 ');
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await new Promise<void>((resolve) => front.close(() => resolve()));
    http.close();
    assert.ok(Date.now() - started < 1000, `closed after ${Date.now() - started} ms`);
    await new Promise((r) => (waiting.destroyed ? r(undefined) : waiting.once('close', r)));
  });
});
