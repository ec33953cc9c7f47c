import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from './helpers/http.js';
import { tempDir } from './helpers/tmp.js';
import { runCli, WsgiHost } from './helpers/wsgi-host.js';

const APP = `
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app ok"]
`;

describe('wsgi-host status and reload say what an unexpected admin answer was', () => {
  const t = tempDir();
  let fake: Server;
  let answer: { status: number; type?: string; body: string } = { status: 200, body: '' };
  let file = '';

  before(async () => {
    t.file('app.wsgi', APP);
    fake = createServer((req, res) => {
      req.resume();
      res.writeHead(answer.status, answer.type ? { 'Content-Type': answer.type } : {});
      res.end(answer.body);
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const port = (fake.address() as AddressInfo).port;
    file = t.file('site.toml', `listen = ["127.0.0.1:0"]\n[admin]\nlisten = "127.0.0.1:${port}"\n[[mount]]\nscript = "app.wsgi"\n`);
  });
  after(async () => {
    await new Promise((r) => fake.close(r));
    t.cleanup();
  });

  const cases = [
    {
      status: 200,
      type: 'text/html; charset=utf-8',
      body: '<!doctype html><title>some other server</title>',
      saw: /200 text\/html; charset=utf-8, \d+ bytes: "<!doctype html><title>some other server/,
    },
    { status: 200, type: 'application/json', body: '{"groups": 5}', saw: /200 application\/json, 13 bytes: "\{\\"groups\\": 5\}"/ },
    { status: 200, type: 'application/json', body: 'not json at all', saw: /200 application\/json, 15 bytes: "not json at all"/ },
    { status: 200, body: '\u0000\u0001binary', saw: /200 \(no Content-Type\), 8 bytes: "\\u0000\\u0001binary"/ },
  ];

  test('status: a garbage answer is an ADMIN_BAD_ANSWER error with its status, content type and first bytes, exit 1', async () => {
    for (const c of cases) {
      answer = c;
      const r = await runCli(['status', '-c', file], { cwd: t.dir, timeoutMs: 30_000 });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /error \[ADMIN_BAD_ANSWER\]/);
      assert.match(r.stderr, c.saw);
      assert.doesNotMatch(r.stderr, /internal error|TypeError|SyntaxError/);
      assert.match(r.stderr, /fix: /);
    }
    answer = { status: 502, type: 'text/html', body: '<h1>Bad Gateway</h1>' };
    const r = await runCli(['status', '-c', file], { cwd: t.dir, timeoutMs: 30_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /answered 502 \(502 text\/html, 20 bytes: "<h1>Bad Gateway<\/h1>"\)/);
  });

  test('reload: the same', async () => {
    answer = cases[0] as (typeof cases)[number];
    const r = await runCli(['reload', '-c', file], { cwd: t.dir, timeoutMs: 30_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[ADMIN_BAD_ANSWER\].*200 text\/html/);
  });
});

describe('--admin and --admin-token-file; the same configuration served twice', () => {
  const t = tempDir();
  let file = '';
  before(() => {
    t.file('app.wsgi', APP);
    file = t.file('site.toml', 'listen = ["127.0.0.1:0"]\n[[mount]]\nscript = "app.wsgi"\n');
  });
  after(() => t.cleanup());

  test('serve --help, status --help and reload --help document --admin and --admin-token-file', async () => {
    for (const cmd of ['serve', 'status', 'reload']) {
      const r = await runCli([cmd, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /--admin WHERE/);
      assert.match(r.stdout, /--admin-token-file FILE/);
    }
    assert.match((await runCli(['serve', '--help'])).stdout, /auto \(default\).*\n.*\n.*HOST:PORT or PORT \(on 127\.0\.0\.1\)/);
  });

  test('serve SCRIPT --admin 127.0.0.1:0 prints the status page URL and serves the page and /metrics', async () => {
    const h = await WsgiHost.serve([`${t.dir}/app.wsgi`, '--admin', '127.0.0.1:0'], { cwd: t.dir });
    try {
      const admin = (await h.waitForLog(/^admin listener on (http:\/\/127\.0\.0\.1:\d+)$/))[1] as string;
      await h.waitForLog(new RegExp(`^status page ${admin}/ \\(metrics ${admin}/metrics\\)$`));
      assert.match((await request(`${admin}/`)).text, /<html/i);
      assert.match((await request(`${admin}/metrics`)).text, /wsgi_host_requests_total/);
    } finally {
      await h.stop();
    }
  });

  test('--admin with a file overrides admin.listen; a public --admin needs --admin-token-file, which status then uses', async () => {
    const refused = await runCli(['serve', '-c', file, '--port', '0', '--admin', '0.0.0.0:0'], { cwd: t.dir, timeoutMs: 30_000 });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /\[ADMIN_TOKEN_REQUIRED\].*\n.*--admin-token-file/);
    const tokenFile = t.file('token', 's3cret-from-file\n');
    chmodSync(tokenFile, 0o600);
    const h = await WsgiHost.serve(['-c', file, '--admin', '0.0.0.0:0', '--admin-token-file', tokenFile], { cwd: t.dir });
    try {
      const admin = ((await h.waitForLog(/^admin listener on (http:\/\/\S+)$/))[1] as string).replace('0.0.0.0', '127.0.0.1');
      assert.equal((await request(`${admin}/status`)).status, 401);
      assert.equal((await request(`${admin}/status`, { headers: { Authorization: 'Bearer s3cret-from-file' } })).status, 200);
      const port = new URL(admin).port;
      const withToken = await runCli(['status', '-c', file, '--admin', `127.0.0.1:${port}`, '--admin-token-file', tokenFile], { cwd: t.dir });
      assert.equal(withToken.code, 0, withToken.stderr);
      assert.match(withToken.stdout, /Group \(default\): serving/);
      const without = await runCli(['status', '-c', file, '--admin', `127.0.0.1:${port}`], { cwd: t.dir });
      assert.equal(without.code, 1);
      assert.match(without.stderr, /answered 401: 401 Unauthorized/);
    } finally {
      await h.stop();
    }
    const missing = await runCli(['serve', '-c', file, '--admin-token-file', `${t.dir}/nope`], { cwd: t.dir });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\[ADMIN_TOKEN_FILE\]: --admin-token-file .*nope cannot be read \(ENOENT\)/);
    const bad = await runCli(['serve', '-c', file, '--admin', 'localhost'], { cwd: t.dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /\[CONFIG_INVALID_VALUE\]: --admin: 'localhost' is not an admin listener address\n {2}fix: Use 'auto', 'off', HOST:PORT/);
    const off = await runCli(['status', '-c', file, '--admin', 'off'], { cwd: t.dir });
    assert.equal(off.code, 1);
    assert.match(off.stderr, /\[ADMIN_OFF\]/);
  });

  test('the same file served twice: without --port the second is ALREADY_SERVING with the fix; with --port each gets its own admin socket; status picks or says which', async () => {
    const first = new WsgiHost(['serve', '-c', file, '--log-format', 'json'], { cwd: t.dir });
    const hosts: WsgiHost[] = [first];
    try {
      first.url = ((await first.waitForLog(/^wsgi-host serving (http:\/\/\S+?)\/?$/, 30_000))[1] as string).replace(/\/$/, '');
      const firstSocket = (await first.waitForLog(/^admin listener on (\/\S+\.sock)$/))[1] as string;
      const again = await runCli(['serve', '-c', file], { cwd: t.dir, timeoutMs: 30_000 });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /\[ALREADY_SERVING\]/);
      assert.match(again.stderr, /fix: .*--port \(and --host\): it then gets an admin socket of its own; or give it its own --admin/);

      const second = await WsgiHost.serve(['-c', file], { cwd: t.dir });
      hosts.push(second);
      const third = await WsgiHost.serve(['-c', file], { cwd: t.dir });
      hosts.push(third);
      const sockets = await Promise.all([second, third].map(async (h) => (await h.waitForLog(/^admin listener on (\/\S+\.sock)$/))[1] as string));
      assert.equal(new Set([firstSocket, ...sockets]).size, 3, 'three admin sockets');
      for (const h of hosts) assert.equal((await request(`${h.url}/`)).text, 'app ok');

      // Without --host/--port, status finds the one started that way.
      const plain = await runCli(['status', '-c', file, '--json'], { cwd: t.dir });
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal((JSON.parse(plain.stdout) as { server: { pid: number } }).server.pid, first.pid);
      await first.stop();
      // Now two were started with --port: status says which there are.
      const ambiguous = await runCli(['status', '-c', file], { cwd: t.dir });
      assert.equal(ambiguous.code, 1);
      assert.match(ambiguous.stderr, /\[ADMIN_AMBIGUOUS\]: 2 servers serve \S*site\.toml, on different addresses/);
      for (const s of sockets) assert.ok(ambiguous.stderr.includes(s), s);
      const chosen = await runCli(['status', '-c', file, '--admin', sockets[1] as string, '--json'], { cwd: t.dir });
      assert.equal(chosen.code, 0, chosen.stderr);
      assert.equal((JSON.parse(chosen.stdout) as { server: { pid: number } }).server.pid, third.pid);
      await third.stop();
      const single = await runCli(['reload', '-c', file], { cwd: t.dir, timeoutMs: 60_000 });
      assert.equal(single.code, 0, single.stderr);
      await second.waitForLog(/^reloaded:/);
    } finally {
      for (const h of hosts) await h.stop();
    }
  });
});
