import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from './helpers/tmp.js';
import { type RunResult, runCli, WsgiHost } from './helpers/wsgi-host.js';
import { cliForOtherUsers } from './helpers/package-copy.js';

const root = process.getuid?.() === 0;
const ROOT_SKIP = root ? false : 'needs root, to act as another local user (run the suite as root: sudo npm test)';
const NOBODY = 65534;

const APP = `
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app ok"]
`;

/**
 * Another local user's server on a unix socket: it answers every request as a wsgi-host would
 * ({"ok": true}) and records each request it receives (method, path, headers).
 */
const SQUATTER = String.raw`
const http = require('http');
const path = process.argv[1];
const s = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    process.stdout.write(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }) + '\n');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"ok": true, "message": "squatted"}');
  });
});
if (path === 'tcp') s.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + s.address().port + '\n'));
else s.listen(path, () => { require('fs').chmodSync(path, 0o777); process.stdout.write('listening\n'); });
`;

class Squatter {
  readonly child: ChildProcess;
  private out = '';
  constructor(readonly path: string) {
    this.child = spawn(process.execPath, ['-e', SQUATTER, path], { uid: NOBODY, gid: NOBODY, cwd: '/', stdio: ['ignore', 'pipe', 'inherit'] });
    this.child.stdout?.setEncoding('utf8').on('data', (t: string) => (this.out += t));
  }
  /** The port of a squatter on 'tcp'. */
  get port(): number {
    return Number(/listening (\d+)/.exec(this.out)?.[1]);
  }
  async ready(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!/listening( \d+)?\n/.test(this.out)) {
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`the squatter did not listen on ${this.path}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  /** What it received. */
  get requests(): { method: string; url: string; headers: Record<string, string> }[] {
    return this.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { method: string; url: string; headers: Record<string, string> });
  }
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGKILL');
      await gone;
    }
    if (this.path !== 'tcp') rmSync(this.path, { force: true });
  }
}

/** Runs the CLI as user nobody (bounded). */
function runAsNobody(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliForOtherUsers(), ...args], {
      uid: NOBODY,
      gid: NOBODY,
      cwd: '/',
      env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`wsgi-host ${args.join(' ')} (as nobody) did not finish within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('admin sockets cannot be squatted by another local user', { skip: ROOT_SKIP }, () => {
  const t = tempDir();
  let file = '';
  const squatters: Squatter[] = [];
  const squat = async (path: string): Promise<Squatter> => {
    const s = new Squatter(path);
    squatters.push(s);
    await s.ready();
    return s;
  };

  before(() => {
    t.file('app.wsgi', APP);
    file = t.file('site.toml', 'listen = ["127.0.0.1:0"]\n[admin]\ntoken = "s3cret"\n[[mount]]\nscript = "app.wsgi"\n');
  });
  after(async () => {
    for (const s of squatters) await s.stop();
    t.cleanup();
  });

  test('the automatic admin socket is in /run/wsgi-host (0700, root), the socket itself 0600', async () => {
    const h = await WsgiHost.serve(['-c', file], { cwd: t.dir });
    try {
      const path = (await h.waitForLog(/^admin listener on (\/\S+)$/))[1] as string;
      assert.match(path, /^\/run\/wsgi-host\/[0-9a-f]{16}(-[0-9a-f]{8})?\.sock$/);
      const dir = lstatSync('/run/wsgi-host');
      assert.equal(dir.uid, 0);
      assert.equal(dir.mode & 0o777, 0o700);
      const sock = lstatSync(path);
      assert.ok(sock.isSocket());
      assert.equal(sock.mode & 0o777, 0o600);
    } finally {
      await h.stop();
    }
  });

  test('a squatter on the old predictable path in the shared temporary folder neither stops serve nor gets the token of status and reload', async () => {
    // Where wsgi-host used to put the socket of this configuration: predictable by anyone who knows its path.
    const legacy = join(
      tmpdir(),
      `wsgi-host-${createHash('sha256')
        .update(`toml:${realpathSync(file)}`)
        .digest('hex')
        .slice(0, 16)}.sock`,
    );
    const squatter = await squat(legacy);
    const h = await WsgiHost.serve(['-c', file], { cwd: t.dir });
    try {
      const status = await runCli(['status', '-c', file], { cwd: t.dir, timeoutMs: 30_000 });
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /Group \(default\): serving/);
      const reload = await runCli(['reload', '-c', file], { cwd: t.dir, timeoutMs: 60_000 });
      assert.equal(reload.code, 0, reload.stderr);
      assert.match(reload.stdout, /reloaded:/);
      assert.deepEqual(squatter.requests, [], 'the squatter received nothing');
      assert.ok(existsSync(legacy), "another user's file is left alone");
    } finally {
      await h.stop();
    }
  });

  test('an admin socket path another user took first: serve, status and reload refuse it and say so; the token never goes there', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'wsgi-host-shared-'));
    try {
      chmodSync(shared, 0o1777); // a shared folder, sticky like /tmp
      const path = join(shared, 'admin.sock');
      const squatter = await squat(path);
      const cfg = t.file('explicit.toml', `listen = ["127.0.0.1:0"]\n[admin]\nlisten = "${path}"\ntoken = "s3cret"\n[[mount]]\nscript = "app.wsgi"\n`);
      const serve = await runCli(['serve', '-c', cfg, '--port', '0'], { cwd: t.dir, timeoutMs: 60_000 });
      assert.equal(serve.code, 1);
      assert.match(
        serve.stderr,
        /\[ADMIN_SOCKET_UNTRUSTED\]: the admin socket cannot be trusted: .*admin\.sock belongs to uid 65534 \(nobody\), not to uid 0 \(root\)/,
      );
      assert.match(serve.stderr, /fix: Another user may have created it/);
      for (const cmd of ['status', 'reload']) {
        const r = await runCli([cmd, '-c', cfg], { cwd: t.dir, timeoutMs: 30_000 });
        assert.equal(r.code, 1, `${cmd}: ${r.stdout}`);
        assert.match(r.stderr, /\[ADMIN_SOCKET_UNTRUSTED\]/, cmd);
      }
      assert.deepEqual(squatter.requests, [], 'the squatter received nothing, no token');
      assert.ok(existsSync(path), "another user's socket is left alone");

      // A folder anyone may write to (and not sticky): anyone could swap the socket later.
      const open = join(shared, 'open');
      mkdirSync(open);
      chmodSync(open, 0o777);
      const cfgOpen = t.file('open.toml', `listen = ["127.0.0.1:0"]\n[admin]\nlisten = "${open}/admin.sock"\n[[mount]]\nscript = "app.wsgi"\n`);
      const r = await runCli(['serve', '-c', cfgOpen, '--port', '0'], { cwd: t.dir, timeoutMs: 60_000 });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\[ADMIN_DIR_UNTRUSTED\]: .*open can be written by other users \(mode 0777\)/);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  test("a loopback admin port held by another user's process does not get the token", async () => {
    const squatter = await squat('tcp');
    const cfg = t.file(
      'tcp.toml',
      `listen = ["127.0.0.1:0"]\n[admin]\nlisten = "127.0.0.1:${squatter.port}"\ntoken = "s3cret"\n[[mount]]\nscript = "app.wsgi"\n`,
    );
    for (const cmd of ['status', 'reload']) {
      const r = await runCli([cmd, '-c', cfg], { cwd: t.dir, timeoutMs: 30_000 });
      assert.equal(r.code, 1, `${cmd}: ${r.stdout}`);
      assert.match(
        r.stderr,
        new RegExp(`\\[ADMIN_SOCKET_UNTRUSTED\\]: .*port ${squatter.port} on 127\\.0\\.0\\.1 is held by a process of uid 65534 \\(nobody\\)`),
        cmd,
      );
    }
    assert.deepEqual(squatter.requests, [], 'the squatter received nothing, no token');
  });

  test('as another user: a private folder someone else made first is refused; otherwise serve makes its own (0700) and status finds it, with XDG_RUNTIME_DIR or without', async () => {
    // A temporary folder of the test's own, shared like /tmp, readable by nobody.
    const base = mkdtempSync(join(tmpdir(), 'wsgi-host-nobody-'));
    const servers: ChildProcess[] = [];
    try {
      chmodSync(base, 0o1777);
      const app = join(base, 'app.wsgi');
      writeFileSync(app, APP);
      chmodSync(app, 0o644);
      const env = { TMPDIR: base };
      const own = join(base, `wsgi-host-admin-${NOBODY}`);
      mkdirSync(own, { mode: 0o700 });
      chownSync(own, 1, 1); // made first by another user (daemon)
      const refused = await runAsNobody(['serve', app, '--port', '0'], env, 20_000);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        new RegExp(
          `\\[ADMIN_DIR_UNTRUSTED\\]: the admin socket's folder cannot be trusted: ${own} belongs to uid 1 \\(daemon\\), not to uid 65534 \\(nobody\\) or root`,
        ),
      );
      const status = await runAsNobody(['status', app, '--port', '8123'], env);
      assert.equal(status.code, 1);
      assert.match(status.stderr, /\[ADMIN_DIR_UNTRUSTED\]/);
      rmSync(own, { recursive: true });

      // Serve as nobody: the folder is made 0700, owned by nobody, and found by status (with an XDG_RUNTIME_DIR set or not).
      const started = async (extraEnv: NodeJS.ProcessEnv): Promise<string> => {
        const child = spawn(
          process.execPath,
          [cliForOtherUsers(), 'serve', app, '--port', '8123', '--host', '127.0.0.1', '--log-format', 'json', '--processes', '1'],
          {
            uid: NOBODY,
            gid: NOBODY,
            cwd: '/',
            env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', ...extraEnv },
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        servers.push(child);
        let err = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
        const deadline = Date.now() + 30_000;
        for (;;) {
          const m = /"admin listener on ([^"]+)"/.exec(err);
          if (m && /wsgi-host serving/.test(err)) return m[1] as string;
          if (Date.now() > deadline || child.exitCode !== null) throw new Error(`wsgi-host serve as nobody did not start:\n${err}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const stopLast = async (): Promise<void> => {
        const c = servers.pop() as ChildProcess;
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await gone;
      };
      const socket = await started(env);
      assert.equal(socket, join(own, `${socket.split('/').pop()}`));
      const st = lstatSync(own);
      assert.equal(st.uid, NOBODY);
      assert.equal(st.mode & 0o777, 0o700);
      const xdg = join(base, 'xdg');
      mkdirSync(xdg, { mode: 0o700 });
      chownSync(xdg, NOBODY, NOBODY);
      const found = await runAsNobody(['status', app, '--port', '8123', '--host', '127.0.0.1'], { ...env, XDG_RUNTIME_DIR: xdg });
      assert.equal(found.code, 0, found.stderr);
      assert.match(found.stdout, /Group \(default\): serving/);
      await stopLast();

      const inXdg = await started({ ...env, XDG_RUNTIME_DIR: xdg });
      assert.ok(inXdg.startsWith(`${xdg}/wsgi-host/`), inXdg);
      assert.equal(lstatSync(join(xdg, 'wsgi-host')).mode & 0o777, 0o700);
      const foundXdg = await runAsNobody(['status', app, '--port', '8123', '--host', '127.0.0.1'], { ...env, XDG_RUNTIME_DIR: xdg });
      assert.equal(foundXdg.code, 0, foundXdg.stderr);
      await stopLast();
    } finally {
      for (const c of servers) c.kill('SIGKILL');
      rmSync(base, { recursive: true, force: true });
    }
  });
});
