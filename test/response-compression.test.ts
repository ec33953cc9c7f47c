import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { brotliDecompressSync, createGunzip, gunzipSync } from 'node:zlib';
import { request } from './helpers/http.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor, WsgiHost } from './helpers/wsgi-host.js';

/**
 * Response compression (`compress` on a mount and on a static alias), with real clients: Node's
 * http client decompressing with zlib, curl --compressed, raw sockets for backpressure. What must
 * never be compressed is checked one by one.
 */

const APP = String.raw`
import gzip, hashlib, os, time
MARKS = os.environ["MARKS"]
HTML = b"<p>hello, compressed world</p>\n"

def text(n):
    return (HTML * (n // len(HTML) + 1))[:n]

def progress(name, value):
    tmp = os.path.join(MARKS, name + ".tmp")
    with open(tmp, "w") as f:
        f.write(str(value))
    os.replace(tmp, os.path.join(MARKS, name))

RANDOM = os.urandom(1 << 20)

def application(environ, start_response):
    p = environ["PATH_INFO"]
    q = environ["QUERY_STRING"]
    if p == "/text":
        body = text(int(q or "20000"))
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]
    if p == "/chunks":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"n": [' + b",".join(str(i).encode() for i in range(2000)) + b"]}"] * 5
    if p == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        def gen():
            for i in range(3):
                yield ("part %d " % i).encode() + b"." * 2000 + b"\n"
                if i < 2:
                    time.sleep(0.8)
        return gen()
    if p == "/small":
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<p>tiny</p>"]
    if p == "/encoded":
        body = gzip.compress(text(20000))
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))])
        return [body]
    if p == "/range":
        body = text(1000)
        start_response("206 Partial Content", [("Content-Type", "text/html"), ("Content-Range", "bytes 0-999/20000"), ("Content-Length", "1000")])
        return [body]
    if p == "/notransform":
        start_response("200 OK", [("Content-Type", "text/html"), ("Cache-Control", "public, no-transform")])
        return [text(20000)]
    if p == "/png":
        start_response("200 OK", [("Content-Type", "image/png")])
        return [RANDOM[:20000]]
    if p == "/vary":
        start_response("200 OK", [("Content-Type", "text/html"), ("Vary", "Cookie"), ("ETag", '"v1"')])
        return [text(20000)]
    if p == "/notmodified":
        start_response("304 Not Modified", [("ETag", '"v1"')])
        return []
    if p == "/nocontent":
        start_response("204 No Content", [])
        return []
    if p == "/file":
        path = os.path.join(MARKS, "big.css")
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(b".rule { color: red; }\n" * 20000)
        start_response("200 OK", [("Content-Type", "text/css"), ("Content-Length", str(os.path.getsize(path)))])
        return environ["wsgi.file_wrapper"](open(path, "rb"))
    if p == "/incompressible":
        total = int(q)
        start_response("200 OK", [("Content-Type", "text/plain")])
        def gen():
            h = hashlib.sha256()
            sent = 0
            while sent < total:
                block = RANDOM[sent % len(RANDOM):][:65536]
                h.update(block)
                sent += len(block)
                if (sent // 65536) % 8 == 0:
                    progress("produced", sent)
                yield block
            progress("produced", sent)
            progress("sha256", h.hexdigest())
        return gen()
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no"]
`;

const HTML = '<p>hello, compressed world</p>\n';
const text = (n: number): string => HTML.repeat(Math.ceil(n / HTML.length) + 1).slice(0, n);

const MB = 1024 * 1024;

describe('response compression (compress on a mount and a static alias)', () => {
  const t = tempDir();
  let host: WsgiHost;
  let marks: string;
  let accessLog: string;

  before(async () => {
    marks = join(t.dir, 'marks');
    mkdirSync(marks);
    accessLog = join(t.dir, 'access.log');
    t.file('app.wsgi', APP);
    t.file('static/style.css', '.rule { color: blue; }\n'.repeat(3000));
    t.file('static/tiny.css', '.a{}\n');
    t.file('static/logo.png', 'x'.repeat(5000));
    const config = t.file(
      'site.toml',
      `
[log]
access = "${accessLog}"
access-format = "%(h)s \\"%(r)s\\" %(s)s %(b)s"

[[mount]]
script = "app.wsgi"
compress = true

[[mount]]
path = "/plain"
script = "app.wsgi"

[[static]]
path = "/static"
directory = "static"
compress = { types = ["text/css"], min-size = 100, encodings = ["gzip"] }
`,
    );
    host = await WsgiHost.serve(['-c', config], { env: { MARKS: marks } });
  });
  after(async () => {
    await host.stop();
    t.cleanup();
  });

  const get = (path: string, acceptEncoding?: string, more: Record<string, string> = {}, method = 'GET') =>
    request(`${host.url}${path}`, { method, headers: { ...(acceptEncoding !== undefined ? { 'Accept-Encoding': acceptEncoding } : {}), ...more } });

  test('gzip and brotli round-trips, chosen by Accept-Encoding (q-values, the server prefers br on a tie); Content-Length removed, Vary set', async () => {
    const expected = text(20000);
    const gz = await get('/text?20000', 'gzip');
    assert.equal(gz.status, 200);
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers['content-length'], undefined);
    assert.equal(gz.headers['transfer-encoding'], 'chunked');
    assert.equal(gz.headers.vary, 'Accept-Encoding');
    assert.equal(gunzipSync(gz.body).toString(), expected);
    assert.ok(gz.body.length < expected.length / 10, `compressed to ${gz.body.length} bytes`);
    const br = await get('/text?20000', 'gzip, deflate, br');
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(brotliDecompressSync(br.body).toString(), expected);
    assert.equal((await get('/text?20000', 'br;q=0.5, gzip')).headers['content-encoding'], 'gzip');
    assert.equal((await get('/text?20000', 'br;q=0, *')).headers['content-encoding'], 'gzip');
    const none = await get('/text?20000');
    assert.equal(none.headers['content-encoding'], undefined);
    assert.equal(none.headers['content-length'], '20000');
    assert.equal(none.headers.vary, 'Accept-Encoding', 'the response varies by Accept-Encoding even when this one is sent as it is');
    assert.equal(none.text, expected);
    assert.equal((await get('/text?20000', 'identity')).headers['content-encoding'], undefined);
    // A body without Content-Length, in several blocks.
    const chunks = await get('/chunks', 'gzip');
    assert.equal(chunks.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(chunks.body).toString().length, (await get('/chunks')).body.length);
  });

  test('curl --compressed gets the same bytes', async () => {
    const { stdout } = await promisify(execFile)('curl', ['-s', '--compressed', '-D', '-', `${host.url}/text?30000`], { encoding: 'latin1', timeout: 20_000 });
    const [head, ...rest] = stdout.split('\r\n\r\n');
    assert.match(head ?? '', /content-encoding: (br|gzip)/i);
    assert.equal(rest.join('\r\n\r\n'), text(30000));
  });

  test('a streaming response still streams: each block reaches the client, decompressed, as the application yields it', async () => {
    const started = Date.now();
    const arrivals: { at: number; text: string }[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${host.url}/stream`, { headers: { 'Accept-Encoding': 'gzip' }, agent: false }, (res) => {
        assert.equal(res.headers['content-encoding'], 'gzip');
        const gunzip = createGunzip();
        res.pipe(gunzip);
        gunzip.setEncoding('latin1');
        gunzip.on('data', (d: string) => arrivals.push({ at: Date.now() - started, text: d }));
        gunzip.on('end', resolve);
        gunzip.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(15_000, () => req.destroy(new Error('no end within 15 s')));
      req.end();
    });
    const all = arrivals.map((a) => a.text).join('');
    assert.match(all, /^part 0 \.+\npart 1 \.+\npart 2 \.+\n$/);
    const first = arrivals.find((a) => a.text.includes('part 0'));
    const last = arrivals.find((a) => a.text.includes('part 2'));
    assert.ok(first !== undefined && last !== undefined);
    assert.ok(last.at - first.at >= 1200, `the first block arrived ${last.at - first.at} ms before the last (the application sleeps 1.6 s between them)`);
    assert.ok(first.at < last.at - 1200, 'the first block was not held back until the end');
  });

  test('never compressed: HEAD, 204, 304, a range, what the application encoded, Cache-Control: no-transform, small bodies, types not listed, a mount without compress', async () => {
    const head = await get('/text?20000', 'gzip', {}, 'HEAD');
    assert.equal(head.headers['content-encoding'], undefined);
    assert.equal(head.headers.vary, 'Accept-Encoding');
    assert.equal((await get('/nocontent', 'gzip')).headers['content-encoding'], undefined);
    const notModified = await get('/notmodified', 'gzip');
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers['content-encoding'], undefined);
    const range = await get('/range', 'gzip');
    assert.equal(range.status, 206);
    assert.equal(range.headers['content-encoding'], undefined);
    assert.equal(range.text, text(1000));
    const encoded = await get('/encoded', 'gzip, br');
    assert.equal(encoded.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(encoded.body).toString(), text(20000), 'compressed once, by the application');
    const noTransform = await get('/notransform', 'gzip');
    assert.equal(noTransform.headers['content-encoding'], undefined);
    assert.equal(noTransform.text, text(20000));
    const small = await get('/small', 'gzip');
    assert.equal(small.headers['content-encoding'], undefined);
    assert.equal(small.text, '<p>tiny</p>');
    const png = await get('/png', 'gzip');
    assert.equal(png.headers['content-encoding'], undefined);
    assert.equal(png.body.length, 20000);
    const plain = await get('/plain/text?20000', 'gzip');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers.vary, undefined);
  });

  test("Vary merged with the application's, a strong ETag made weak", async () => {
    const r = await get('/vary', 'gzip');
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(r.headers.vary, 'Cookie, Accept-Encoding');
    assert.equal(r.headers.etag, 'W/"v1"');
    const identity = await get('/vary');
    assert.equal(identity.headers.vary, 'Cookie, Accept-Encoding');
    assert.equal(identity.headers.etag, '"v1"');
  });

  test('a wsgi.file_wrapper file (offloaded to the front end) goes through the compressor', async () => {
    const r = await get('/file', 'gzip');
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(r.headers['content-length'], undefined);
    assert.equal(gunzipSync(r.body).toString(), '.rule { color: red; }\n'.repeat(20000));
  });

  test('static files: compressed whole (weak ETag, Vary), a range sent as it is with the strong ETag, If-None-Match with the weak one answers 304', async () => {
    const css = '.rule { color: blue; }\n'.repeat(3000);
    const gz = await get('/static/style.css', 'gzip, br');
    assert.equal(gz.status, 200);
    assert.equal(gz.headers['content-encoding'], 'gzip', 'this alias offers gzip only');
    assert.equal(gz.headers['content-length'], undefined);
    assert.equal(gz.headers['accept-ranges'], undefined);
    assert.equal(gz.headers.vary, 'Accept-Encoding');
    assert.match(gz.headers.etag ?? '', /^W\/"/);
    assert.equal(gunzipSync(gz.body).toString(), css);
    const range = await get('/static/style.css', 'gzip', { Range: 'bytes=0-9' });
    assert.equal(range.status, 206);
    assert.equal(range.headers['content-encoding'], undefined);
    assert.equal(range.text, css.slice(0, 10));
    assert.equal(range.headers.etag, (gz.headers.etag ?? '').slice(2));
    const again = await get('/static/style.css', 'gzip', { 'If-None-Match': gz.headers.etag ?? '' });
    assert.equal(again.status, 304);
    assert.equal(again.headers.vary, 'Accept-Encoding');
    assert.equal(again.headers.etag, gz.headers.etag);
    const identity = await get('/static/style.css');
    assert.equal(identity.headers['content-length'], String(css.length));
    assert.equal(identity.text, css);
    assert.equal((await get('/static/tiny.css', 'gzip')).headers['content-encoding'], undefined);
    assert.equal((await get('/static/logo.png', 'gzip')).headers['content-encoding'], undefined);
    const headCss = await get('/static/style.css', 'gzip', {}, 'HEAD');
    assert.equal(headCss.headers['content-encoding'], undefined);
    assert.equal(headCss.headers['content-length'], String(css.length));
  });

  test('backpressure: a client that stops reading stops the application (the credit follows what the client takes, not what the compressor swallowed)', async () => {
    const total = 96 * MB;
    const sock = connect(Number(new URL(host.url).port), '127.0.0.1');
    sock.write(`GET /incompressible?${total} HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`);
    const parts: Buffer[] = [];
    sock.on('data', (c: Buffer) => parts.push(c));
    await waitFor(() => parts.length > 0, 10_000, 'the first bytes');
    sock.pause();
    const produced = (): number => {
      try {
        return Number(readFileSync(join(marks, 'produced'), 'utf8'));
      } catch {
        return 0;
      }
    };
    await new Promise((r) => setTimeout(r, 1500));
    const whilePaused = produced();
    await new Promise((r) => setTimeout(r, 600));
    // The application writes its mark every 512 KiB: it made no progress beyond that.
    assert.ok(produced() - whilePaused <= 512 * 1024, `the application kept producing while the client did not read (${whilePaused} -> ${produced()})`);
    assert.ok(whilePaused < 32 * MB, `only a bounded window was produced ahead (${(whilePaused / MB).toFixed(1)} MB of ${total / MB})`);
    sock.resume();
    await new Promise<void>((resolve, reject) => {
      sock.on('end', resolve);
      sock.on('error', reject);
      setTimeout(() => reject(new Error('the rest did not arrive within 90 s')), 90_000).unref();
    });
    const raw = Buffer.concat(parts);
    const bodyAt = raw.indexOf('\r\n\r\n') + 4;
    assert.match(raw.subarray(0, bodyAt).toString('latin1'), /content-encoding: gzip/i);
    const body = dechunk(raw.subarray(bodyAt));
    const plain = gunzipSync(body);
    assert.equal(plain.length, total);
    assert.equal(createHash('sha256').update(plain).digest('hex'), readFileSync(join(marks, 'sha256'), 'utf8'));
  });

  test('the access log counts the bytes sent (compressed)', async () => {
    const r = await get('/text?50000', 'gzip', { 'X-Mark': 'log' });
    await waitFor(() => /\/text\?50000/.test(readFileSync(accessLog, 'utf8')), 5000, 'the access log line');
    const line = readFileSync(accessLog, 'utf8')
      .split('\n')
      .find((l) => l.includes('/text?50000'));
    assert.match(line ?? '', new RegExp(` 200 ${r.body.length}$`));
  });
});

/** The payload of a chunked body. */
function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', at);
    const size = Number.parseInt(b.subarray(at, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    out.push(b.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

describe('serve SCRIPT --compress (mod_wsgi-express --compress-responses)', () => {
  const t = tempDir();
  let host: WsgiHost;
  before(async () => {
    const marks = join(t.dir, 'marks');
    mkdirSync(marks);
    host = await WsgiHost.serve([t.file('app.wsgi', APP), '--compress'], { env: { MARKS: marks } });
  });
  after(async () => {
    await host.stop();
    t.cleanup();
  });

  test('the mount compresses with the defaults', async () => {
    const r = await request(`${host.url}/text?20000`, { headers: { 'Accept-Encoding': 'br' } });
    assert.equal(r.headers['content-encoding'], 'br');
    assert.equal(brotliDecompressSync(r.body).toString(), text(20000));
  });
});
