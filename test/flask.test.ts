import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from './helpers/node-test.js';
import { getJson, request } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { runCli, WsgiHost } from './helpers/wsgi-host.js';
import { Cookies, copyExample, debianPython } from './fixtures/real-apps.js';

/**
 * examples/flask as its README does it: a venv of Debian's python3 (Flask from python3-flask),
 * `wsgi-host check`, `wsgi-host serve -c wsgi-host.toml` (2 processes x 4 threads), then streaming,
 * the session cookie and the JSON API over real HTTP.
 */
const deb = debianPython(['flask'], ['python3-flask']);

interface Arrival {
  /** ms since the request was sent */
  at: number;
  text: string;
}

/** GET with node:http, noting when each piece of the body arrives. */
function timedGet(url: string, timeoutMs = 30_000): Promise<{ status: number; headers: Record<string, unknown>; arrivals: Arrival[]; end: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = httpRequest(url, { agent: false }, (res) => {
      const arrivals: Arrival[] = [];
      res.setEncoding('utf8');
      res.on('data', (text: string) => arrivals.push({ at: performance.now() - start, text }));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, arrivals, end: performance.now() - start });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`${url}: no end within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end();
  });
}

describe('examples/flask under wsgi-host: streaming, sessions, JSON API', { skip: deb.skip }, () => {
  const t = tempDir('wsgi-host-flask-');
  const site = join(t.dir, 'flask');
  let host: WsgiHost | undefined;
  let venvPython = '';

  before(async () => {
    assert.ok(deb.python, deb.missing);
    copyExample('flask', site);
    makeVenv(join(site, 'venv'), { python: deb.python.path, systemSitePackages: true });
    venvPython = deb.python.version;
    const check = await runCli(['check', '-c', 'wsgi-host.toml'], { cwd: site, timeoutMs: 90_000 });
    assert.equal(check.code, 0, `wsgi-host check -c wsgi-host.toml:\n${check.stdout}${check.stderr}`);
    assert.match(check.stdout, /app:app: imports, callable found/);
    host = await WsgiHost.serve(['-c', 'wsgi-host.toml'], { cwd: site, timeoutMs: 90_000 });
  });

  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  test('streamed chunks arrive as they are yielded, not buffered to the end', async () => {
    const count = 5;
    const delay = 300; // ms the app sleeps between chunks
    const r = await timedGet(`${host?.url}/stream?count=${count}&delay=${delay / 1000}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], undefined, 'no Content-Length: the length is not known up front');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    // When each line arrived.
    const lineAt: number[] = [];
    let text = '';
    for (const a of r.arrivals) {
      text += a.text;
      while (lineAt.length < text.split('\n').length - 1) lineAt.push(a.at);
    }
    const lines = text.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(' at ')[0]),
      Array.from({ length: count }, (_, i) => `chunk ${i}`),
    );
    const first = lineAt[0] as number;
    const summary = `chunks at ${lineAt.map((x) => x.toFixed(0)).join(', ')} ms, end at ${r.end.toFixed(0)} ms`;
    // The app spends (count - 1) * delay ms after its first chunk; buffered, the first chunk would
    // arrive with the last. 0.8: timers may fire a little early, never the sleeps in Python.
    assert.ok(r.end - first >= 0.8 * (count - 1) * delay, `the first chunk arrives well before the end: ${summary}`);
    for (let i = 1; i < count; i++) {
      assert.ok((lineAt[i] as number) - first >= 0.8 * i * delay, `chunk ${i} arrives about ${i * delay} ms after the first: ${summary}`);
    }
  });

  test('the session cookie round-trips: the counter goes up across requests carrying the cookie', async () => {
    const u = host?.url as string;
    const jar = new Cookies();
    for (let expected = 1; expected <= 8; expected++) {
      const r = await request(`${u}/counter`, { headers: jar.header() ? { Cookie: jar.header() } : {} });
      assert.equal(r.status, 200);
      jar.update(r.headers);
      assert.ok(jar.get('session'), `a session cookie; Set-Cookie: ${String(r.headers['set-cookie'])}`);
      assert.deepEqual(JSON.parse(r.text), { count: expected });
      assert.match(String(r.headers.vary), /Cookie/);
    }
    // Without the cookie, or with one signed by another key, the count starts again.
    assert.deepEqual(JSON.parse((await request(`${u}/counter`)).text), { count: 1 });
    const cookie = jar.get('session') as string;
    const tampered = `${cookie.slice(0, -2)}${cookie.endsWith('AA') ? 'BB' : 'AA'}`;
    assert.deepEqual(JSON.parse((await request(`${u}/counter`, { headers: { Cookie: `session=${tampered}` } })).text), { count: 1 });
    // Still the same session for the real cookie.
    assert.deepEqual(JSON.parse((await request(`${u}/counter`, { headers: { Cookie: jar.header() } })).text), { count: 9 });
    const reset = await request(`${u}/counter/reset`, { method: 'POST', headers: { Cookie: jar.header() } });
    jar.update(reset.headers);
    assert.deepEqual(JSON.parse((await request(`${u}/counter`, { headers: { Cookie: jar.header() } })).text), { count: 1 });
  });

  test('the JSON API: info, a POST with a JSON body, JSON errors', async () => {
    const u = host?.url as string;
    const info = await getJson<{ python: string; flask: string; script_name: string }>(`${u}/api/info`);
    assert.equal(info.python, venvPython, 'runs on the venv’s Python');
    assert.equal(info.script_name, '');

    const counted = await request(`${u}/api/wordcount`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'The cat and the hat. The end!', top: 2 }),
    });
    assert.equal(counted.status, 200);
    assert.match(counted.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(counted.text), {
      words: 7,
      distinct: 5,
      top: [
        { word: 'the', count: 3 },
        { word: 'cat', count: 1 },
      ],
    });

    const bad = await request(`${u}/api/wordcount`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"text": ' });
    assert.equal(bad.status, 400);
    assert.deepEqual(JSON.parse(bad.text), { error: 'send a JSON object with a "text" string' });

    const missing = await request(`${u}/api/nothing-here`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers['content-type'] ?? '', /^application\/json/);
    assert.ok(typeof (JSON.parse(missing.text) as { error: unknown }).error === 'string');

    const wrongMethod = await request(`${u}/api/wordcount`);
    assert.equal(wrongMethod.status, 405);
    assert.match(wrongMethod.headers['content-type'] ?? '', /^application\/json/);
    assert.match(String(wrongMethod.headers.allow), /POST/);
  });
});
