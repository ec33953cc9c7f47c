import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { RawClient, within } from './helpers/raw-http.js';
import { tempDir } from './helpers/tmp.js';
import { WsgiHost } from './helpers/wsgi-host.js';

const APP = String.raw`
import time
def application(environ, start_response):
    p = environ["PATH_INFO"]
    if p == "/sleep":
        time.sleep(float(environ["QUERY_STRING"] or "0"))
    if p == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        def gen():
            for i in range(10):
                time.sleep(0.1)
                yield ("chunk%d\n" % i).encode()
        return gen()
    if p == "/upload":
        try:
            n = len(environ["wsgi.input"].read())
        except Exception as e:
            start_response("500 Internal Server Error", [])
            return [repr(e).encode()]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(n).encode()]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [p.encode()]
`;

/** Another client's plain GET: answered, and within limitMs. */
async function othersServed(url: string, limitMs: number, what: string): Promise<number> {
  const { value, ms } = await within(limitMs, `another client during ${what}`, () => request(`${url}/other`, { timeoutMs: limitMs + 1000 }));
  assert.equal(value.status, 200, `another client during ${what}: ${value.status} ${value.text}`);
  assert.equal(value.text, '/other');
  return ms;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('slow and hostile clients: each bounded in time, other clients served meanwhile', () => {
  const t = tempDir();
  let host: WsgiHost;

  before(async () => {
    makeVenv(join(t.dir, 'venv'));
    t.file('app.wsgi', APP);
    t.file(
      'site.toml',
      `listen = ["127.0.0.1:0"]
python-home = "venv"
[limits]
header-timeout = 2
body-min-rate = 500
body-min-rate-grace = 3
buffer-request-body = 65536
[[group]]
name = "g"
processes = 1
threads = 4
[[mount]]
script = "app.wsgi"
group = "g"
`,
    );
    host = await WsgiHost.serve(['-c', join(t.dir, 'site.toml')], { cwd: t.dir });
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  test('1: an abandoned pipeline of 2,000 requests is cancelled with its connection; it never fills the group', async () => {
    const c = await RawClient.open(host.url);
    c.write('GET /sleep?0.05 HTTP/1.1\r\nHost: t\r\n\r\n'.repeat(2000));
    await sleep(200);
    // While it is open, it has one request in the group at a time: others are served at once.
    await othersServed(host.url, 2000, 'a pipeline of 2,000 requests');
    await sleep(300);
    c.destroy();
    const ms = await othersServed(host.url, 2000, 'right after the pipeline was abandoned');
    assert.ok(ms < 2000, `${ms} ms`);
    // And a burst of other clients is served at the group's own pace, not after the abandoned queue.
    const burst = await within(5000, 'ten clients after the abandoned pipeline', () =>
      Promise.all(Array.from({ length: 10 }, () => request(`${host.url}/sleep?0.05`, { timeoutMs: 6000 }))),
    );
    assert.ok(burst.value.every((r) => r.status === 200));
  });

  test('a pipeline read to the end gets every answer, in order', async () => {
    const c = await RawClient.open(host.url);
    try {
      const n = 300;
      c.write(Array.from({ length: n }, (_, i) => `GET /n${i} HTTP/1.1\r\nHost: t\r\n\r\n`).join(''));
      for (let i = 0; i < n; i++) {
        const r = await c.readFinal(10_000);
        assert.equal(r?.status, 200);
        assert.equal(r?.text, `/n${i}`);
      }
    } finally {
      c.destroy();
    }
  });

  test('2: a slow valid request followed by garbage: its own answer first, whole, then 400, then close', async () => {
    const c = await RawClient.open(host.url);
    try {
      c.write('GET /sleep?0.5 HTTP/1.1\r\nHost: t\r\n\r\nGARBAGE NOT HTTP\r\n\r\n');
      const first = await c.readFinal(10_000);
      assert.equal(first?.status, 200, first?.head);
      assert.equal(first?.text, '/sleep');
      const second = await c.readFinal(10_000);
      assert.equal(second?.status, 400);
      assert.ok(await c.waitClosed(3000), 'closed after the 400');
    } finally {
      c.destroy();
    }
  });

  test('2: garbage sent during a streaming (chunked) response never lands inside its body', async () => {
    const c = await RawClient.open(host.url);
    try {
      c.write('GET /stream HTTP/1.1\r\nHost: t\r\n\r\n');
      await sleep(300);
      c.write('\x00\x01 garbage \r\n\r\n');
      const r = await c.readFinal(10_000);
      assert.equal(r?.status, 200);
      assert.equal(r?.headers['transfer-encoding'], 'chunked');
      assert.equal(r?.text, Array.from({ length: 10 }, (_, i) => `chunk${i}\n`).join(''), 'the chunked body is intact');
      const after = await c.readFinal(5000);
      assert.equal(after?.status, 400, 'the 400 comes after the whole response');
      assert.ok(await c.waitClosed(3000));
    } finally {
      c.destroy();
    }
  });

  test('3: a client that half-closes (shutdown(SHUT_WR)) after its requests gets every answer', async () => {
    const c = await RawClient.open(host.url);
    try {
      c.write('GET /sleep?0.2 HTTP/1.1\r\nHost: t\r\n\r\nPOST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello');
      c.end();
      await othersServed(host.url, 1500, 'a half-closed client');
      const a = await c.readFinal(10_000);
      assert.equal(a?.status, 200);
      assert.equal(a?.text, '/sleep');
      const b = await c.readFinal(10_000);
      assert.equal(b?.status, 200);
      assert.equal(b?.text, '5');
      assert.ok(await c.waitClosed(3000), 'the server closes once it answered');
    } finally {
      c.destroy();
    }
  });

  test('slowloris: headers that trickle get 408 at header-timeout; others are served meanwhile', async () => {
    const c = await RawClient.open(host.url);
    try {
      const started = Date.now();
      c.write('GET / HTTP/1.1\r\nHost: t\r\n');
      const drip = setInterval(() => c.socket.writable && c.write('X-Slow: 1\r\n'), 300);
      try {
        await othersServed(host.url, 1500, 'a slowloris client');
        const r = await c.readFinal(8000);
        assert.equal(r?.status, 408);
        assert.ok(await c.waitClosed(3000));
      } finally {
        clearInterval(drip);
      }
      const took = Date.now() - started;
      assert.ok(took < 5000, `cut after ${took} ms (header-timeout 2 s)`);
    } finally {
      c.destroy();
    }
  });

  test('many idle connections: others are served; the idle ones are closed at header-timeout', async () => {
    const idle = await Promise.all(Array.from({ length: 200 }, () => RawClient.open(host.url)));
    try {
      await othersServed(host.url, 1500, '200 idle connections');
      const closed = await Promise.all(idle.map((c) => c.waitClosed(6000)));
      assert.equal(closed.filter((x) => !x).length, 0, 'every idle connection was closed');
    } finally {
      for (const c of idle) c.destroy();
    }
  });

  test('8: five uploads trickling one byte a second take no thread (their bodies are buffered); then 408 below body-min-rate', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => RawClient.open(host.url)));
    const drip: NodeJS.Timeout[] = [];
    try {
      for (const c of clients) {
        c.write('POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nx');
        drip.push(setInterval(() => c.socket.writable && c.write('x'), 1000));
      }
      await sleep(500);
      await othersServed(host.url, 1500, 'five trickling uploads');
      await othersServed(host.url, 1500, 'five trickling uploads (again)');
      // body-min-rate-grace = 3 s: each is answered 408 and closed soon after.
      const answers = await within(8000, 'the trickling uploads to be cut', () => Promise.all(clients.map((c) => c.readFinal(8000))));
      for (const r of answers.value) assert.equal(r?.status, 408);
    } finally {
      for (const d of drip) clearInterval(d);
      for (const c of clients) c.destroy();
    }
    assert.ok(
      host.logs.some((l) => /came slower than body-min-rate \(500 bytes\/s after 3s\)/.test(String(l.msg))),
      host.logText(),
    );
  });

  test('8: a body larger than buffer-request-body streams to the application, and is cut with 408 when it trickles', async () => {
    const c = await RawClient.open(host.url);
    let drip: NodeJS.Timeout | undefined;
    try {
      c.write('POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n' + 'x'.repeat(1000));
      drip = setInterval(() => c.socket.writable && c.write('x'), 1000);
      await othersServed(host.url, 1500, 'a trickling large upload');
      const r = await within(10_000, 'the trickling large upload to be cut', () => c.readFinal(10_000));
      assert.equal(r.value?.status, 408);
    } finally {
      clearInterval(drip);
      c.destroy();
    }
  });

  test('8: a buffered body with Expect: 100-continue gets its 100 from the front end, without waiting for a thread', async () => {
    const busy = Array.from({ length: 4 }, () => request(`${host.url}/sleep?2`, { timeoutMs: 10_000 }));
    await sleep(300);
    const c = await RawClient.open(host.url);
    try {
      const started = Date.now();
      c.write('POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n');
      const interim = await c.read(5000);
      assert.equal(interim?.status, 100);
      assert.ok(Date.now() - started < 1000, `100 Continue after ${Date.now() - started} ms, while every thread is busy`);
      c.write('y'.repeat(1000));
      const r = await c.readFinal(10_000);
      assert.equal(r?.status, 200);
      assert.equal(r?.text, '1000');
    } finally {
      c.destroy();
    }
    for (const r of await Promise.all(busy)) assert.equal(r.status, 200);
  });

  test('a malformed chunk in a body the application is reading: 400 for that request, its work is cancelled, the group serves on', async () => {
    const c = await RawClient.open(host.url);
    try {
      // Larger than buffer-request-body: streamed to the application, which is reading when the framing breaks.
      c.write(`POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n${'z'.repeat(0x10000)}\r\n10000\r\n${'z'.repeat(0x10000)}\r\n`);
      await sleep(300);
      c.write('ZZ-NOT-A-CHUNK-SIZE\r\n');
      const r = await c.readFinal(10_000);
      assert.equal(r?.status, 400);
      assert.ok(await c.waitClosed(6000));
    } finally {
      c.destroy();
    }
    await othersServed(host.url, 2000, 'a request whose body broke');
  });
});
