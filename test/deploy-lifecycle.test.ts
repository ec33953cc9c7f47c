import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from './helpers/http.js';
import { describeFailures, steadyLoad } from './helpers/load.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { ROOT, waitFor, WsgiHost } from './helpers/wsgi-host.js';

/**
 * The deployment recipes of docs/deploying.md, driven on this machine as their supervisors would
 * drive them (there is no systemd as PID 1 and no cluster here): the probes polled all along, the
 * signals the unit and the Deployment send, under load, with zero failed requests.
 */

const APP = String.raw`
import os, time
def application(environ, start_response):
    if environ["PATH_INFO"] == "/sleep":
        time.sleep(float(environ["QUERY_STRING"]))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("shop %d" % os.getpid()).encode()]
`;

/** Polls a probe every 100 ms until stopped; what it answered other than 200 is kept. */
function probePoller(url: string): { stop: () => Promise<string[]>; count: () => number } {
  const failures: string[] = [];
  let n = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const r = await request(url, { timeoutMs: 2000 }).catch((e: Error) => ({ status: e.message, text: '' }));
      n++;
      if (r.status !== 200) failures.push(`${r.status} ${r.text.trim()}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return failures;
    },
    count: () => n,
  };
}

/** The ConfigMap's wsgi-host.toml of examples/deploy/kubernetes.yaml, with this machine's paths. */
function configMapToml(dir: string): string {
  const yaml = readFileSync(join(ROOT, 'examples', 'deploy', 'kubernetes.yaml'), 'utf8');
  const block = /wsgi-host\.toml: \|\n((?: {4}.*\n|\n)+)/.exec(yaml)?.[1] ?? '';
  return block
    .split('\n')
    .map((l) => l.slice(4))
    .join('\n')
    .replace('python-home = "/srv/venv"', `python-home = "${join(dir, 'venv')}"\npython-path = ["${dir}"]`);
}

describe('the deployment recipes under load', () => {
  const t = tempDir();
  before(() => {
    makeVenv(join(t.dir, 'venv'));
    t.file('shop/__init__.py', '');
    t.file('shop/wsgi.py', APP);
  });
  after(() => t.cleanup());

  test('systemd: `systemctl reload` (SIGHUP) under load while the probes are polled: readiness never fails, zero failed requests, the new settings serve', async () => {
    const file = join(t.dir, 'reload.toml');
    writeFileSync(file, configMapToml(t.dir));
    const host = await WsgiHost.serve(['-c', file, '--host', '127.0.0.1'], { cwd: t.dir });
    try {
      const ready = probePoller(`${host.url}/readyz`);
      const alive = probePoller(`${host.url}/healthz`);
      const load = steadyLoad(`${host.url}/`, { concurrency: 6, durationMs: 60_000 });
      await new Promise((r) => setTimeout(r, 800));
      const before = new Set((await request(`${host.url}/`)).text.split(' ').slice(1));
      // The unit's ExecReload: kill -HUP $MAINPID, with a changed group (new processes).
      writeFileSync(file, configMapToml(t.dir).replace('threads = 8', 'threads = 4'));
      host.child.kill('SIGHUP');
      await host.waitForLog(/^reloaded: 1 group\(s\) started with new settings/, 60_000);
      await new Promise((r) => setTimeout(r, 800));
      load.stop();
      const result = await load.done;
      const readyFailures = await ready.stop();
      const aliveFailures = await alive.stop();
      assert.equal(result.failed, 0, `failed: ${describeFailures(result)}`);
      assert.ok(result.ok > 50, `${result.ok} requests under load`);
      assert.deepEqual(readyFailures, [], '/readyz failed during the reload');
      assert.deepEqual(aliveFailures, [], '/healthz failed during the reload');
      assert.ok(ready.count() > 5);
      const pids = new Set([...result.bodies].map((b) => b.split(' ')[1]));
      const after = (await request(`${host.url}/`)).text.split(' ')[1] as string;
      assert.ok(!before.has(after), 'new processes serve after the reload');
      assert.ok(pids.size >= 2, 'the load was served by the old processes, then the new ones');
    } finally {
      await host.stop();
    }
  });

  test('Kubernetes: the startup probe until ready, readiness and liveness polled, the preStop sleep with traffic still arriving, then SIGTERM: zero failed requests, exit 0 within the grace period', async () => {
    const yaml = readFileSync(join(ROOT, 'examples', 'deploy', 'kubernetes.yaml'), 'utf8');
    const preStop = Number(/preStop:[\s\S]*?seconds: (\d+)/.exec(yaml)?.[1]);
    const grace = Number(/terminationGracePeriodSeconds: (\d+)/.exec(yaml)?.[1]);
    const file = t.file('k8s.toml', configMapToml(t.dir));
    const host = new WsgiHost(['serve', '-c', file, '--host', '127.0.0.1', '--port', '0', '--log-format', 'json'], { cwd: t.dir });
    try {
      const listen = (await host.waitForLog(/^wsgi-host serving (http:\/\/\S+?)\/?$/, 60_000))[1] as string;
      const url = (host.logs.find((l) => typeof l.listen === 'string')?.listen as string | undefined) ?? listen;
      // startupProbe: /readyz every second until it answers 200.
      await waitFor(async () => (await request(`${url}/readyz`, { timeoutMs: 1000 }).catch(() => undefined))?.status === 200, 60_000, 'the startup probe');
      const ready = probePoller(`${url}/readyz`);
      const alive = probePoller(`${url}/healthz`);
      const load = steadyLoad(`${url}/`, { concurrency: 4, durationMs: 120_000 });
      await new Promise((r) => setTimeout(r, 500));
      // The pod is deleted: the preStop sleep runs while the Service still sends some traffic.
      await new Promise((r) => setTimeout(r, preStop * 1000));
      load.stop();
      const result = await load.done;
      const readyDuringPreStop = await ready.stop();
      const aliveFailures = await alive.stop();
      // Then SIGTERM, with a request in flight: it finishes; the process exits 0 within the grace period.
      const slow = request(`${url}/sleep?1.5`, { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 200));
      const sigterm = Date.now();
      host.child.kill('SIGTERM');
      const s = await slow;
      const exit = await host.exited();
      assert.equal(s.status, 200, 'the request in flight at SIGTERM finished');
      assert.equal(exit.code, 0);
      assert.ok(Date.now() - sigterm < (grace - preStop) * 1000, `exited ${Date.now() - sigterm} ms after SIGTERM, within the grace period left`);
      assert.equal(result.failed, 0, `failed: ${describeFailures(result)}`);
      assert.ok(result.ok > 50, `${result.ok} requests under load`);
      assert.deepEqual(readyDuringPreStop, [], 'readiness held during preStop (the Service takes the pod out, not the pod itself)');
      assert.deepEqual(aliveFailures, [], 'liveness held until SIGTERM');
    } finally {
      await host.stop();
    }
  });
});
