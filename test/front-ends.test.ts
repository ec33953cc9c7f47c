import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { haveOpenssl, makeCertificate } from './helpers/certificates.js';
import { request } from './helpers/http.js';
import { describeFailures, steadyLoad } from './helpers/load.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { h2Request, h2Session, httpsGet } from './helpers/tls-clients.js';
import { childPids, processAlive, runCli, waitFor, WsgiHost } from './helpers/wsgi-host.js';

/** Records how many requests ran at once in this process (its peak), whichever loop sent them. */
const APP = String.raw`
import os, sys, threading, time
VERSION = os.environ.get("VERSION", "?")
lock = threading.Lock()
running = [0]
peak = [0]
def application(environ, start_response):
    p = environ["PATH_INFO"]
    q = environ.get("QUERY_STRING", "")
    if p == "/peak":
        body = str(peak[0]).encode()
    elif p == "/crash":
        os._exit(3)
    else:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            if p == "/slow":
                time.sleep(float(q or "0.02"))
            if p == "/hold":
                sys.stderr.write("holding\n")
                sys.stderr.flush()
                time.sleep(float(q))
            if p == "/log":
                sys.stderr.write("served %s\n" % q)
                sys.stderr.flush()
            if p == "/upload":
                q = str(len(environ["wsgi.input"].read()))
        finally:
            with lock:
                running[0] -= 1
        body = ("%s %s %d %s" % (VERSION, p, os.getpid(), q)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
`;

const config = (o: { version?: string; processes?: number; threads?: number; extra?: string; access?: string }): string => `
listen = ["127.0.0.1:0"]
front-ends = 2

[log]
access = "${o.access ?? 'off'}"

[[group]]
name = "app"
python-home = "venv"
processes = ${o.processes ?? 2}
threads = ${o.threads ?? 2}
env = { VERSION = "${o.version ?? '1'}" }
${o.extra ?? ''}

[[mount]]
path = "/"
script = "app.wsgi"
group = "app"
`;

describe('front-ends = 2: two event loops in one front end, one server', () => {
  const t = tempDir();
  let venv: string;

  before(() => {
    venv = makeVenv(join(t.dir, 'venv'));
    t.file('app.wsgi', APP);
  });
  after(() => t.cleanup());

  const serve = async (toml: string): Promise<{ host: WsgiHost; file: string }> => {
    const file = t.file('site.toml', toml);
    const host = await WsgiHost.serve(['-c', file], { cwd: t.dir });
    return { host, file };
  };

  test('both loops serve requests; the access log and the statistics count every request once', async () => {
    assert.ok(venv);
    const access = join(t.dir, 'access.log');
    const { host } = await serve(config({ access }));
    try {
      assert.ok(
        host.logs.some((l) => /^2 front-end loops serve HTTP/.test(String(l.msg))),
        host.logText(),
      );
      // The connections open one by one (a burst of them could all land in one loop: on Node 20
      // the loops accept on one descriptor, and the first one awake takes what is there).
      const load = steadyLoad(`${host.url}/log?x`, { concurrency: 32, durationMs: 2500, rampMs: 600 });
      const result = await load.done;
      assert.equal(result.failed, 0, describeFailures(result));
      assert.ok(result.ok > 200, `served ${result.ok}`);
      // A request's log line names the loop that served it: the second loop served some, the first some.
      await waitFor(() => host.logs.filter((l) => /served x/.test(String(l.msg))).length >= result.ok, 5000, 'every request logged');
      const served = host.logs.filter((l) => /served x/.test(String(l.msg)));
      const bySecond = served.filter((l) => l.loop === 1).length;
      assert.ok(bySecond > 0 && bySecond < served.length, `lines by the second loop: ${bySecond} of ${served.length}`);
      // One server's statistics: the second loop's requests are counted in the first loop's (reported within 100 ms).
      let statusText = '';
      await waitFor(
        async () => {
          statusText = (await runCli(['status', '-c', join(t.dir, 'site.toml')], { cwd: t.dir })).stdout;
          return statusText.includes(`requests ${result.ok} (2xx ${result.ok})`);
        },
        5000,
        `status counting ${result.ok} requests`,
      ).catch((err: Error) => assert.fail(`${err.message}\n${statusText}`));
      const stop = await host.stop();
      assert.equal(stop.code, 0);
      const lines = readFileSync(access, 'utf8')
        .split('\n')
        .filter((l) => l.includes('/log?x'));
      assert.equal(lines.length, result.ok, 'one access log line per request, from both loops');
    } finally {
      await host.kill();
    }
  });

  test('status and metrics count the requests in flight in every loop, while they run', async () => {
    const { host, file } = await serve(config({ processes: 2, threads: 4 }));
    try {
      // Eight requests on eight connections, opened one by one, which the two loops accept between them.
      const held: Promise<Awaited<ReturnType<typeof request>>>[] = [];
      for (let i = 0; i < 8; i++) {
        held.push(request(`${host.url}/hold?3`));
        await new Promise((r) => setTimeout(r, 25));
      }
      await waitFor(() => host.logs.filter((l) => /holding/.test(String(l.msg))).length === 8, 5000, 'eight requests running');
      const inFlight = async (): Promise<[number, number]> => {
        const r = await runCli(['status', '-c', file, '--json'], { cwd: t.dir });
        const s = JSON.parse(r.stdout) as { server: { inflight: number }; groups: { inflight: number }[] };
        return [s.server.inflight, s.groups[0]?.inflight ?? -1];
      };
      // Both counts (the server's and the group's) reach n within 2 s: another loop reports
      // within 100 ms of a request starting or finishing.
      const expectInFlight = async (n: number, what: string): Promise<void> => {
        let seen: [number, number] = [-1, -1];
        await waitFor(
          async () => {
            seen = await inFlight();
            return seen[0] === n && seen[1] === n;
          },
          2000,
          what,
        ).catch((err: Error) => assert.fail(`${err.message}: saw ${seen.join(' / ')}`));
      };
      await expectInFlight(8, 'status counting eight requests in flight');
      const bySecond = host.logs.filter((l) => /holding/.test(String(l.msg)) && l.loop === 1).length;
      assert.ok(bySecond > 0, 'the second loop runs some of them');
      for (const r of await Promise.all(held)) assert.equal(r.status, 200);
      await expectInFlight(0, 'status counting none once they are answered');
    } finally {
      await host.stop();
    }
  });

  test('TLS and HTTP/2 listeners serve in both loops, and a certificate reload reaches every loop', {
    skip: haveOpenssl() ? false : 'openssl is not installed (apt-get install openssl)',
  }, async () => {
    makeCertificate(t.dir, 'one', ['localhost', '127.0.0.1']);
    makeCertificate(t.dir, 'two', ['localhost', '127.0.0.1']);
    const tls = (name: string): string =>
      config({}).replace(
        'listen = ["127.0.0.1:0"]',
        `listen = [{ host = "127.0.0.1", port = 0, tls = { certificate = "${name}.crt", private-key = "${name}.key" } }]`,
      );
    const { host, file } = await serve(tls('one'));
    try {
      const port = Number(new URL(host.url).port);
      const fingerprint = (name: string): string => new X509Certificate(readFileSync(join(t.dir, `${name}.crt`))).fingerprint256;
      // Each request on a connection of its own, one after another, so that both loops accept some.
      const served = async (n: number): Promise<Set<string>> => {
        const seen = new Set<string>();
        for (let i = 0; i < n; i++) {
          const r = await httpsGet(port, `/log?tls${i}`);
          assert.equal(r.status, 200);
          seen.add(r.certificate);
        }
        return seen;
      };
      assert.deepEqual([...(await served(24))], [fingerprint('one')]);
      // HTTP/2 (ALPN) on the same listener, in several sessions.
      for (let s = 0; s < 6; s++) {
        const session = await h2Session(port);
        try {
          const r = await h2Request(session, { ':path': `/log?h2${s}` });
          assert.equal(r.status, 200);
        } finally {
          session.close();
        }
      }
      await waitFor(() => host.logs.filter((l) => /served (tls|h2)\d+/.test(String(l.msg))).length === 30, 5000, 'every request logged');
      const lines = host.logs.filter((l) => /served (tls|h2)\d+/.test(String(l.msg)));
      const bySecond = lines.filter((l) => l.loop === 1).length;
      assert.ok(bySecond > 0 && bySecond < lines.length, `TLS requests by the second loop: ${bySecond} of ${lines.length}`);
      // A new certificate: after the reload, every connection (whichever loop accepts it) gets it.
      writeFileSync(file, tls('two'));
      const r = await runCli(['reload', '-c', file], { cwd: t.dir, timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual([...(await served(24))], [fingerprint('two')]);
    } finally {
      await host.stop();
    }
  });

  test("a WSGI_HOST_SOCKET_FD in a group's env is not taken as the worker's listener (only the launcher names one)", async () => {
    const toml = config({ processes: 1 }).replace('env = { VERSION = "1" }', 'env = { VERSION = "1", WSGI_HOST_SOCKET_FD = "0" }');
    assert.match(toml, /WSGI_HOST_SOCKET_FD = "0"/);
    const { host } = await serve(toml);
    try {
      const r = await request(`${host.url}/x`);
      assert.equal(r.status, 200);
      assert.match(r.text, /^1 \/x /);
    } finally {
      await host.stop();
    }
  });

  test('a process never runs more requests at once than its threads, whichever loop sent them', async () => {
    const { host } = await serve(config({ processes: 1, threads: 2 }));
    try {
      const load = steadyLoad(`${host.url}/slow?0.01`, { concurrency: 24, durationMs: 2500 });
      const result = await load.done;
      assert.equal(result.failed, 0, describeFailures(result));
      const peak = Number((await request(`${host.url}/peak`)).text);
      assert.equal(peak, 2, 'the two threads were used, and never more');
    } finally {
      await host.stop();
    }
  });

  test('a configuration reload under load through both loops: zero failed requests, the new processes serve', async () => {
    const { host, file } = await serve(config({ version: '1' }));
    try {
      const load = steadyLoad(`${host.url}/slow?0.005`, { concurrency: 16, durationMs: 5000 });
      await new Promise((r) => setTimeout(r, 1000));
      writeFileSync(file, config({ version: '2' }));
      const r = await runCli(['reload', '-c', file], { cwd: t.dir, timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      const result = await load.done;
      assert.equal(result.failed, 0, `failures: ${describeFailures(result)}\n${host.logText()}`);
      const versions = new Set([...result.bodies].map((b) => b.split(' ')[0]));
      assert.deepEqual([...versions].sort(), ['1', '2']);
      assert.match((await request(`${host.url}/x`)).text, /^2 /);
    } finally {
      await host.stop();
    }
  });

  test('maximum-requests counts the requests of every loop: a process is recycled once all loops together sent it that many', async () => {
    const { host } = await serve(config({ processes: 1, threads: 2, extra: 'maximum-requests = 40' }));
    try {
      const load = steadyLoad(`${host.url}/slow?0.002`, { concurrency: 8, durationMs: 3000 });
      const result = await load.done;
      assert.equal(result.failed, 0, `${describeFailures(result)}\n${host.logText()}`);
      const recycled = host.logs
        .map((l) => /recycling worker process \(maximum-requests: served (\d+) requests\)/.exec(String(l.msg)))
        .filter((m) => m !== null);
      assert.ok(recycled.length >= 2, `recycled ${recycled.length} times for ${result.ok} requests\n${host.logText()}`);
      // Counted across loops: the first loop alone sends about half of them.
      for (const m of recycled) assert.ok(Number(m[1]) >= 40 && Number(m[1]) < 60, `recycled after ${m[1]} requests`);
    } finally {
      await host.stop();
    }
  });

  test('a crash fails only the requests it was running, in either loop; the group keeps serving', async () => {
    const { host } = await serve(config({ processes: 2, threads: 1 }));
    try {
      // Three crashes (five young deaths in a row would be a crash loop: the group would stop).
      for (let i = 0; i < 3; i++) {
        const crash = await request(`${host.url}/crash`);
        assert.equal(crash.status, 502);
        await waitFor(
          async () => {
            const r = await request(`${host.url}/x`);
            return r.status === 200;
          },
          15_000,
          'the group serves again',
        );
      }
      const load = steadyLoad(`${host.url}/x`, { concurrency: 8, durationMs: 1000 });
      const result = await load.done;
      assert.equal(result.failed, 0, describeFailures(result));
    } finally {
      await host.stop();
    }
  });

  test('an upload through either loop reaches the application whole', async () => {
    const { host } = await serve(config({}));
    try {
      const body = Buffer.alloc(3 * 1024 * 1024, 'a');
      const sizes = await Promise.all(
        Array.from({ length: 8 }, () => request(`${host.url}/upload`, { method: 'POST', body }).then((r) => r.text.split(' ')[3])),
      );
      assert.deepEqual(sizes, Array(8).fill(String(body.length)));
    } finally {
      await host.stop();
    }
  });

  test('a touched script restarts the group whichever loop takes the requests (the tick of the first loop looks for the other loops)', async () => {
    const { host } = await serve(config({ processes: 1, threads: 2 }));
    try {
      const before = (await request(`${host.url}/x`)).text.split(' ')[2];
      const now = new Date();
      utimesSync(join(t.dir, 'app.wsgi'), now, new Date(now.getTime() + 5000));
      await waitFor(async () => (await request(`${host.url}/x`)).text.split(' ')[2] !== before, 15_000, 'a new process serves');
    } finally {
      await host.stop();
    }
  });

  test('--front-ends takes a whole number from 1 to 64 or auto, and says so otherwise', async () => {
    const bad = await runCli(['serve', 'app.wsgi', '--front-ends', '0'], { cwd: t.dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--front-ends/);
    const auto = await WsgiHost.serve(['app.wsgi', '--python-home', 'venv', '--front-ends', 'auto'], { cwd: t.dir });
    try {
      assert.equal((await request(`${auto.url}/x`)).status, 200);
    } finally {
      await auto.stop();
    }
  });

  test('SIGTERM: requests in flight in both loops finish, the process exits 0 and no worker process is left', async () => {
    const { host } = await serve(config({ processes: 2, threads: 8 }));
    const workers = await childPids(host.pid);
    assert.ok(workers.length >= 2);
    const inflight = Array.from({ length: 16 }, () => request(`${host.url}/slow?0.8`));
    await new Promise((r) => setTimeout(r, 300));
    host.child.kill('SIGTERM');
    const answers = await Promise.all(inflight);
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(16).fill(200),
    );
    const exit = await Promise.race([host.exited(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 20_000))]);
    if (exit === undefined) await host.kill();
    assert.equal(exit?.code, 0, host.logText());
    await waitFor(() => workers.every((p) => !processAlive(p)), 10_000, 'every worker process gone');
    assert.ok(!existsSync(join(t.dir, 'nothing')));
  });
});
