import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rawRequest, request } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor, WsgiHost } from './helpers/wsgi-host.js';

const APP = String.raw`
import os, time
if os.path.exists(os.environ.get("CRASH_MARK", "/nonexistent")):
    os._exit(7)   # dies while loading: a crash loop
def application(environ, start_response):
    p = environ["PATH_INFO"]
    if p == "/exit":
        os._exit(1)
    if p == "/sleep":
        time.sleep(float(environ["QUERY_STRING"]))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("app " + p).encode()]
`;

describe('health probes', () => {
  const t = tempDir();
  before(() => {
    makeVenv(join(t.dir, 'venv'));
    t.file('app.wsgi', APP);
  });
  after(() => t.cleanup());

  const serve = async (toml: string, env: Record<string, string> = {}): Promise<{ host: WsgiHost; admin: string }> => {
    const file = t.file(`c${Math.random().toString(36).slice(2)}.toml`, `listen = ["127.0.0.1:0"]\npython-home = "venv"\n${toml}`);
    const host = await WsgiHost.serve(['-c', file], { cwd: t.dir, env });
    const admin = (await host.waitForLog(/^admin listener on (http:\/\/\S+)$/))[1] as string;
    return { host, admin };
  };

  test('on the admin listener without the token, on the main listener when asked; the admin guard still holds', async () => {
    const file = t.file('probes.toml', '');
    const toml = (onListeners: boolean): string =>
      `listen = ["127.0.0.1:0"]\npython-home = "venv"\n[admin]\nlisten = "127.0.0.1:0"\ntoken = "s3cret"\n[health]\non-listeners = ${onListeners}\n[[mount]]\nscript = "app.wsgi"\n`;
    writeFileSync(file, toml(true));
    const host = await WsgiHost.serve(['-c', file], { cwd: t.dir });
    try {
      const admin = (await host.waitForLog(/^admin listener on (http:\/\/\S+)$/))[1] as string;
      const alive = await request(`${admin}/healthz`);
      assert.equal(alive.status, 200);
      assert.equal(alive.text, 'ok\n');
      assert.equal(alive.headers['cache-control'], 'no-store');
      assert.match(alive.headers['content-type'] ?? '', /^text\/plain/);
      const ready = await request(`${admin}/readyz`);
      assert.deepEqual([ready.status, ready.text], [200, 'ready\n']);
      assert.equal((await request(`${admin}/readyz`, { method: 'HEAD' })).status, 200);
      assert.equal((await request(`${admin}/status`)).status, 401, 'everything else still needs the token');
      const port = new URL(admin).port;
      const rebound = await rawRequest(admin, `GET /readyz HTTP/1.1\r\nHost: evil.example:${port}\r\nConnection: close\r\n\r\n`);
      assert.match(rebound, /^HTTP\/1\.1 421 /, 'the Host check of a loopback admin listener applies to probes too');
      assert.equal((await request(`${admin}/readyz`, { method: 'POST', headers: { 'X-Wsgi-Host-Admin': '1' } })).status, 405);
      // The main listener answers them before routing.
      assert.deepEqual([(await request(`${host.url}/healthz`)).text, (await request(`${host.url}/readyz`)).text], ['ok\n', 'ready\n']);
      assert.equal((await request(`${host.url}/other`)).text, 'app /other');
      // A reload that turns them off: the paths go to the application again.
      writeFileSync(file, toml(false));
      const r = await request(`${admin}/reload`, { method: 'POST', headers: { Authorization: 'Bearer s3cret', 'X-Wsgi-Host-Admin': '1' } });
      assert.equal(r.status, 200, r.text);
      assert.equal((await request(`${host.url}/readyz`)).text, 'app /readyz');
      assert.equal((await request(`${admin}/readyz`)).text, 'ready\n');
    } finally {
      await host.stop();
    }
  });

  test('a group in a crash loop: /readyz 503 (a group failed), /healthz still 200', async () => {
    const mark = join(t.dir, 'crash-now');
    const { host, admin } = await serve(
      `[admin]\nlisten = "127.0.0.1:0"\n[[group]]\nname = "crashy"\nprocesses = 1\n[[group]]\nname = "fine"\nprocesses = 1\n[[mount]]\nscript = "app.wsgi"\ngroup = "crashy"\n[[mount]]\npath = "/fine"\nscript = "app.wsgi"\ngroup = "fine"\n`,
      { CRASH_MARK: mark },
    );
    try {
      assert.equal((await request(`${admin}/readyz`)).status, 200);
      writeFileSync(mark, 'every new process dies while loading');
      await request(`${host.url}/exit`).catch(() => undefined);
      // While the process is being replaced the group has none ready; then the crash loop fails it.
      await waitFor(async () => (await request(`${admin}/readyz`)).status === 503, 10_000, '/readyz to fail');
      await host.waitForLog(/crash loop: 5 processes in a row died/, 30_000);
      const r = await request(`${admin}/readyz`);
      assert.deepEqual([r.status, r.text], [503, 'not ready: a group failed\n']);
      assert.equal(
        (await request(`${admin}/healthz`)).status,
        200,
        'alive: restarting the server would not help the failed group and would stop the healthy one',
      );
      assert.equal((await request(`${host.url}/fine/`)).status, 200);
    } finally {
      await host.stop();
    }
  });
});

interface Outcome {
  at: number;
  status: number | string;
}

/**
 * Clients that behave like a load balancer: keep-alive connections, each sending requests back
 * to back until told to stop. Every request's outcome and time are kept.
 */
function balancerLoad(url: string, concurrency: number): { stop: () => void; done: Promise<Outcome[]> } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const out: Outcome[] = [];
  let stopped = false;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = httpRequest(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          out.push({ at: Date.now(), status: res.statusCode ?? 0 });
          resolve();
        });
        res.on('error', (e) => {
          out.push({ at: Date.now(), status: e.message });
          resolve();
        });
      });
      req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
      req.on('error', (e) => {
        out.push({ at: Date.now(), status: (e as NodeJS.ErrnoException).code ?? e.message });
        resolve();
      });
      req.end();
    });
  const loop = async (): Promise<void> => {
    while (!stopped) await one();
  };
  const done = Promise.all(Array.from({ length: concurrency }, loop)).then(() => {
    agent.destroy();
    return out;
  });
  return { stop: () => (stopped = true), done };
}

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });

describe('SIGTERM under load', () => {
  const t = tempDir();
  before(() => {
    makeVenv(join(t.dir, 'venv'));
    t.file('app.wsgi', APP);
  });
  after(() => t.cleanup());

  test('readiness fails first, the listener serves through readiness-delay and then closes, requests in flight finish: zero failed requests', async () => {
    const DELAY = 3;
    const file = t.file(
      'sigterm.toml',
      `listen = ["127.0.0.1:0"]\npython-home = "venv"\n[admin]\nlisten = "127.0.0.1:0"\n[health]\non-listeners = true\n[shutdown]\nreadiness-delay = ${DELAY}\n[[group]]\nname = "g"\nprocesses = 2\nthreads = 4\ngraceful-timeout = 10\n[[mount]]\nscript = "app.wsgi"\ngroup = "g"\n`,
    );
    const host = await WsgiHost.serve(['-c', file], { cwd: t.dir });
    const admin = (await host.waitForLog(/^admin listener on (http:\/\/\S+)$/))[1] as string;
    const port = Number(new URL(host.url).port);
    const load = balancerLoad(`${host.url}/`, 6);
    try {
      await new Promise((r) => setTimeout(r, 500));
      // A slow request in flight when SIGTERM comes: it must finish, after the listener closed.
      const slow = request(`${host.url}/sleep?${DELAY + 1.5}`, { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 200));
      const sigterm = Date.now();
      host.child.kill('SIGTERM');

      // The load balancer's view: /readyz, polled until it fails.
      let notReadyAt = 0;
      await waitFor(
        async () => {
          const r = await request(`${admin}/readyz`, { timeoutMs: 2000 }).catch(() => undefined);
          if (r?.status === 503) {
            notReadyAt = Date.now();
            assert.equal(r.text, 'not ready: draining\n');
            return true;
          }
          return false;
        },
        5000,
        '/readyz to answer 503',
      );
      assert.ok(notReadyAt - sigterm < 1500, `readiness failed ${notReadyAt - sigterm} ms after SIGTERM`);
      assert.equal((await request(`${host.url}/readyz`)).status, 503, "the main listener's probe too");
      // Traffic that still arrives during the delay (balancers take a moment to notice) is served.
      await new Promise((r) => setTimeout(r, 300));
      const duringDelay = await request(`${host.url}/late`);
      assert.deepEqual([duringDelay.status, duringDelay.text], [200, 'app /late']);
      assert.equal(duringDelay.headers.connection, 'close', 'while draining, connections are not kept alive');
      load.stop();
      const outcomes = await load.done;

      // Then the listener closes, not before the delay.
      await waitFor(() => refused(port), (DELAY + 5) * 1000, 'the listener to close');
      const closedAt = Date.now();
      assert.ok(closedAt - sigterm >= DELAY * 1000 - 100, `the listener closed ${closedAt - sigterm} ms after SIGTERM, before readiness-delay (${DELAY}s)`);
      assert.ok(notReadyAt < closedAt);

      const s = await slow;
      assert.deepEqual([s.status, s.text], [200, 'app /sleep'], 'the request in flight finished');
      const exit = await host.exited();
      assert.equal(exit.code, 0);

      const failed = outcomes.filter((o) => o.status !== 200);
      const afterNotReady = outcomes.filter((o) => o.at > notReadyAt && o.status === 200).length;
      assert.ok(outcomes.length > 50, `${outcomes.length} requests under load`);
      assert.ok(afterNotReady > 0, 'requests were still served after readiness failed');
      assert.deepEqual(failed, [], `${failed.length} of ${outcomes.length} requests failed`);
      await host.waitForLog(/SIGTERM: not ready from now on/);
      await host.waitForLog(/readiness delay over: closing the listeners/);
    } finally {
      load.stop();
      await host.stop();
    }
  });
});
