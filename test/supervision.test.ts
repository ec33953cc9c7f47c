import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from './helpers/http.js';
import { describeFailures, steadyLoad } from './helpers/load.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { childPids, runCli, waitFor, WsgiHost } from './helpers/wsgi-host.js';

const APP = (code: string): string => String.raw`
import os, time
CODE = "${code}"
VERSION = os.environ.get("VERSION", "?")
def application(environ, start_response):
    p = environ["PATH_INFO"]
    if p == "/slow":
        time.sleep(float(environ.get("QUERY_STRING") or "0.02"))
    body = ("%s %s %d" % (CODE, VERSION, os.getpid())).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
`;

const config = (version: string, extra = ''): string => `
listen = ["127.0.0.1:0"]

[[group]]
name = "app"
python-home = "venv"
processes = 2
threads = 2
env = { VERSION = "${version}" }
${extra}

[[group]]
name = "other"
python-home = "venv"
processes = 1

[[mount]]
path = "/"
script = "app.wsgi"
group = "app"

[[mount]]
path = "/other"
script = "other.wsgi"
group = "other"
`;

describe('supervision under steady load: reloads, script touches and recycling drop nothing', () => {
  const t = tempDir();
  let host: WsgiHost;
  let file: string;

  before(async () => {
    makeVenv(join(t.dir, 'venv'));
    t.file('app.wsgi', APP('a'));
    t.file('other.wsgi', APP('other'));
    file = t.file('site.toml', config('1'));
    host = await WsgiHost.serve(['-c', file], { cwd: t.dir });
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  test('a configuration reload: zero failed requests; the changed group gets new processes, the unchanged one keeps its own', async () => {
    const otherBefore = (await request(`${host.url}/other/`)).text;
    const load = steadyLoad(`${host.url}/slow`, { concurrency: 8, durationMs: 4000 });
    await new Promise((r) => setTimeout(r, 800));
    writeFileSync(file, config('2'));
    const r = await runCli(['reload', '-c', file], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /reloaded: 1 group\(s\) started with new settings, 1 unchanged/);
    const result = await load.done;
    assert.equal(result.failed, 0, `failures: ${describeFailures(result)}`);
    assert.ok(result.ok > 50, `requests served: ${result.ok}`);
    const versions = new Set([...result.bodies].map((b) => b.split(' ')[1]));
    assert.deepEqual([...versions].sort(), ['1', '2'], 'served by the old processes, then the new');
    assert.match((await request(`${host.url}/`)).text, /^a 2 /);
    assert.equal((await request(`${host.url}/other/`)).text, otherBefore, 'the unchanged group kept its process');
  });

  test('touching the script restarts only its group; the request that noticed is served by the new code', async () => {
    const otherBefore = (await request(`${host.url}/other/`)).text;
    const load = steadyLoad(`${host.url}/slow`, { concurrency: 8, durationMs: 4000 });
    await new Promise((r) => setTimeout(r, 800));
    writeFileSync(join(t.dir, 'app.wsgi'), APP('b'));
    await new Promise((r) => setTimeout(r, 1100)); // past the once-a-second check
    const noticed = await request(`${host.url}/`);
    assert.match(noticed.text, /^b /, 'the request after the change runs the new code');
    const result = await load.done;
    assert.equal(result.failed, 0, `failures: ${describeFailures(result)}`);
    assert.equal((await request(`${host.url}/other/`)).text, otherBefore, 'the other group was not restarted');
    await host.waitForLog(/restarting every process \(script-touched: .*app\.wsgi changed\)/);
  });

  test('maximum-requests recycling: zero failed requests, new processes, the reason logged', async () => {
    writeFileSync(file, config('3', 'maximum-requests = 40\nmaximum-requests-jitter = 10'));
    assert.equal((await runCli(['reload', '-c', file], { cwd: t.dir, timeoutMs: 60_000 })).code, 0);
    const load = steadyLoad(`${host.url}/slow?0.005`, { concurrency: 8, durationMs: 4000 });
    const result = await load.done;
    assert.equal(result.failed, 0, `failures: ${describeFailures(result)}`);
    const pids = new Set([...result.bodies].map((b) => b.split(' ')[2]));
    assert.ok(pids.size > 3, `processes were recycled: ${pids.size} pids served`);
    await host.waitForLog(/recycling worker process \(maximum-requests: served \d+ requests\)/);
  });

  test('SIGKILL of a random worker fails at most its in-flight requests, and the group recovers', async () => {
    writeFileSync(file, config('4'));
    assert.equal((await runCli(['reload', '-c', file], { cwd: t.dir, timeoutMs: 60_000 })).code, 0);
    const load = steadyLoad(`${host.url}/slow?0.02`, { concurrency: 8, durationMs: 4000 });
    await new Promise((r) => setTimeout(r, 1000));
    const workers = await appWorkers(host, '4');
    const victim = workers[Math.floor(Math.random() * workers.length)] as number;
    process.kill(victim, 'SIGKILL');
    const result = await load.done;
    assert.ok(result.failed <= 2, `at most its 2 running requests (threads = 2) failed: ${describeFailures(result)}`);
    for (const [why] of result.failures) assert.equal(why, 'status 502');
    await host.waitForLog(/killed by SIGKILL/);
    await waitFor(async () => (await appWorkers(host, '4')).length === 2, 15_000, 'the group to be back to 2 processes');
    assert.equal((await request(`${host.url}/`)).status, 200);
  });

  test('a reload with a broken configuration keeps the old one serving', async () => {
    const before = (await request(`${host.url}/`)).text;
    writeFileSync(file, `${config('5')}\n[[group]]\nname = "app"\n`);
    const r = await runCli(['reload', '-c', file], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /reload refused, the running configuration keeps serving: \[CONFIG_DUPLICATE_GROUP\]/);
    assert.equal((await request(`${host.url}/`)).text.split(' ')[1], before.split(' ')[1]);
    // An application that fails to import: the new processes never take over.
    writeFileSync(file, config('6'));
    writeFileSync(join(t.dir, 'app.wsgi'), `raise ImportError("broken deploy")\n`);
    const r2 = await runCli(['reload', '-c', file], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /\[APP_LOAD_FAILED\][\s\S]*broken deploy/);
    assert.equal((await request(`${host.url}/`)).text.split(' ')[1], before.split(' ')[1], 'the old processes still serve');
  });
});

/** The live processes of group "app" started with VERSION=version. */
async function appWorkers(host: WsgiHost, version: string): Promise<number[]> {
  const pids = await childPids(host.pid);
  const out: number[] = [];
  for (const pid of pids) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (env.split('\0').includes(`VERSION=${version}`)) {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        if (!/State:\s+Z/.test(status)) out.push(pid);
      }
    } catch {
      /* gone */
    }
  }
  return out;
}
