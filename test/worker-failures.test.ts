import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Response, request } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { childPids, processAlive, waitFor, WsgiHost } from './helpers/wsgi-host.js';

const APP = String.raw`
import os, time
def application(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        with open(os.path.join(os.environ["MARKS"], "slow-started"), "w") as f:
            f.write(str(os.getpid()))
        time.sleep(30)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("pid %d" % os.getpid()).encode()]
`;

describe('a worker that dies fails only its in-flight requests; no worker outlives the front end', () => {
  const t = tempDir();
  let venv: string;
  let app: string;
  let marks: string;

  before(async () => {
    venv = makeVenv(join(t.dir, 'venv'));
    marks = join(t.dir, 'marks');
    (await import('node:fs')).mkdirSync(marks);
    app = t.file('app.wsgi', APP);
  });
  after(() => t.cleanup());

  test('SIGKILL of a worker mid-request: 502 for that request only, the next succeeds, the log says why', async () => {
    const host = await WsgiHost.serve([app, '--python-home', venv, '--processes', '1', '--threads', '4'], { env: { MARKS: marks } });
    try {
      const fs = await import('node:fs');
      const slow = request(`${host.url}/slow`, { timeoutMs: 20_000 });
      await waitFor(() => fs.existsSync(join(marks, 'slow-started')), 10_000, 'the slow request to start');
      const pid = Number(fs.readFileSync(join(marks, 'slow-started'), 'utf8'));
      process.kill(pid, 'SIGKILL');
      const r = await slow;
      assert.equal(r.status, 502);
      assert.doesNotMatch(r.text, /Traceback/);
      await host.waitForLog(/killed by SIGKILL/);
      assert.ok(host.logs.some((l) => /killed by SIGKILL while serving this request; answered 502/.test(String(l.msg))));
      let ok: Response;
      const deadline = Date.now() + 15_000;
      do {
        ok = await request(`${host.url}/fast`);
      } while (ok.status !== 200 && Date.now() < deadline);
      assert.equal(ok.status, 200);
      assert.notEqual(ok.text, `pid ${pid}`, 'a new worker serves');
    } finally {
      await host.stop();
    }
  });

  test('kill -9 of the front end leaves no worker behind', async () => {
    const host = await WsgiHost.serve([app, '--python-home', venv, '--processes', '3', '--threads', '2'], { env: { MARKS: marks } });
    const workers = await childPids(host.pid);
    assert.equal(workers.length, 3);
    await host.kill();
    await waitFor(() => workers.every((p) => !processAlive(p)), 10_000, 'every worker to exit after the front end died');
  });

  test('SIGTERM: the front end finishes, stops its workers and exits 0', async () => {
    const host = await WsgiHost.serve([app, '--python-home', venv, '--processes', '2'], { env: { MARKS: marks } });
    const workers = await childPids(host.pid);
    const r = await host.stop();
    assert.equal(r.code, 0);
    await waitFor(() => workers.every((p) => !processAlive(p)), 5000, 'workers to exit');
  });
});
