import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseRaw, rawRequest, request } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor, WsgiHost } from './helpers/wsgi-host.js';

const APP = String.raw`
import os, sys

MARKS = os.environ["MARKS"]

def mark(name):
    with open(os.path.join(MARKS, name), "w") as f:
        f.write("1")

class Closing(object):
    def __init__(self, blocks, name, fail_at=None):
        self.blocks = blocks
        self.name = name
        self.fail_at = fail_at
    def __iter__(self):
        for i, b in enumerate(self.blocks):
            if i == self.fail_at:
                raise RuntimeError("failed while streaming")
            yield b
    def close(self):
        mark(self.name)

class NoRead(object):
    """A real file whose read() must never be called: proves the front end sent it."""
    def __init__(self, path):
        self._f = open(path, "rb")
        self.name = path
    def fileno(self):
        return self._f.fileno()
    def tell(self):
        return self._f.tell()
    def seek(self, *a):
        return self._f.seek(*a)
    def read(self, *a):
        raise AssertionError("the worker read the file: the front end did not send it")
    def close(self):
        self._f.close()
        mark("file-closed")

def application(environ, start_response):
    p = environ["PATH_INFO"]
    if p == "/list":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"one ", b"two"]
    if p == "/declared":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return iter([b"12", b"345"])
    if p == "/too-long":
        start_response("200 OK", [("Content-Length", "4")])
        return [b"123456789"]
    if p == "/too-short":
        start_response("200 OK", [("Content-Length", "100")])
        return iter([b"only this"])
    if p == "/generator":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Closing([b"a", b"", b"b", b"c"], "generator-closed")
    if p == "/boom":
        raise ValueError("the application raised")
    if p == "/boom-after-head":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Closing([b"first block", b"never"], "boom-closed", fail_at=1)
    if p == "/bad-header":
        start_response("200 OK", [("X-Evil", "a\r\nSet-Cookie: injected=1")])
        return [b"should not be sent"]
    if p == "/nul-header":
        start_response("200 OK", [("X-Evil", "a\0Set-Cookie\0injected")])
        return [b"should not be sent"]
    if p == "/bad-status":
        start_response("OK", [])
        return [b""]
    if p == "/str-body":
        start_response("200 OK", [])
        return ["text, not bytes"]
    if p == "/exc-info":
        start_response("200 OK", [("X-First", "1")])
        try:
            raise KeyError("late")
        except KeyError:
            start_response("503 Service Unavailable", [("X-Second", "2")], sys.exc_info())
        return [b"replaced"]
    if p == "/no-content":
        start_response("204 No Content", [])
        return [b""]
    if p == "/file":
        path = environ["QUERY_STRING"]
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](NoRead(path), 8192)
    if p == "/file-slice":
        f = open(environ["QUERY_STRING"], "rb")
        f.seek(10)
        start_response("200 OK", [("Content-Length", "20")])
        return environ["wsgi.file_wrapper"](f)
    start_response("404 Not Found", [])
    return [b"no such test"]
`;

describe('responses: lengths, errors, file_wrapper, close()', () => {
  const t = tempDir();
  let host: WsgiHost;
  let marks: string;

  before(async () => {
    const venv = makeVenv(join(t.dir, 'venv'));
    marks = join(t.dir, 'marks');
    (await import('node:fs')).mkdirSync(marks);
    const app = t.file('resp.wsgi', APP);
    host = await WsgiHost.serve([app, '--python-home', venv, '--threads', '2'], { env: { MARKS: marks } });
  });
  after(async () => {
    await host.stop();
    t.cleanup();
  });

  const marked = (name: string): Promise<void> =>
    waitFor(
      () => {
        try {
          return readFileSync(join(marks, name), 'utf8') === '1';
        } catch {
          return false;
        }
      },
      5000,
      `close() mark ${name}`,
    );

  test('a list response gets a Content-Length', async () => {
    const r = await request(`${host.url}/list`);
    assert.equal(r.text, 'one two');
    assert.equal(r.headers['content-length'], '7');
    assert.equal(r.headers['transfer-encoding'], undefined);
  });

  test("the application's Content-Length is kept", async () => {
    const r = await request(`${host.url}/declared`);
    assert.equal(r.text, '12345');
    assert.equal(r.headers['content-length'], '5');
  });

  test('a body longer than its Content-Length is cut at it', async () => {
    const r = await request(`${host.url}/too-long`);
    assert.equal(r.text, '1234');
  });

  test('a body shorter than its Content-Length closes the connection (the client sees it truncated)', async () => {
    const raw = await rawRequest(host.url, 'GET /too-short HTTP/1.1\r\nHost: t\r\n\r\n');
    const r = parseRaw(raw);
    assert.equal(r.headers['content-length'], '100');
    assert.equal(r.body, 'only this');
    await host.waitForLog(/declared Content-Length: 100 but produced 9 bytes/);
  });

  test('a generator streams chunked; empty blocks are skipped; close() is called', async () => {
    const r = await request(`${host.url}/generator`);
    assert.equal(r.text, 'abc');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    await marked('generator-closed');
  });

  test('an exception gives a short 500 without traceback; the log has the traceback and request line', async () => {
    const r = await request(`${host.url}/boom?x=1`, { headers: { 'X-Request-Id': 'boom-1' } });
    assert.equal(r.status, 500);
    assert.doesNotMatch(r.text, /Traceback|ValueError/);
    assert.match(r.text, /Internal Server Error/);
    const m = await host.waitForLog(/^Exception while serving GET \/boom\?x=1[\s\S]*ValueError: the application raised/);
    const line = host.logs.find((l) => String(l.msg).startsWith(m[0].slice(0, 30)));
    assert.equal(line?.requestId, 'boom-1');
    assert.equal(line?.level, 'ERROR');
  });

  test('an exception after the head was sent breaks the response; close() is still called', async () => {
    const raw = await rawRequest(host.url, 'GET /boom-after-head HTTP/1.1\r\nHost: t\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200 OK/);
    assert.match(raw, /first block/);
    assert.doesNotMatch(raw, /\r\n0\r\n\r\n$/, 'no terminating chunk: the client knows it is incomplete');
    await marked('boom-closed');
    await host.waitForLog(/RuntimeError: failed while streaming/);
  });

  test('header values with CR/LF or NUL are never sent: 500 and a log line', async () => {
    for (const path of ['/bad-header', '/nul-header']) {
      const r = await request(`${host.url}${path}`);
      assert.equal(r.status, 500, path);
      assert.equal(r.headers['set-cookie'], undefined);
      assert.doesNotMatch(r.text, /should not be sent/);
    }
    await host.waitForLog(/response head is invalid and was not sent|contains a NUL character/);
  });

  test('a malformed status and a str body are WSGI errors: 500, logged', async () => {
    assert.equal((await request(`${host.url}/bad-status`)).status, 500);
    assert.equal((await request(`${host.url}/str-body`)).status, 500);
    await host.waitForLog(/status must look like '200 OK'/);
    await host.waitForLog(/must produce bytes/);
  });

  test('start_response with exc_info before the head is sent replaces the status and headers', async () => {
    const r = await request(`${host.url}/exc-info`);
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-second'], '2');
    assert.equal(r.headers['x-first'], undefined);
    assert.equal(r.text, 'replaced');
  });

  test('204 has no body and no Content-Length', async () => {
    const raw = await rawRequest(host.url, 'GET /no-content HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    const r = parseRaw(raw);
    assert.equal(r.status, 204);
    assert.equal(r.headers['content-length'], undefined);
    assert.equal(r.body, '');
  });

  test('wsgi.file_wrapper: the front end sends the file itself (the worker never reads it)', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const path = join(t.dir, 'big.bin');
    writeFileSync(path, data);
    const r = await request(`${host.url}/file?${path}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String(data.length));
    assert.ok(r.body.equals(data));
    await marked('file-closed');
    const slice = await request(`${host.url}/file-slice?${path}`);
    assert.ok(slice.body.equals(data.subarray(10, 30)));
  });
});

describe('what an application may not send is never sent on', () => {
  const t = tempDir();
  let host: WsgiHost;
  before(async () => {
    const venv = makeVenv(join(t.dir, 'venv'));
    const app = t.file(
      'hop.wsgi',
      String.raw`
def application(environ, start_response):
    p = environ["PATH_INFO"]
    if p == "/hop":
        start_response("200 OK", [("Content-Length", "5"), ("Transfer-Encoding", "chunked"), ("Keep-Alive", "timeout=99"), ("X-Kept", "yes")])
        return [b"hello"]
    if p == "/close":
        start_response("200 OK", [("Connection", "close"), ("Content-Length", "2")])
        return [b"ok"]
    if p == "/same-length-twice":
        start_response("200 OK", [("Content-Length", "2"), ("Content-Length", "2")])
        return [b"ok"]
    if p == "/informational":
        start_response("100 Continue", [])
        return [b""]
    if p == "/early":
        start_response("413 Request Entity Too Large", [("Content-Type", "text/plain"), ("Content-Length", "4")])
        return [b"no.\n"]
    start_response("404 Not Found", [])
    return [b""]
`,
    );
    host = await WsgiHost.serve([app, '--python-home', venv]);
  });
  after(async () => {
    await host.stop();
    t.cleanup();
  });

  test('hop-by-hop headers are dropped (and logged once); the response has one framing', async () => {
    const r = parseRaw(await rawRequest(host.url, 'GET /hop HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'));
    assert.equal(r.status, 200);
    assert.equal(r.headers['transfer-encoding'], undefined);
    assert.equal(r.headers['keep-alive'], undefined);
    assert.equal(r.headers['content-length'], '5');
    assert.equal(r.headers['x-kept'], 'yes');
    assert.equal(r.body, 'hello');
    await host.waitForLog(/hop-by-hop header Transfer-Encoding, which PEP 3333 forbids/);
  });

  test("the application's Connection: close is honoured; the same Content-Length twice is sent once", async () => {
    const closed = parseRaw(await rawRequest(host.url, 'GET /close HTTP/1.1\r\nHost: t\r\n\r\n'));
    assert.equal(closed.headers.connection, 'close');
    const twice = await rawRequest(host.url, 'GET /same-length-twice HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    assert.equal(twice.match(/content-length/gi)?.length, 1);
  });

  test('a 1xx final status is an application error: 500, not a hung client', async () => {
    const r = await request(`${host.url}/informational`);
    assert.equal(r.status, 500);
    await host.waitForLog(/final status must not be 1xx/);
  });

  test('an answer before the upload ends, on a closing connection, still reaches the client (lingering close)', async () => {
    let ok = 0;
    for (let i = 0; i < 10; i++) {
      const body = async function* (): AsyncGenerator<Buffer> {
        for (let k = 0; k < 64; k++) yield Buffer.alloc(64 * 1024, k);
      };
      const r = await request(`${host.url}/early`, { method: 'POST', headers: { Connection: 'close' }, body: body() });
      assert.equal(r.status, 413);
      assert.equal(r.text, 'no.\n');
      ok++;
    }
    assert.equal(ok, 10);
  });
});
