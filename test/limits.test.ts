import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseRaw, rawRequest, request } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { childPids, waitFor, WsgiHost } from './helpers/wsgi-host.js';

const APP = String.raw`
import os, sys, time
LEAK = []
if os.path.exists(os.environ.get("CRASH_MARK", "/nonexistent")):
    os._exit(7)   # dies while loading, without a traceback: a crash loop
def stuck_here():
    time.sleep(3600)
def application(environ, start_response):
    p = environ["PATH_INFO"]
    if p == "/hang":
        stuck_here()
    if p == "/leak":
        LEAK.append(bytearray(16 * 1024 * 1024))
    if p == "/sleep":
        time.sleep(float(environ["QUERY_STRING"]))
    if p == "/exit":
        os._exit(1)
    if p == "/upload":
        n = len(environ["wsgi.input"].read())
        start_response("200 OK", [])
        return [str(n).encode()]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
`;

describe('limits: each fires with the documented answer and log line', () => {
  const t = tempDir();
  let venv: string;

  before(() => {
    venv = makeVenv(join(t.dir, 'venv'));
    t.file('app.wsgi', APP);
  });
  after(() => t.cleanup());

  const serveToml = (toml: string, env: Record<string, string> = {}): Promise<WsgiHost> =>
    WsgiHost.serve(['-c', t.file(`c${Math.random().toString(36).slice(2)}.toml`, `listen = ["127.0.0.1:0"]\n${toml}`)], { cwd: t.dir, env });

  test('a hung request is cut at request-timeout with 504, its stack is logged, the process comes back', async () => {
    const host = await serveToml(`
[[group]]
name = "g"
python-home = "venv"
processes = 1
threads = 2
request-timeout = 2
graceful-timeout = 1
[[mount]]
script = "app.wsgi"
group = "g"
`);
    try {
      const pid = (await request(`${host.url}/`)).text;
      const started = Date.now();
      const r = await request(`${host.url}/hang`, { timeoutMs: 20_000 });
      assert.equal(r.status, 504);
      assert.ok(Date.now() - started < 6000, 'cut near the 2 s limit');
      await host.waitForLog(/request-timeout: a request has run \d+\.\ds \(limit 2s\); answered 504/);
      await host.waitForLog(/in stuck_here/, 10_000);
      await waitFor(async () => (await request(`${host.url}/`)).text !== pid, 15_000, 'a new process to serve');
      assert.equal((await request(`${host.url}/`)).status, 200);
    } finally {
      await host.stop();
    }
  });

  test('a crash loop is detected: 503 with Retry-After, the log says why, other groups untouched', async () => {
    const mark = join(t.dir, 'crash-now');
    const host = await serveToml(
      `
[[group]]
name = "crashy"
python-home = "venv"
processes = 1
[[group]]
name = "fine"
python-home = "venv"
processes = 1
[[mount]]
script = "app.wsgi"
group = "crashy"
[[mount]]
path = "/fine"
script = "app.wsgi"
group = "fine"
`,
      { CRASH_MARK: mark },
    );
    try {
      writeFileSync(mark, 'from now on every new process dies while loading');
      await request(`${host.url}/exit`).catch(() => undefined);
      await host.waitForLog(/crash loop: 5 processes in a row died/, 30_000);
      const r = await request(`${host.url}/`);
      assert.equal(r.status, 503);
      assert.equal(r.headers['retry-after'], '30');
      assert.equal((await request(`${host.url}/fine/`)).status, 200, 'the other group serves on');
    } finally {
      await host.stop();
    }
  });

  test('memory-limit recycles a leaking process', async () => {
    const host = await serveToml(`
[[group]]
name = "g"
python-home = "venv"
processes = 1
memory-limit = 100000000
[[mount]]
script = "app.wsgi"
group = "g"
`);
    try {
      const pid = (await request(`${host.url}/`)).text;
      for (let i = 0; i < 8; i++) assert.equal((await request(`${host.url}/leak`)).status, 200);
      await host.waitForLog(/recycling worker process \(memory-limit: resident memory [\d.]+ MB over memory-limit 95\.4 MB\)/, 10_000);
      await waitFor(async () => (await request(`${host.url}/`)).text !== pid, 15_000, 'the replacement to serve');
    } finally {
      await host.stop();
    }
  });

  test('slowloris: headers that trickle are cut at header-timeout; an oversized body gets 413 at once', async () => {
    const host = await serveToml(`
[limits]
header-timeout = 2
max-body-size = 1000
[[mount]]
script = "app.wsgi"
`);
    try {
      const u = new URL(host.url);
      const sock = connect(Number(u.port), u.hostname);
      const started = Date.now();
      let answer = '';
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => (answer += d));
      sock.write('GET / HTTP/1.1\r\nHost: t\r\n');
      const drip = setInterval(() => sock.writable && sock.write('X-Slow: 1\r\n'), 500);
      await new Promise<void>((resolve, reject) => {
        sock.on('close', () => resolve());
        sock.on('error', () => resolve());
        setTimeout(() => reject(new Error('the slow connection was not closed within 10 s')), 10_000).unref();
      });
      clearInterval(drip);
      const took = Date.now() - started;
      assert.ok(took < 5000, `closed after ${took} ms`);
      assert.match(answer, /^HTTP\/1\.1 408 /);

      const big = parseRaw(await rawRequest(host.url, 'POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n'));
      assert.equal(big.status, 413, 'answered without the body being sent');
      assert.equal((await request(`${host.url}/upload`, { method: 'POST', body: 'x'.repeat(1000) })).text, '1000');
    } finally {
      await host.stop();
    }
  });

  test('the default group is a dynamic pool: processes start when requests wait and stop when idle', async () => {
    const host = await serveToml(`
[default-group]
threads = 1
dynamic = { min = 1, max = 3, idle-timeout = 1 }
[[mount]]
script = "app.wsgi"
`);
    try {
      assert.equal((await childPids(host.pid)).length, 1);
      await Promise.all([1, 2, 3, 4, 5, 6].map(() => request(`${host.url}/sleep?1.5`, { timeoutMs: 20_000 })));
      await host.waitForLog(/starting another process/);
      await waitFor(async () => (await childPids(host.pid)).length === 1, 15_000, 'idle processes to stop, down to the minimum');
      await host.waitForLog(/stopping an idle process/);
    } finally {
      await host.stop();
    }
  });

  test('SIGTERM lets a request in flight finish, then exits 0', async () => {
    const host = await serveToml(`
[[mount]]
script = "app.wsgi"
`);
    const slow = request(`${host.url}/sleep?1`, { timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 300));
    const stopped = host.stop();
    const r = await slow;
    assert.equal(r.status, 200);
    assert.equal((await stopped).code, 0);
  });

  test('--reload-on-changes restarts the group when a module the application imported changes', async () => {
    mkdirSync(join(t.dir, 'proj'), { recursive: true });
    writeFileSync(join(t.dir, 'proj', 'helper.py'), 'WORD = "before"\n');
    writeFileSync(join(t.dir, 'proj', 'webapp.py'), 'import helper\ndef application(e, s):\n    s("200 OK", [])\n    return [helper.WORD.encode()]\n');
    // As on users' machines, Python writes __pycache__ (an empty value unsets the variable).
    const host = await WsgiHost.serve(['webapp:application', '--python-home', venv, '--working-directory', join(t.dir, 'proj'), '--reload-on-changes'], {
      cwd: t.dir,
      env: { PYTHONDONTWRITEBYTECODE: '' },
    });
    try {
      assert.equal((await request(`${host.url}/`)).text, 'before');
      assert.ok(
        readdirSync(join(t.dir, 'proj', '__pycache__')).some((f) => f.startsWith('helper.')),
        'helper.py was cached as bytecode',
      );
      // An edit within the same second that keeps the size: the bytecode's whole-second mtime and
      // size still match, so Python would run the cached old code. (Pinned to the same second.)
      const helper = join(t.dir, 'proj', 'helper.py');
      const was = statSync(helper).mtimeMs / 1000;
      writeFileSync(helper, 'WORD = "after!"\n');
      const second = Math.floor(was);
      const sameSecond = second + (was - second < 0.5 ? 0.9 : 0.1);
      utimesSync(helper, sameSecond, sameSecond);
      await waitFor(async () => (await request(`${host.url}/`)).text === 'after!', 15_000, 'the new code to serve');
      await host.waitForLog(/helper\.py changed \(--reload-on-changes\)/);
    } finally {
      await host.stop();
    }
  });

  test('script reloading: an edit of the WSGI script in the same second that keeps its size serves the new script', async () => {
    // A script is compiled from its source at every load (as mod_wsgi does), never from a cached .pyc.
    const script = t.file('same-second.wsgi', 'def application(e, s):\n    s("200 OK", [])\n    return [b"before"]\n');
    const host = await WsgiHost.serve([script, '--python-home', venv], { cwd: t.dir, env: { PYTHONDONTWRITEBYTECODE: '' } });
    try {
      assert.equal((await request(`${host.url}/`)).text, 'before');
      const was = statSync(script).mtimeMs / 1000;
      writeFileSync(script, 'def application(e, s):\n    s("200 OK", [])\n    return [b"after!"]\n');
      const second = Math.floor(was);
      const sameSecond = second + (was - second < 0.5 ? 0.9 : 0.1);
      utimesSync(script, sameSecond, sameSecond);
      await waitFor(async () => (await request(`${host.url}/`)).text === 'after!', 15_000, 'the new script to serve');
    } finally {
      await host.stop();
    }
  });
});
