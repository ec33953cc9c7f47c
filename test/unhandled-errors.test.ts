import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { processAlive, WsgiHost } from './helpers/wsgi-host.js';

/**
 * Loaded before wsgi-host (node --import): once the server has installed its last-resort handlers,
 * it throws from a timer and rejects a promise, as a bug in the front end would. Nothing in
 * wsgi-host itself is there for the test.
 */
const INJECT = `data:text/javascript,${encodeURIComponent(`
const poll = setInterval(() => {
  if (process.listenerCount('uncaughtException') === 0) return;
  clearInterval(poll);
  setTimeout(() => { throw new Error('injected fault: a bug that escaped containment'); }, 100);
  setTimeout(() => { Promise.reject(new Error('injected rejection')); }, 150);
}, 50);
poll.unref();
`)}`;

describe('an error that escapes every boundary: logged with its stack, counted, and the server keeps serving', () => {
  const t = tempDir();
  let host: WsgiHost;
  let admin: string;
  before(async () => {
    makeVenv(join(t.dir, 'venv'));
    t.file('app.wsgi', 'def application(e, s):\n    s("200 OK", [])\n    return [b"ok"]\n');
    const config = t.file(
      'site.toml',
      `listen = ["127.0.0.1:0"]\n[admin]\nlisten = "127.0.0.1:0"\n[[group]]\nname = "g"\npython-home = "venv"\n[[mount]]\npath = "/"\nscript = "app.wsgi"\ngroup = "g"\n`,
    );
    host = await WsgiHost.serve(['-c', config], { cwd: t.dir, nodeArgs: ['--import', INJECT] });
    admin = (await host.waitForLog(/^admin listener on (http:\/\/\S+)$/))[1] as string;
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  test('the process stays up, logs the stack, and counts both in the metrics', async () => {
    await host.waitForLog(/an exception escaped every containment boundary .*the server keeps serving/);
    await host.waitForLog(/a promise rejection escaped every containment boundary/);
    const line = host.logs.find((l) => l.unhandled === 'exception');
    assert.equal(line?.level, 'CRITICAL');
    const err = line?.err as { stack?: string; message?: string } | undefined;
    assert.equal(err?.message, 'injected fault: a bug that escaped containment');
    assert.match(String(err?.stack), /\n\s+at /, 'with its stack');
    assert.ok(processAlive(host.pid));
    assert.equal((await request(`${host.url}/`)).text, 'ok');
    const metrics = (await request(`${admin}/metrics`)).text;
    assert.match(metrics, /^wsgi_host_unhandled_errors_total\{kind="exception"\} 1$/m);
    assert.match(metrics, /^wsgi_host_unhandled_errors_total\{kind="rejection"\} 1$/m);
    assert.match(metrics, /^wsgi_host_contained_faults_total\{boundary="worker-frame"\} 0$/m);
  });
});
