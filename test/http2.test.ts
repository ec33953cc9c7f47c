import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { type ClientHttp2Session, type ClientHttp2Stream, constants } from 'node:http2';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TLS_APP } from './fixtures/tls-app.js';
import { haveOpenssl, makeCertificate } from './helpers/certificates.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { h2Request, h2Session } from './helpers/tls-clients.js';
import { rssBytes, WsgiHost, waitFor } from './helpers/wsgi-host.js';

const skip = haveOpenssl() ? false : 'openssl is not installed (apt-get install openssl)';
const MB = 1024 * 1024;
const FRONT_END_GROWTH_LIMIT = 64 * MB;
const MAX_PIPELINED = 4;

function pattern(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

describe('HTTP/2 over TLS: the same routing, rules, limits, flow control and access log as HTTP/1.1', { skip }, () => {
  const t = tempDir();
  let host: WsgiHost;
  let port: number;
  let session: ClientHttp2Session;
  let marks: string;
  let venv: string;

  const mark = (name: string): number | undefined => {
    try {
      return Number(readFileSync(join(marks, name), 'utf8'));
    } catch {
      return undefined;
    }
  };

  before(async () => {
    makeCertificate(t.dir, 'site', ['localhost', '127.0.0.1']);
    venv = makeVenv(join(t.dir, 'venv'));
    marks = join(t.dir, 'marks');
    mkdirSync(marks);
    t.file('app.wsgi', TLS_APP);
    t.file('files/hello.txt', 'hello from a static file\n');
    const toml = t.file(
      'h2.toml',
      `listen = [{ host = "127.0.0.1", port = 0, tls = { certificate = "site.crt", private-key = "site.key" } }]
python-home = "${venv}"
[admin]
listen = "off"
[log]
access = "-"
[limits]
max-pipelined = ${MAX_PIPELINED}
max-header-count = 30
max-body-size = ${16 * MB}
[default-group]
processes = 1
threads = 8
env = { MARKS = "${marks}" }
[[mount]]
path = "/"
script = "app.wsgi"
[[static]]
path = "/files"
directory = "files"
`,
    );
    const started = await WsgiHost.serveListeners(['-c', toml], 1, { cwd: t.dir });
    host = started.host;
    port = Number(new URL(started.listeners[0] as string).port);
    session = await h2Session(port);
  });
  after(async () => {
    session?.close();
    await host?.stop();
    t.cleanup();
  });

  test('a stream gets the environ HTTP/1.1 gives: :authority as HTTP_HOST, :path as REQUEST_URI, SERVER_PROTOCOL HTTP/2.0, cookies joined with "; ", no pseudo-headers; the access log says HTTP/2.0', async () => {
    const r = await h2Request(session, { ':path': '/env?x=1', cookie: ['a=1', 'b=2'], 'x-thing': 'yes' });
    assert.equal(r.status, 200);
    assert.ok(r.headers['x-request-id'], 'X-Request-Id as on HTTP/1.1');
    assert.equal(r.headers.connection, undefined, 'no connection-specific header on HTTP/2');
    const env = JSON.parse(r.text) as Record<string, string>;
    assert.equal(env.SERVER_PROTOCOL, 'HTTP/2.0');
    assert.equal(env.REQUEST_METHOD, 'GET');
    // node:http2's client sends its servername ('localhost') as :authority.
    assert.equal(env.HTTP_HOST, `localhost:${port}`);
    assert.equal(env.SERVER_NAME, 'localhost');
    assert.equal(env.SERVER_PORT, String(port));
    assert.equal(env.REQUEST_URI, '/env?x=1');
    assert.equal(env.PATH_INFO, '/env');
    assert.equal(env.QUERY_STRING, 'x=1');
    assert.equal(env.HTTP_COOKIE, 'a=1; b=2');
    assert.equal(env.HTTP_X_THING, 'yes');
    assert.equal(env['wsgi.url_scheme'], 'https');
    assert.deepEqual(
      Object.keys(env).filter((k) => k.includes(':') || /^HTTP_(METHOD|PATH|SCHEME|AUTHORITY)$/.test(k)),
      [],
      'pseudo-headers never reach the environ',
    );
    await waitFor(() => host.stdout.join('').includes('"GET /env?x=1 HTTP/2.0" 200'), 5000, 'the access log line');
  });

  test('the request rules hold: Host against :authority, header count and size (431), the path, CONNECT; the session serves on', async () => {
    const status = async (headers: Record<string, string | string[]>): Promise<number> => (await h2Request(session, headers)).status;
    const authority = `localhost:${port}`;
    assert.equal(await status({ ':path': '/', ':authority': authority, host: 'other.test' }), 400, 'a Host naming another host than :authority');
    assert.equal(await status({ ':path': '/', ':authority': authority, host: authority }), 200, 'the same host in both');
    assert.equal(await status({ ':path': '/', ':authority': 'user@localhost' }), 400, 'an :authority with userinfo');
    const many: Record<string, string> = { ':path': '/' };
    for (let i = 0; i < 31; i++) many[`x-h-${i}`] = 'v';
    assert.equal(await status(many), 431, 'more fields than max-header-count');
    assert.equal(await status({ ':path': '/', 'x-big': 'x'.repeat(20 * 1024) }), 431, 'fields over max-header-size');
    assert.equal(await status({ ':path': '/a/../../etc/passwd' }), 400, 'a path above the root');
    assert.equal(await status({ ':path': '/a/..%2F..%2Fetc' }), 404, 'an encoded slash (allow-encoded-slashes off)');
    assert.equal(await status({ ':method': 'OPTIONS', ':path': '*' }), 200);
    assert.equal(await status({ ':method': 'CONNECT', ':authority': 'example.com:443' }), 405);
    assert.equal(await status({ ':path': '/' }), 200, 'the session serves on');
  });

  test('static files: whole, ranged and conditional, as on HTTP/1.1', async () => {
    const whole = await h2Request(session, { ':path': '/files/hello.txt' });
    assert.equal(whole.status, 200);
    assert.equal(whole.text, 'hello from a static file\n');
    assert.equal(whole.headers['content-length'], '25');
    assert.equal(whole.headers['content-type'], 'text/plain; charset=utf-8');
    const range = await h2Request(session, { ':path': '/files/hello.txt', range: 'bytes=6-9' });
    assert.equal(range.status, 206);
    assert.equal(range.text, 'from');
    const again = await h2Request(session, { ':path': '/files/hello.txt', 'if-none-match': String(whole.headers.etag) });
    assert.equal(again.status, 304);
    assert.equal((await h2Request(session, { ':path': '/files/missing.txt' })).status, 404);
    assert.equal((await h2Request(session, { ':method': 'DELETE', ':path': '/files/hello.txt' })).status, 405);
  });

  test('request bodies stream with or without Content-Length, responses of any size: intact', async () => {
    for (const withLength of [true, false]) {
      const size = 8 * MB + 17;
      const block = pattern(64 * 1024);
      const hash = createHash('sha256');
      async function* body(): AsyncGenerator<Buffer> {
        for (let sent = 0; sent < size; sent += block.length) {
          const b = block.subarray(0, Math.min(block.length, size - sent));
          hash.update(b);
          yield b;
        }
      }
      const headers = { ':method': 'POST', ':path': '/upload', ...(withLength ? { 'content-length': String(size) } : {}) };
      const r = await h2Request(session, headers, body(), 60_000);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(JSON.parse(r.text), { length: size, sha256: hash.digest('hex') }, withLength ? 'with Content-Length' : 'without');
    }
    const size = 32 * MB + 5;
    const r = await h2Request(session, { ':path': `/download?${size}` }, undefined, 60_000);
    assert.equal(r.body.length, size);
    const expected = createHash('sha256');
    const block = Buffer.from('0123456789abcdef'.repeat(4096));
    for (let sent = 0; sent < size; sent += block.length) expected.update(block.subarray(0, Math.min(block.length, size - sent)));
    assert.equal(createHash('sha256').update(r.body).digest('hex'), expected.digest('hex'));
  });

  test('Expect: 100-continue: the client hears 100 when the application reads; max-body-size answers 413 and resets the stream, not the session', async () => {
    const continued = await new Promise<{ status: number; text: string; sawContinue: boolean }>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/upload', 'content-length': '5', expect: '100-continue' });
      let sawContinue = false;
      let status = 0;
      let text = '';
      stream.on('continue', () => {
        sawContinue = true;
        stream.end('hello');
      });
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (text += d));
      stream.on('close', () => resolve({ status, text, sawContinue }));
      stream.on('error', reject);
      setTimeout(() => reject(new Error('no answer within 10 s')), 10_000).unref();
    });
    assert.ok(continued.sawContinue);
    assert.equal(continued.status, 200);
    assert.equal(JSON.parse(continued.text).length, 5);
    const declared = await h2Request(session, { ':method': 'POST', ':path': '/upload', 'content-length': String(64 * MB) }, pattern(64 * 1024));
    assert.equal(declared.status, 413, 'a Content-Length over max-body-size');
    const big = pattern(MB);
    async function* endless(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 64; i++) yield big;
    }
    const streamed = await h2Request(session, { ':method': 'POST', ':path': '/upload' }, endless(), 30_000);
    assert.equal(streamed.status, 413, 'a body without Content-Length that grows over max-body-size');
    assert.equal((await h2Request(session, { ':path': '/' })).status, 200, 'the session serves on');
  });

  test(`streams of one session: ${MAX_PIPELINED} (max-pipelined) in service at once, the others wait their turn; SETTINGS_MAX_CONCURRENT_STREAMS is 100`, async () => {
    assert.equal(session.remoteSettings.maxConcurrentStreams, 100);
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 12 }, () => h2Request(session, { ':path': '/slow?300' })));
    const elapsed = Date.now() - started;
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(12).fill(200),
    );
    const atOnce = answers.map((a) => Number(a.text));
    assert.ok(Math.max(...atOnce) <= MAX_PIPELINED, `at most ${MAX_PIPELINED} ran at once (saw ${Math.max(...atOnce)})`);
    assert.ok(Math.max(...atOnce) >= 2, `streams do run at once (saw ${Math.max(...atOnce)})`);
    assert.ok(elapsed >= 3 * 300 - 50, `12 streams of 300 ms, 4 at a time, take at least 900 ms (${elapsed} ms)`);
  });

  test('RST_STREAM cancels a request as a client disconnect does: close() runs, the thread is free; a stream reset while waiting never reaches the application', async () => {
    rmSync(join(marks, 'endless-closed'), { force: true });
    await new Promise<void>((resolve, reject) => {
      const stream = session.request({ ':path': '/endless' });
      let n = 0;
      stream.on('data', (c: Buffer) => {
        n += c.length;
        if (n > 4 * MB && !stream.closed) {
          stream.close(constants.NGHTTP2_CANCEL);
          resolve();
        }
      });
      stream.on('error', () => undefined);
      setTimeout(() => reject(new Error('no data within 10 s')), 10_000).unref();
    });
    await waitFor(() => mark('endless-closed') === 1, 10_000, "the endless iterable's close()");
    // max-pipelined slow streams take the session's turns; a stream behind them is reset while it waits.
    rmSync(join(marks, 'tracked'), { force: true });
    const slow = Array.from({ length: MAX_PIPELINED }, () => h2Request(session, { ':path': '/slow?1000' }));
    await new Promise((r) => setTimeout(r, 200));
    const waiting: ClientHttp2Stream = session.request({ ':path': '/tracked?65536' });
    waiting.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 200));
    waiting.close(constants.NGHTTP2_CANCEL);
    assert.deepEqual(
      (await Promise.all(slow)).map((a) => a.status),
      Array(MAX_PIPELINED).fill(200),
    );
    assert.equal((await h2Request(session, { ':path': '/' })).status, 200);
    assert.equal(mark('tracked'), undefined, 'the reset stream was never handed to the application');
  });

  test(`a stream whose client stops reading pauses the application; other streams of the session flow; the front end grows < ${FRONT_END_GROWTH_LIMIT / MB} MB`, async () => {
    rmSync(join(marks, 'tracked'), { force: true });
    const total = 128 * MB;
    const base = await rssBytes(host.pid);
    let peak = base;
    const sampler = setInterval(() => {
      void rssBytes(host.pid).then((v) => (peak = Math.max(peak, v)));
    }, 25);
    try {
      const stream = session.request({ ':path': `/tracked?${total}` });
      let received = 0;
      stream.on('data', (c: Buffer) => (received += c.length));
      await waitFor(() => received > 0, 10_000, 'the first bytes');
      stream.pause();
      await new Promise((r) => setTimeout(r, 1500));
      const whilePaused = mark('tracked') ?? 0;
      assert.equal((await h2Request(session, { ':path': '/' })).status, 200, 'another stream of the session is served meanwhile');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(mark('tracked') ?? 0, whilePaused, 'the iterator made no progress while the stream was not read');
      assert.ok(whilePaused < 32 * MB, `only a bounded window was produced ahead (${(whilePaused / MB).toFixed(1)} MB of 128)`);
      await new Promise<void>((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('error', reject);
        stream.resume();
        setTimeout(() => reject(new Error('the rest did not arrive within 60 s')), 60_000).unref();
      });
      assert.equal(received, total, 'everything arrived once the client read again');
    } finally {
      clearInterval(sampler);
    }
    const growth = peak - base;
    assert.ok(growth < FRONT_END_GROWTH_LIMIT, `front end grew ${(growth / MB).toFixed(1)} MB`);
  });
});

describe('HTTP/2 and SIGTERM: GOAWAY, the streams in flight finish', { skip }, () => {
  const t = tempDir();
  after(() => t.cleanup());

  test('SIGTERM: the session hears GOAWAY at once, the stream in flight gets its 200, the server exits 0', async () => {
    makeCertificate(t.dir, 'site', ['localhost']);
    const venv = makeVenv(join(t.dir, 'venv'));
    t.file('app.wsgi', TLS_APP);
    const host = await WsgiHost.serve(
      [join(t.dir, 'app.wsgi'), '--python-home', venv, '--certificate', 'site.crt', '--private-key', 'site.key', '--admin', 'off'],
      {
        cwd: t.dir,
      },
    );
    const session = await h2Session(Number(new URL(host.url).port));
    try {
      let goaway = 0;
      session.on('goaway', () => (goaway = Date.now()));
      const inFlight = h2Request(session, { ':path': '/slow?1500' });
      await new Promise((r) => setTimeout(r, 300));
      const sent = Date.now();
      host.child.kill('SIGTERM');
      await waitFor(() => goaway > 0, 5000, 'GOAWAY');
      assert.ok(goaway - sent < 1000, `GOAWAY came within a second (${goaway - sent} ms)`);
      const r = await inFlight;
      assert.equal(r.status, 200);
      assert.equal(r.text, '1');
      const exit = await host.exited();
      assert.equal(exit.code, 0);
    } finally {
      session.destroy();
      await host.stop();
    }
  });
});
