import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from './helpers/http.js';
import { defaultPython, makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { runCli, waitFor, WsgiHost } from './helpers/wsgi-host.js';

const APP = (name: string): string => String.raw`
import json, logging, os, sys
log = logging.getLogger("${name}")
def application(environ, start_response):
    p = environ["PATH_INFO"]
    if p == "/warn":
        logging.warning("a warning from %s", "${name}")
        print("printed to stdout")
        sys.stderr.write("written to stderr\n")
    if p == "/configured":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.info("an info line through the app's own handler")
        log.removeHandler(handler)
    if p == "/boom":
        raise RuntimeError("boom")
    if p == "/missing":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no"]
    body = json.dumps({"app": "${name}", "rid": environ.get("HTTP_X_REQUEST_ID"), "mod_wsgi_rid": environ.get("mod_wsgi.request_id")}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
`;

/** Sum of a metric's samples matching all the given labels. */
function metric(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const have = Object.fromEntries(
      (m[1] ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.split('=').map((x) => x.replace(/^"|"$/g, '')) as [string, string]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[2]);
  }
  return sum;
}

describe('observability: metrics, status API, logs with levels and request ids, the admin listener', () => {
  const t = tempDir();
  let host: WsgiHost;
  let admin: string;
  let venvA: string;
  let venvB: string;

  before(async () => {
    venvA = makeVenv(join(t.dir, 'venv-a'));
    venvB = makeVenv(join(t.dir, 'venv-b'));
    t.file('a.wsgi', APP('a'));
    t.file('b.wsgi', APP('b'));
    const config = t.file(
      'site.toml',
      `
listen = ["127.0.0.1:0"]

[log]
access = "access.log"
access-format = '%(h)s "%(r)s" %(s)s %(b)s rid=%(rid)s group=%(g)s us=%(D)s'

[admin]
listen = "127.0.0.1:0"

[[group]]
name = "a"
python-home = "venv-a"
processes = 2
threads = 2

[[group]]
name = "b"
python-home = "venv-b"

[[mount]]
path = "/a"
script = "a.wsgi"
group = "a"

[[mount]]
path = "/b"
script = "b.wsgi"
group = "b"
`,
    );
    host = await WsgiHost.serve(['-c', config], { cwd: t.dir });
    admin = (await host.waitForLog(/^admin listener on (http:\/\/\S+)$/))[1] as string;
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  test('metrics change by the right amounts after a known set of requests', async () => {
    const before = (await request(`${admin}/metrics`)).text;
    for (let i = 0; i < 7; i++) assert.equal((await request(`${host.url}/a/ok`)).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await request(`${host.url}/a/missing`)).status, 404);
    assert.equal((await request(`${host.url}/b/boom`)).status, 500);
    const after = (await request(`${admin}/metrics`)).text;
    const delta = (name: string, labels: Record<string, string>) => metric(after, name, labels) - metric(before, name, labels);
    assert.equal(delta('wsgi_host_requests_total', { group: 'a', status_class: '2xx' }), 7);
    assert.equal(delta('wsgi_host_requests_total', { group: 'a', status_class: '4xx' }), 2);
    assert.equal(delta('wsgi_host_requests_total', { group: 'b', status_class: '5xx' }), 1);
    assert.equal(delta('wsgi_host_request_duration_seconds_count', { group: 'a' }), 9);
    assert.equal(delta('wsgi_host_request_duration_seconds_bucket', { group: 'a', le: '+Inf' }), 9);
    assert.ok(delta('wsgi_host_request_duration_seconds_sum', { group: 'a' }) > 0);
    assert.equal(metric(after, 'wsgi_host_requests_in_flight', { group: 'a' }), 0);
    assert.equal(metric(after, 'wsgi_host_threads', { group: 'a' }), 4, 'busy + idle = 2 processes x 2 threads');
    assert.equal(metric(after, 'wsgi_host_processes', { group: 'a', state: 'ready' }), 2);
    assert.ok(metric(after, 'wsgi_host_worker_resident_memory_bytes', { group: 'b' }) > 1_000_000);
    for (const name of ['wsgi_host_worker_resident_memory_bytes', 'wsgi_host_worker_cpu_seconds']) {
      const pids = after
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`) && l.includes('group="a"'))
        .map((l) => /pid="(\d+)"/.exec(l)?.[1]);
      assert.equal(new Set(pids).size, 2, `${name}: one sample per process of group a, each with its pid`);
    }
    assert.ok(metric(after, 'wsgi_host_worker_cpu_seconds', { group: 'a' }) > 0);
    assert.match(after, /wsgi_host_frontend_process_resident_memory_bytes \d+/);
  });

  test('the status API lists every group and process with its python-home and version', async () => {
    const s = (await request(`${admin}/status`)).text;
    const status = JSON.parse(s) as {
      groups: { label: string; pythonHome: string; pythonVersion: string; processList: { pid: number; pythonHome: string; pythonVersion: string }[] }[];
    };
    const version = defaultPython().version;
    const byLabel = Object.fromEntries(status.groups.map((g) => [g.label, g]));
    assert.deepEqual(Object.keys(byLabel).sort(), ['a', 'b']);
    assert.equal(byLabel.a?.pythonHome, venvA);
    assert.equal(byLabel.b?.pythonHome, venvB);
    assert.equal(byLabel.a?.processList.length, 2);
    for (const g of status.groups) {
      assert.equal(g.pythonVersion, version);
      for (const p of g.processList) {
        assert.equal(p.pythonHome, g.pythonHome);
        assert.equal(p.pythonVersion, version);
      }
    }
    const cannot = await runCli(['status', '-c', join(t.dir, 'site.toml')], { cwd: t.dir });
    assert.equal(cannot.code, 1);
    assert.match(cannot.stderr, /\[ADMIN_PORT_UNKNOWN\]/);
  });

  test('wsgi-host status finds the server through its admin socket and prints the same', async () => {
    const config = t.file(
      'auto.toml',
      'listen = ["127.0.0.1:0"]\n[[group]]\nname = "a"\npython-home = "venv-a"\nprocesses = 2\n[[mount]]\nscript = "a.wsgi"\ngroup = "a"\n',
    );
    const h = await WsgiHost.serve(['-c', config], { cwd: t.dir });
    try {
      await request(`${h.url}/`);
      const cli = await runCli(['status', '-c', config], { cwd: t.dir });
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /Group a: serving\n {2}Python [\d.]+, python-home .*venv-a/);
      assert.match(cli.stdout, /requests 1 \(2xx 1\)/);
      const json = JSON.parse((await runCli(['status', '-c', config, '--json'], { cwd: t.dir })).stdout) as { groups: { processList: { pid: number }[] }[] };
      for (const p of json.groups[0]?.processList ?? []) assert.ok(cli.stdout.includes(String(p.pid)));
    } finally {
      await h.stop();
    }
  });

  test('logging.warning arrives as WARNING with its request id; stdout as INFO, stderr as ERROR; an app handler keeps its level', async () => {
    await request(`${host.url}/a/warn`, { headers: { 'X-Request-Id': 'warn-1' } });
    await request(`${host.url}/a/configured`, { headers: { 'X-Request-Id': 'conf-1' } });
    await host.waitForLog(/a warning from a/);
    const find = (re: RegExp) => host.logs.find((l) => re.test(String(l.msg)));
    const warning = find(/a warning from a/);
    assert.equal(warning?.level, 'WARNING');
    assert.equal(warning?.requestId, 'warn-1');
    assert.equal(warning?.group, 'a');
    assert.ok(typeof warning?.pid === 'number');
    await host.waitForLog(/printed to stdout/);
    assert.equal(find(/printed to stdout/)?.level, 'INFO');
    assert.equal(find(/written to stderr/)?.level, 'ERROR');
    await host.waitForLog(/an info line through the app's own handler/);
    const own = find(/an info line through the app's own handler/);
    assert.equal(own?.level, 'INFO');
    assert.equal(own?.requestId, 'conf-1');
  });

  test('request ids: kept from the client, or made; in environ, the response, and both logs', async () => {
    const given = await request(`${host.url}/a/ok`, { headers: { 'X-Request-Id': 'client-id-42' } });
    assert.equal(given.headers['x-request-id'], 'client-id-42');
    assert.deepEqual(JSON.parse(given.text), { app: 'a', rid: 'client-id-42', mod_wsgi_rid: 'client-id-42' });
    const made = await request(`${host.url}/a/ok`);
    const rid = made.headers['x-request-id'] as string;
    assert.match(rid, /^[0-9a-f]{12}-[0-9a-z]+$/);
    assert.equal((JSON.parse(made.text) as { rid: string }).rid, rid);
    await request(`${host.url}/b/boom`, { headers: { 'X-Request-Id': 'boom-id-7' } });
    await host.waitForLog(/Exception while serving GET \/b\/boom/);
    assert.equal(host.logs.find((l) => /Exception while serving GET \/b\/boom/.test(String(l.msg)) && l.requestId === 'boom-id-7')?.level, 'ERROR');
    const accessLog = join(t.dir, 'access.log');
    await waitFor(() => existsSync(accessLog) && readFileSync(accessLog, 'utf8').includes('rid=boom-id-7'), 5000, 'the access log line');
    const line = readFileSync(accessLog, 'utf8')
      .split('\n')
      .find((l) => l.includes('rid=client-id-42'));
    assert.match(line ?? '', /^127\.0\.0\.1 "GET \/a\/ok HTTP\/1\.1" 200 \d+ rid=client-id-42 group=a us=\d+$/);
  });

  test('the access log is reopened on SIGUSR1 (log rotation)', async () => {
    const accessLog = join(t.dir, 'access.log');
    renameSync(accessLog, `${accessLog}.1`);
    process.kill(host.pid, 'SIGUSR1');
    await host.waitForLog(/SIGUSR1: reopening the log files/);
    await request(`${host.url}/a/ok`, { headers: { 'X-Request-Id': 'after-rotation' } });
    await waitFor(() => existsSync(accessLog) && readFileSync(accessLog, 'utf8').includes('rid=after-rotation'), 5000, 'a new access.log');
    assert.ok(!readFileSync(`${accessLog}.1`, 'utf8').includes('after-rotation'));
  });

  test('an admin listener on a non-loopback address needs a token, and refuses requests without it', async () => {
    const base = `listen = ["127.0.0.1:0"]\n[[mount]]\nscript = "a.wsgi"\n`;
    const open = t.file('open.toml', `${base}[admin]\nlisten = "0.0.0.0:0"\n`);
    const r = await runCli(['serve', '-c', open], { cwd: t.dir, timeoutMs: 30_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /\[ADMIN_TOKEN_REQUIRED\]/);
    const guarded = t.file('guarded.toml', `${base}[admin]\nlisten = "0.0.0.0:0"\ntoken = "s3cret"\n`);
    const h = await WsgiHost.serve(['-c', guarded], { cwd: t.dir });
    try {
      const url = ((await h.waitForLog(/^admin listener on (http:\/\/\S+)$/))[1] as string).replace('0.0.0.0', '127.0.0.1');
      assert.equal((await request(`${url}/status`)).status, 401);
      assert.equal((await request(`${url}/metrics`, { headers: { Authorization: 'Bearer wrong' } })).status, 401);
      assert.equal((await request(`${url}/status`, { headers: { Authorization: 'Bearer s3cret' } })).status, 200);
      const page = await request(`${url}/`);
      assert.equal(page.status, 200, 'the page itself holds no data: it asks for the token');
      assert.match(page.text, /<html/i);
    } finally {
      await h.stop();
    }
  });
});

describe('logs a newcomer reads: the access log of serve SCRIPT, and the levels of what an app logs through wsgi.errors', () => {
  const t = tempDir();
  // Radicale's way: a logging.Handler of its own that writes each record to environ['wsgi.errors'].
  const app = t.file(
    'radicale_like.wsgi',
    String.raw`
import logging
class ToErrors(logging.Handler):
    stream = None
    def emit(self, record):
        self.stream.write(self.format(record) + "\n")
handler = ToErrors()
handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
log = logging.getLogger("radicale")
log.addHandler(handler)
log.setLevel(logging.DEBUG)
log.propagate = False
def application(environ, start_response):
    handler.stream = environ["wsgi.errors"]
    p = environ["PATH_INFO"]
    log.info("info through wsgi.errors %s", p)
    log.debug("debug through wsgi.errors %s", p)
    log.warning("warning through wsgi.errors %s", p)
    if p == "/plain":
        environ["wsgi.errors"].write("a plain write to wsgi.errors\n")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
`,
  );
  after(() => t.cleanup());

  test('a logging record written to wsgi.errors keeps its level; a plain write is ERROR (as mod_wsgi); --log-level warn keeps it quiet', async () => {
    const host = await WsgiHost.serve([app, '--log-level', 'debug'], { cwd: t.dir });
    try {
      await request(`${host.url}/levels`);
      await request(`${host.url}/plain`);
      await host.waitForLog(/a plain write to wsgi\.errors/);
      const level = (re: RegExp): string | undefined => host.logs.find((l) => re.test(String(l.msg)))?.level;
      assert.equal(level(/\[INFO\] info through wsgi\.errors \/levels/), 'INFO');
      assert.equal(level(/\[DEBUG\] debug through wsgi\.errors \/levels/), 'DEBUG');
      assert.equal(level(/\[WARNING\] warning through wsgi\.errors \/levels/), 'WARNING');
      assert.equal(level(/a plain write to wsgi\.errors/), 'ERROR');
    } finally {
      await host.stop();
    }
    const quiet = await WsgiHost.serve([app, '--log-level', 'warn'], { cwd: t.dir });
    try {
      for (let i = 0; i < 20; i++) await request(`${quiet.url}/quiet`);
      await quiet.waitForLog(/\[WARNING\] warning through wsgi\.errors \/quiet/);
      assert.ok(!quiet.logs.some((l) => /through wsgi\.errors/.test(String(l.msg)) && l.level !== 'WARNING'), quiet.logText());
    } finally {
      await quiet.stop();
    }
  });

  test('serve SCRIPT writes an access log to stdout by default (combined format); --access-log off turns it off', async () => {
    const host = await WsgiHost.serve([app], { cwd: t.dir });
    try {
      await request(`${host.url}/seen?x=1`, { headers: { 'User-Agent': 'newcomer-test', Referer: 'http://ref.test/' } });
      await waitFor(() => host.stdout.join('').includes('/seen?x=1'), 5000, 'the access log line on stdout');
      const line = host.stdout
        .join('')
        .split('\n')
        .find((l) => l.includes('/seen?x=1')) as string;
      assert.match(
        line,
        /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/seen\?x=1 HTTP\/1\.1" 200 2 "http:\/\/ref\.test\/" "newcomer-test"$/,
      );
    } finally {
      await host.stop();
    }
    const off = await WsgiHost.serve([app, '--access-log', 'off'], { cwd: t.dir });
    try {
      await request(`${off.url}/unseen`);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(!off.stdout.join('').includes('/unseen'), off.stdout.join(''));
    } finally {
      await off.stop();
    }
  });

  test('access log lines on stdout arrive one by one as requests end, not in batches', async (ctx) => {
    const host = await WsgiHost.serve([app, '--log-level', 'warn'], { cwd: t.dir });
    const arrived = new Map<string, number>();
    host.child.stdout?.on('data', (text: string) => {
      for (const m of text.matchAll(/GET \/line-(\d+) /g)) if (!arrived.has(m[1] as string)) arrived.set(m[1] as string, performance.now());
    });
    try {
      const delays: number[] = [];
      for (let i = 0; i < 8; i++) {
        await request(`${host.url}/line-${i}`);
        const done = performance.now();
        await waitFor(() => arrived.has(String(i)), 5000, `the access log line of request ${i}`);
        delays.push((arrived.get(String(i)) as number) - done);
        await new Promise((r) => setTimeout(r, 30));
      }
      delays.sort((a, b) => a - b);
      const median = delays[Math.floor(delays.length / 2)] as number;
      ctx.diagnostic(`delays from response to access log line (ms): ${delays.map((d) => d.toFixed(1)).join(', ')}`);
      // Written within ACCESS_LOG_FLUSH_MS (50 ms) of the response; bounds leave room for a busy machine.
      assert.ok(median <= 100, `median delay ${median.toFixed(1)} ms (all: ${delays.map((d) => d.toFixed(0)).join(', ')})`);
      assert.ok((delays[delays.length - 1] as number) <= 500, `slowest ${delays[delays.length - 1]?.toFixed(0)} ms`);
    } finally {
      await host.stop();
    }
  });
});
