import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, get as httpGet, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sendError } from '../src/http/error-response.js';
import { parseRequestTarget, percentDecode } from '../src/http/request-target.js';
import { serveStatic, type StaticAlias } from '../src/http/static-files.js';
import { parseRaw, rawRequest, request, type Response } from './helpers/http.js';
import { tempDir } from './helpers/tmp.js';

const PREFIX = '/static';
const SECRET = 'TOP SECRET, outside the alias';
const BIG = 20 * 1024 * 1024;

const tmp = tempDir('wsgi-host-static-');
const dir = join(tmp.dir, 'static');
// Dotfiles are served here: these tests are about types, ranges and containment (test/static-dotfiles covers the policy).
const alias: StaticAlias = { directory: dir, dotfiles: 'allow' };
let server: Server;
let base = '';
let bigSha = '';

/** The router's job, done here as the front end does it: normalize, prefix match at a segment boundary. */
function route(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url as string;
  // Test-only door for hostile sub-paths that normalization would never produce.
  if (url.startsWith('/direct?')) {
    serveStatic(req, res, alias, percentDecode(url.slice('/direct?'.length)) as string, '/direct');
    return;
  }
  const target = parseRequestTarget(url);
  if (typeof target === 'string') return sendError(res, 400);
  const p = target.path;
  if (p === PREFIX || p.startsWith(PREFIX + '/')) serveStatic(req, res, alias, p.slice(PREFIX.length), url);
  else sendError(res, 404);
}

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  return request(base + path, { method, headers });
}

/** Sends the request line exactly as written (no client normalization). */
async function raw(path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return parseRaw(await rawRequest(base, `${method} ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`));
}

function file(rel: string, content: string | Buffer): void {
  mkdirSync(join(dir, rel, '..'), { recursive: true });
  writeFileSync(join(dir, rel), content);
}

const TYPES: [string, string][] = [
  ['page.html', 'text/html; charset=utf-8'],
  ['style.css', 'text/css; charset=utf-8'],
  ['app.js', 'text/javascript; charset=utf-8'],
  ['mod.mjs', 'text/javascript; charset=utf-8'],
  ['data.json', 'application/json'],
  ['app.js.map', 'application/json'],
  ['logo.svg', 'image/svg+xml'],
  ['pic.png', 'image/png'],
  ['UPPER.PNG', 'image/png'],
  ['photo.jpg', 'image/jpeg'],
  ['photo.jpeg', 'image/jpeg'],
  ['anim.gif', 'image/gif'],
  ['img.webp', 'image/webp'],
  ['img.avif', 'image/avif'],
  ['favicon.ico', 'image/x-icon'],
  ['font.woff', 'font/woff'],
  ['font.woff2', 'font/woff2'],
  ['font.ttf', 'font/ttf'],
  ['font.otf', 'font/otf'],
  ['notes.txt', 'text/plain; charset=utf-8'],
  ['feed.xml', 'application/xml'],
  ['doc.pdf', 'application/pdf'],
  ['mod.wasm', 'application/wasm'],
  ['clip.mp4', 'video/mp4'],
  ['clip.webm', 'video/webm'],
  ['song.mp3', 'audio/mpeg'],
  ['song.ogg', 'audio/ogg'],
  ['bundle.zip', 'application/zip'],
  ['bundle.tar.gz', 'application/gzip'],
  ['table.csv', 'text/csv; charset=utf-8'],
  ['README.md', 'text/markdown; charset=utf-8'],
  ['blob.unknownext', 'application/octet-stream'],
  ['noextension', 'application/octet-stream'],
  ['.hidden', 'application/octet-stream'],
  ['x.constructor', 'application/octet-stream'],
];

before(async () => {
  mkdirSync(dir);
  writeFileSync(join(tmp.dir, 'secret'), SECRET);
  mkdirSync(join(tmp.dir, 'secretdir'));
  writeFileSync(join(tmp.dir, 'secretdir', 'index.html'), SECRET);
  for (const [name] of TYPES) file(name, `content of ${name}`);
  file('hello.txt', 'hello, static\n');
  file('digits.txt', '0123456789');
  file('empty.txt', '');
  file('index.html', '<h1>root</h1>');
  file('sub/index.html', '<h1>sub</h1>');
  file('sub/deeper/file.txt', 'deep');
  file('caf\u00e9.txt', 'utf-8 name');
  mkdirSync(join(dir, 'emptydir'));
  mkdirSync(join(dir, 'dirindex/index.html'), { recursive: true });
  symlinkSync('hello.txt', join(dir, 'inside-link.txt'));
  symlinkSync('sub', join(dir, 'inside-dir'));
  symlinkSync('../secret', join(dir, 'escape.txt'));
  symlinkSync(join(tmp.dir, 'secret'), join(dir, 'abs-escape.txt'));
  symlinkSync('..', join(dir, 'up'));
  symlinkSync('../secretdir', join(dir, 'secretdir'));
  symlinkSync('missing-target', join(dir, 'dangling'));
  const big = randomBytes(BIG);
  bigSha = createHash('sha256').update(big).digest('hex');
  file('big.bin', big);
  file('shrinking.bin', big);
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
  tmp.cleanup();
});

describe('content and types', () => {
  test('each extension gets its Content-Type; nosniff and Accept-Ranges on every file', async () => {
    for (const [name, type] of TYPES) {
      const r = await get(`${PREFIX}/${name}`);
      assert.equal(r.status, 200, name);
      assert.equal(r.headers['content-type'], type, name);
      assert.equal(r.text, `content of ${name}`);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['accept-ranges'], 'bytes');
      assert.equal(r.headers['cache-control'], undefined);
    }
  });

  test('body and Content-Length; an empty file', async () => {
    const r = await get(`${PREFIX}/hello.txt`);
    assert.equal(r.text, 'hello, static\n');
    assert.equal(r.headers['content-length'], '14');
    const e = await get(`${PREFIX}/empty.txt`);
    assert.equal(e.status, 200);
    assert.equal(e.headers['content-length'], '0');
    assert.equal(e.text, '');
  });

  test('a UTF-8 file name, percent-encoded; bytes that are not UTF-8 are a 404', async () => {
    const r = await get(`${PREFIX}/caf%C3%A9.txt`);
    assert.equal(r.status, 200);
    assert.equal(r.text, 'utf-8 name');
    assert.equal((await get(`${PREFIX}/caf%E9.txt`)).status, 404);
  });

  test('a 20 MB file is streamed intact', async () => {
    const r = await get(`${PREFIX}/big.bin`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String(BIG));
    assert.equal(r.body.length, BIG);
    assert.equal(createHash('sha256').update(r.body).digest('hex'), bigSha);
  });
});

describe('validators and 304', () => {
  test('ETag and Last-Modified; If-None-Match and If-Modified-Since give 304 with no body', async () => {
    const r = await get(`${PREFIX}/hello.txt`);
    const etag = r.headers.etag as string;
    const lastModified = r.headers['last-modified'] as string;
    assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(lastModified, new Date(statSync(join(dir, 'hello.txt')).mtimeMs).toUTCString());

    for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, `"a" ,W/${etag} , "b"`, '*']) {
      const c = await get(`${PREFIX}/hello.txt`, { 'If-None-Match': inm });
      assert.equal(c.status, 304, inm);
      assert.equal(c.body.length, 0);
      assert.equal(c.headers.etag, etag);
      assert.equal(c.headers['content-length'], undefined);
    }
    assert.equal((await get(`${PREFIX}/hello.txt`, { 'If-None-Match': '"other"' })).status, 200);

    assert.equal((await get(`${PREFIX}/hello.txt`, { 'If-Modified-Since': lastModified })).status, 304);
    const later = new Date(Date.parse(lastModified) + 3600_000).toUTCString();
    assert.equal((await get(`${PREFIX}/hello.txt`, { 'If-Modified-Since': later })).status, 304);
    const earlier = new Date(Date.parse(lastModified) - 3600_000).toUTCString();
    assert.equal((await get(`${PREFIX}/hello.txt`, { 'If-Modified-Since': earlier })).status, 200);
    assert.equal((await get(`${PREFIX}/hello.txt`, { 'If-Modified-Since': 'not a date' })).status, 200);

    // If-None-Match decides when present (RFC 9110 13.2.2), even against a matching date.
    const both = await get(`${PREFIX}/hello.txt`, { 'If-None-Match': '"other"', 'If-Modified-Since': lastModified });
    assert.equal(both.status, 200);
    assert.equal(both.text, 'hello, static\n');

    const head = await get(`${PREFIX}/hello.txt`, { 'If-None-Match': etag }, 'HEAD');
    assert.equal(head.status, 304);
  });

  test('a changed file gets a new ETag', async () => {
    file('changing.txt', 'one');
    const a = await get(`${PREFIX}/changing.txt`);
    file('changing.txt', 'three');
    const b = await get(`${PREFIX}/changing.txt`, { 'If-None-Match': a.headers.etag as string });
    assert.equal(b.status, 200);
    assert.equal(b.text, 'three');
    assert.notEqual(b.headers.etag, a.headers.etag);
  });
});

describe('ranges', () => {
  const path = `${PREFIX}/digits.txt`;

  test('single ranges give 206 with Content-Range', async () => {
    const cases: [string, string, string][] = [
      ['bytes=0-4', '01234', 'bytes 0-4/10'],
      ['bytes=3-3', '3', 'bytes 3-3/10'],
      ['bytes=5-', '56789', 'bytes 5-9/10'],
      ['bytes=-3', '789', 'bytes 7-9/10'],
      ['bytes=-30', '0123456789', 'bytes 0-9/10'],
      ['bytes=8-1000', '89', 'bytes 8-9/10'],
      ['BYTES=1-2', '12', 'bytes 1-2/10'],
    ];
    for (const [range, body, contentRange] of cases) {
      const r = await get(path, { Range: range });
      assert.equal(r.status, 206, range);
      assert.equal(r.text, body, range);
      assert.equal(r.headers['content-range'], contentRange, range);
      assert.equal(r.headers['content-length'], String(body.length), range);
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    }
  });

  test('unsatisfiable ranges give 416 with bytes */size', async () => {
    for (const range of ['bytes=10-', 'bytes=10-20', 'bytes=-0', 'bytes=99999999999999999999-']) {
      const r = await get(path, { Range: range });
      assert.equal(r.status, 416, range);
      assert.equal(r.headers['content-range'], 'bytes */10', range);
    }
    const empty = await get(`${PREFIX}/empty.txt`, { Range: 'bytes=0-' });
    assert.equal(empty.status, 416);
    assert.equal(empty.headers['content-range'], 'bytes */0');
  });

  test('several ranges, other units and malformed headers get the whole file', async () => {
    for (const range of ['bytes=0-1,3-4', 'bytes=5-2', 'items=0-1', 'bytes=a-b', 'bytes=-', 'bytes 0-1']) {
      const r = await get(path, { Range: range });
      assert.equal(r.status, 200, range);
      assert.equal(r.text, '0123456789');
      assert.equal(r.headers['content-range'], undefined);
    }
  });

  test('If-Range with the ETag or the date is honoured; anything else gets the whole file', async () => {
    const first = await get(path);
    const etag = first.headers.etag as string;
    const date = first.headers['last-modified'] as string;
    const ok = async (ifRange: string, status: number): Promise<void> => {
      const r = await get(path, { Range: 'bytes=0-1', 'If-Range': ifRange });
      assert.equal(r.status, status, ifRange);
      assert.equal(r.text, status === 206 ? '01' : '0123456789');
    };
    await ok(etag, 206);
    await ok(date, 206);
    await ok('"stale"', 200);
    await ok(`W/${etag}`, 200);
    await ok(new Date(Date.parse(date) - 1000).toUTCString(), 200);
  });

  test('a range in the middle of the big file', async () => {
    const r = await get(`${PREFIX}/big.bin`, { Range: `bytes=${BIG / 2}-${BIG / 2 + 99_999}` });
    assert.equal(r.status, 206);
    assert.equal(r.body.length, 100_000);
    assert.equal(r.headers['content-range'], `bytes ${BIG / 2}-${BIG / 2 + 99_999}/${BIG}`);
  });

  test('HEAD ignores Range', async () => {
    const r = await get(path, { Range: 'bytes=0-1' }, 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], '10');
  });
});

describe('methods', () => {
  test('HEAD: the GET headers, no body', async () => {
    const g = await get(`${PREFIX}/hello.txt`);
    const h = await get(`${PREFIX}/hello.txt`, {}, 'HEAD');
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
    for (const name of ['content-type', 'content-length', 'etag', 'last-modified', 'accept-ranges', 'x-content-type-options']) {
      assert.equal(h.headers[name], g.headers[name], name);
    }
    assert.equal((await get(`${PREFIX}/missing`, {}, 'HEAD')).status, 404);
  });

  test('other methods get 405 with Allow: GET, HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const r = await get(`${PREFIX}/hello.txt`, {}, method);
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
    const upload = await request(`${base}${PREFIX}/hello.txt`, { method: 'POST', body: Buffer.alloc(1024 * 1024) });
    assert.equal(upload.status, 405);
  });
});

describe('directories', () => {
  test('a directory with index.html serves it; without the slash, 301 to the slash form', async () => {
    const r = await get(`${PREFIX}/sub/`);
    assert.equal(r.status, 200);
    assert.equal(r.text, '<h1>sub</h1>');
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');

    const cases: [string, string][] = [
      [`${PREFIX}/sub`, `${PREFIX}/sub/`],
      [`${PREFIX}/sub?a=1&b=%2F`, `${PREFIX}/sub/?a=1&b=%2F`],
      [PREFIX, `${PREFIX}/`],
      [`${PREFIX}/inside-dir`, `${PREFIX}/inside-dir/`],
    ];
    for (const [from, to] of cases) {
      const m = await get(from);
      assert.equal(m.status, 301, from);
      assert.equal(m.headers.location, to, from);
    }
    assert.equal((await get(`${PREFIX}/`)).text, '<h1>root</h1>');
    assert.equal((await get(`${PREFIX}/inside-dir/`)).text, '<h1>sub</h1>');
  });

  test('the redirect is built from the normalized path, never a raw one that names another host', async () => {
    const r = await raw(`//evil.example/../static/sub`);
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/static/sub/');
  });

  test('a directory without index.html is 403, with or without the slash', async () => {
    for (const p of ['/emptydir/', '/emptydir', '/sub/deeper/', '/dirindex/']) {
      assert.equal((await get(PREFIX + p)).status, 403, p);
    }
  });

  test('a file with a trailing slash is 404', async () => {
    assert.equal((await get(`${PREFIX}/hello.txt/`)).status, 404);
    assert.equal((await get(`${PREFIX}/inside-link.txt/`)).status, 404);
  });
});

describe('not found and escapes', () => {
  test('missing files are 404 with a short text page', async () => {
    for (const p of ['/missing.txt', '/sub/missing/', '/hello.txt/more', '/dangling']) {
      const r = await get(PREFIX + p);
      assert.equal(r.status, 404, p);
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
      assert.match(r.text, /^404 Not Found/);
    }
  });

  test('a symlink inside the directory is served; one resolving outside is 404', async () => {
    const inside = await get(`${PREFIX}/inside-link.txt`);
    assert.equal(inside.status, 200);
    assert.equal(inside.text, 'hello, static\n');
    assert.equal((await get(`${PREFIX}/inside-dir/deeper/file.txt`)).text, 'deep');
    for (const p of ['/escape.txt', '/abs-escape.txt', '/up/secret', '/secretdir/', '/secretdir']) {
      const r = await get(PREFIX + p);
      assert.equal(r.status, 404, p);
      assert.ok(!r.text.includes(SECRET));
    }
  });

  test('%2F or %5C in the raw path is 404 (AllowEncodedSlashes Off)', async () => {
    for (const p of ['/sub%2Findex.html', '/sub%2findex.html', '/sub%5Cindex.html', '/sub%5cindex.html', '/..%2fsecret', '/..%5Csecret']) {
      const r = await raw(PREFIX + p);
      assert.equal(r.status, 404, p);
      assert.ok(!r.body.includes(SECRET));
    }
    // A query string may carry an encoded slash.
    assert.equal((await get(`${PREFIX}/hello.txt?next=%2Fhome`)).status, 200);
  });

  test('traversal attempts sent raw never reach the secret', async () => {
    for (const p of [
      '/static/../secret',
      '/static/%2e%2e/secret',
      '/static/%2E%2E/secret',
      '/static/..%2fsecret',
      '/static/.%2e/secret',
      '/static/../../secret',
      '/static/./../secret',
      '/static/sub/../../secret',
      '/static/%252e%252e/secret',
      '/static/..\\secret',
    ]) {
      const r = await raw(p);
      assert.ok(r.status === 400 || r.status === 404, `${p}: ${r.status}`);
      assert.ok(!r.body.includes(SECRET), p);
    }
    // Dot segments inside the alias stay inside it.
    const r = await raw('/static/sub/../hello.txt');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello, static\n');
  });

  test('sub-paths normalization would never produce are refused anyway', async () => {
    for (const sub of ['/../secret', '/sub/../../secret', '/..', '/.', '/a\\..\\secret', '/hello.txt\0.png', 'hello.txt', '/../static/hello.txt']) {
      const r = await get(`/direct?${encodeURIComponent(sub)}`);
      assert.equal(r.status, 404, sub);
      assert.ok(!r.text.includes(SECRET));
    }
    assert.equal((await get(`/direct?${encodeURIComponent('/hello.txt')}`)).text, 'hello, static\n');
  });

  test('a FIFO is 404 and does not hang', { skip: !existsSync('/usr/bin/mkfifo') && !existsSync('/bin/mkfifo') }, async () => {
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const r = await get(`${PREFIX}/pipe`);
    assert.equal(r.status, 404);
  });
});

describe('streaming failures', () => {
  test('a file that shrinks while it is sent cuts the (keep-alive) connection instead of ending short', async () => {
    const port = Number(new URL(base).port);
    const received = await new Promise<number>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write(`GET ${PREFIX}/shrinking.bin HTTP/1.1\r\nHost: test\r\n\r\n`));
      let bytes = 0;
      s.on('data', (c: Buffer) => {
        if (bytes === 0) {
          s.pause();
          truncateSync(join(dir, 'shrinking.bin'), 1000);
          setTimeout(() => s.resume(), 50);
        }
        bytes += c.length;
      });
      s.on('error', () => {});
      s.on('close', () => {
        clearTimeout(timer);
        resolve(bytes);
      });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`the server kept the connection open after ${bytes} bytes of ${BIG}`));
      }, 5000);
    });
    assert.ok(received < BIG, `${received} bytes`);
  });

  test('clients that go away mid-download leave no file descriptors open', { skip: !existsSync('/proc/self/fd') }, async () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const baseline = fds();
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const req = httpGet(`${base}${PREFIX}/big.bin`, { agent: false }, (res) => {
          res.once('data', () => req.destroy());
          res.on('error', () => {});
          res.on('close', () => resolve());
        });
        req.on('error', () => {});
        req.on('close', () => resolve());
      });
    }
    const deadline = Date.now() + 5000;
    while (fds() > baseline && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(fds() <= baseline, `${fds()} descriptors open, ${baseline} before`);
  });
});
