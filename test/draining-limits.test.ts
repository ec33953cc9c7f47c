import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { WsgiHost } from './helpers/wsgi-host.js';

const APP = `
import time

def application(environ, start_response):
    if environ["PATH_INFO"] == "/hang":
        time.sleep(120)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"fast"]
`;

describe('every limit applies in every state of a process', () => {
  const t = tempDir();
  let host: WsgiHost;
  before(async () => {
    makeVenv(join(t.dir, 'venv'));
    t.file('app.wsgi', APP);
    // One process of two threads, recycled after every request; graceful-timeout far above request-timeout.
    const config = t.file(
      'site.toml',
      `listen = ["127.0.0.1:0"]
[[group]]
name = "recycled"
python-home = "venv"
processes = 1
threads = 2
maximum-requests = 1
request-timeout = 6
graceful-timeout = 60
[[mount]]
path = "/"
script = "app.wsgi"
group = "recycled"
`,
    );
    host = await WsgiHost.serve(['-c', config], { cwd: t.dir });
  });
  after(async () => {
    await host?.kill();
    t.cleanup();
  });

  test('a hanging request on a process being recycled gets 504 at request-timeout, not 502 after graceful-timeout', async () => {
    const started = Date.now();
    const hanging = request(`${host.url}/hang`, { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 300)); // it runs on the only process
    assert.equal((await request(`${host.url}/fast`)).text, 'fast'); // that process has served its share
    await host.waitForLog(/recycling worker process \(maximum-requests/);
    const r = await hanging;
    const took = (Date.now() - started) / 1000;
    assert.equal(r.status, 504, r.text);
    assert.ok(took >= 5.5 && took < 15, `answered after ${took.toFixed(1)}s (request-timeout 6s)`);
    // The replacement was ready before the limit: the request was cut while its process drained.
    await host.waitForLog(/request-timeout: a request has run .*while it finishes its other requests and leaves/);
    assert.equal((await request(`${host.url}/fast`)).text, 'fast');
  });
});
