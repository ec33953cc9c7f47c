import assert from 'node:assert/strict';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { parseAdminListen } from '../src/admin/admin-address.js';
import { AdminServer, sendJson } from '../src/admin/admin-server.js';
import { crossSiteProblem, hostProblem, tokenMatches } from '../src/admin/admin-guard.js';
import { checkSocketPath, ensureRuntimeFolder, folderProblem, runtimeFolders } from '../src/admin/runtime-folder.js';

const root = process.getuid?.() === 0;
const ROOT_SKIP = root ? false : 'needs root to give files to other users (run the suite as root: sudo npm test)';

describe('admin listener addresses and the checks every admin request passes', () => {
  test('admin.listen / --admin: auto, off, HOST:PORT, [v6]:PORT, a bare PORT on 127.0.0.1, a socket path; anything else is an error that lists the forms', () => {
    assert.deepEqual(parseAdminListen('auto'), { kind: 'auto' });
    assert.deepEqual(parseAdminListen('off'), { kind: 'off' });
    assert.deepEqual(parseAdminListen('127.0.0.1:9100'), { kind: 'tcp', host: '127.0.0.1', port: 9100 });
    assert.deepEqual(parseAdminListen('[::1]:9100'), { kind: 'tcp', host: '::1', port: 9100 });
    assert.deepEqual(parseAdminListen('9100'), { kind: 'tcp', host: '127.0.0.1', port: 9100 }, 'a bare port is loopback, never every interface');
    assert.deepEqual(parseAdminListen('./admin.sock'), { kind: 'unix', path: './admin.sock' });
    for (const bad of ['localhost', 'admin.sock', ':9100', '127.0.0.1:99999', '']) {
      assert.throws(
        () => parseAdminListen(bad, { key: '--admin' }),
        (e: Error & { code?: string; hint?: string }) => e.code === 'CONFIG_INVALID_VALUE' && /HOST:PORT/.test(e.hint ?? ''),
        bad,
      );
    }
  });

  test('tokens are compared whole (in constant time over digests)', () => {
    assert.equal(tokenMatches('Bearer s3cret', 's3cret'), true);
    for (const wrong of [undefined, '', 'Bearer s3cre', 'Bearer s3cretX', 'Bearer S3CRET', 's3cret', 'Bearer  s3cret']) {
      assert.equal(tokenMatches(wrong, 's3cret'), false, String(wrong));
    }
  });

  test('Host on a loopback listener: loopback names with the right port only (DNS rebinding)', () => {
    for (const ok of ['127.0.0.1:9100', 'localhost:9100', 'LOCALHOST:9100', '[::1]:9100', '127.1.2.3:9100', undefined]) {
      assert.equal(hostProblem(ok, 9100), undefined, String(ok));
    }
    assert.match(hostProblem('evil.example:9100', 9100) ?? '', /not a loopback name/);
    assert.match(hostProblem('127.0.0.1.evil.example:9100', 9100) ?? '', /not a loopback name/);
    assert.match(hostProblem('localhost.:9100', 9100) ?? '', /not a loopback name/);
    assert.match(hostProblem('127.0.0.1:9101', 9100) ?? '', /port 9101/);
    assert.match(hostProblem('localhost', 9100) ?? '', /port 80/);
    assert.match(hostProblem('a b', 9100) ?? '', /not a/);
  });

  test('a route that changes something needs the admin header, and no cross-site Origin or Sec-Fetch-Site', () => {
    const h = { host: '127.0.0.1:9100', 'x-wsgi-host-admin': '1' };
    assert.equal(crossSiteProblem(h), undefined);
    assert.equal(crossSiteProblem({ ...h, origin: 'http://127.0.0.1:9100', 'sec-fetch-site': 'same-origin' }), undefined);
    assert.match(crossSiteProblem({ host: h.host, 'content-type': 'text/plain' }) ?? '', /X-Wsgi-Host-Admin/);
    assert.match(crossSiteProblem({ ...h, origin: 'http://evil.example' }) ?? '', /another origin/);
    assert.match(crossSiteProblem({ ...h, origin: 'null' }) ?? '', /another origin/);
    assert.match(crossSiteProblem({ ...h, 'sec-fetch-site': 'cross-site' }) ?? '', /another site/);
    assert.match(crossSiteProblem({ ...h, 'sec-fetch-site': 'same-site' }) ?? '', /another site/);
  });
});

/** One HTTP request to 127.0.0.1:port; resolves with status, headers and body. */
function get(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false, timeout: 10_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(options.body);
  });
}

describe('the admin server: one guarded place for every request', () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  const admin = new AdminServer({ kind: 'tcp', host: '127.0.0.1', port: 0 }, 's3cret', log);
  let port = 0;
  const auth = { Authorization: 'Bearer s3cret', 'X-Wsgi-Host-Admin': '1' };

  before(async () => {
    admin.route('GET', '/ping', (_req, res) => sendJson(res, 200, { ok: true }));
    admin.route('GET', '/throws', () => {
      throw new Error('a sync bug');
    });
    admin.route('GET', '/rejects', async () => {
      await new Promise((r) => setTimeout(r, 10));
      throw new TypeError('an async bug');
    });
    admin.route('GET', '/half', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('partial');
      throw new Error('after the head');
    });
    admin.route('POST', '/echo', (_req, res, body) => sendJson(res, 200, { bytes: body.length }), { maxBody: 64 * 1024 });
    admin.route('POST', '/nobody', (_req, res, body) => sendJson(res, 200, { bytes: body.length }));
    const where = await admin.listen();
    port = Number(/:(\d+)$/.exec(where ?? '')?.[1]);
  });
  after(() => admin.close());

  test('a route that throws (sync, async, after its head) fails that request only: 500 or a closed connection, logged', async () => {
    const sync = await get(port, '/throws', { headers: auth });
    assert.equal(sync.status, 500);
    assert.match(sync.body, /a sync bug/);
    const rejected = await get(port, '/rejects', { headers: auth });
    assert.equal(rejected.status, 500);
    await assert.rejects(get(port, '/half', { headers: auth }), 'the response is cut: the client sees the connection close, not a complete answer');
    assert.equal((await get(port, '/ping')).status, 200);
    for (const m of ['a sync bug', 'an async bug', 'after the head']) {
      assert.ok(
        lines.some((l) => l.level === 50 && (l.err as { message?: string } | undefined)?.message === m),
        `logged as an error: ${m}`,
      );
    }
  });

  test('bodies: at most 64 KiB where a route takes one (declared or chunked), none where it takes none', async () => {
    assert.deepEqual(JSON.parse((await get(port, '/echo', { method: 'POST', headers: auth, body: Buffer.alloc(64 * 1024) })).body), { bytes: 65536 });
    const over = await get(port, '/echo', { method: 'POST', headers: auth, body: Buffer.alloc(64 * 1024 + 1) });
    assert.equal(over.status, 413);
    assert.equal(over.headers.connection, 'close');
    const chunked = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => {
        s.write(`POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer s3cret\r\nX-Wsgi-Host-Admin: 1\r\nTransfer-Encoding: chunked\r\n\r\n`);
        for (let i = 0; i < 3; i++) s.write(`8000\r\n${'x'.repeat(0x8000)}\r\n`);
      });
      let out = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => (out += d));
      s.on('close', () => resolve(out));
      s.on('error', () => resolve(out));
      setTimeout(() => reject(new Error(`no close within 5 s: ${out.slice(0, 100)}`)), 5000).unref();
    });
    assert.match(chunked, /^HTTP\/1\.1 413 /);
    const none = await get(port, '/nobody', { method: 'POST', headers: auth, body: 'x' });
    assert.equal(none.status, 413);
    assert.match(none.body, /takes no body/);
    assert.equal((await get(port, '/nobody', { method: 'POST', headers: auth })).status, 200, 'an empty body is no body');
  });

  test('a client that resets in the middle of a body it may send is just closed, and logged at debug level', async () => {
    await new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.write(
          `POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer s3cret\r\nX-Wsgi-Host-Admin: 1\r\nContent-Length: 60000\r\n\r\n${'x'.repeat(1000)}`,
        );
        setTimeout(() => {
          s.resetAndDestroy();
          resolve();
        }, 100);
      });
      s.on('error', () => undefined);
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await get(port, '/ping')).status, 200);
    assert.ok(
      lines.some((l) => l.level === 20 && /POST \/echo: the client went away/.test(String(l.msg))),
      'a debug line, not an error',
    );
  });

  test('unknown routes: 404; a known path with another method: 405 with Allow', async () => {
    assert.equal((await get(port, '/nope', { headers: auth })).status, 404);
    const r = await get(port, '/echo', { headers: auth });
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'POST');
  });
});

describe('private runtime folders for admin sockets', { skip: ROOT_SKIP }, () => {
  let base = '';
  const savedTmp = process.env.TMPDIR;
  const OTHER = 4242; // a user that is neither the test user nor root
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'wsgi-host-admin-test-'));
    chmodSync(base, 0o1777); // a shared temporary folder, like /tmp
  });
  after(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    rmSync(base, { recursive: true, force: true });
  });

  test('root uses /run/wsgi-host; a user $XDG_RUNTIME_DIR/wsgi-host when it is theirs, else a folder of their own in the temporary folder', () => {
    process.env.TMPDIR = base;
    assert.deepEqual(runtimeFolders(0, {}), ['/run/wsgi-host', join(base, 'wsgi-host-admin-0')]);
    assert.deepEqual(
      runtimeFolders(0, { XDG_RUNTIME_DIR: '/run/user/0' }),
      ['/run/wsgi-host', join(base, 'wsgi-host-admin-0')],
      'root ignores a login shell XDG_RUNTIME_DIR',
    );
    const xdg = join(base, 'xdg-1000');
    mkdirSync(xdg, { mode: 0o700 });
    chownSync(xdg, 1000, 1000);
    assert.deepEqual(runtimeFolders(1000, { XDG_RUNTIME_DIR: xdg }), [join(xdg, 'wsgi-host'), join(base, 'wsgi-host-admin-1000')]);
    assert.deepEqual(runtimeFolders(OTHER, { XDG_RUNTIME_DIR: xdg }), [join(base, `wsgi-host-admin-${OTHER}`)], "another user's XDG_RUNTIME_DIR is not used");
  });

  test('serve makes its folder 0700; a folder another user made first, a link, or one others can write is refused with what is wrong', () => {
    process.env.TMPDIR = base;
    const mine = 5151;
    const made = ensureRuntimeFolder(mine, {});
    chownSync(made, mine, mine); // as the user would have made it
    const st = lstatSync(made);
    assert.equal(st.mode & 0o777, 0o700);
    assert.equal(ensureRuntimeFolder(mine, {}), made);

    const squatted = join(base, `wsgi-host-admin-${mine + 1}`);
    mkdirSync(squatted, { mode: 0o700 });
    chownSync(squatted, OTHER, OTHER);
    assert.throws(
      () => ensureRuntimeFolder(mine + 1, {}),
      (e: Error & { code?: string; hint?: string }) =>
        e.code === 'ADMIN_DIR_UNTRUSTED' && e.message.includes(squatted) && e.message.includes(`belongs to uid ${OTHER}`) && /--admin PATH/.test(e.hint ?? ''),
    );

    const open = join(base, `wsgi-host-admin-${mine + 2}`);
    mkdirSync(open);
    chownSync(open, mine + 2, mine + 2);
    chmodSync(open, 0o777);
    assert.throws(
      () => ensureRuntimeFolder(mine + 2, {}),
      (e: Error & { code?: string }) => e.code === 'ADMIN_DIR_UNTRUSTED' && /can be written by other users \(mode 0777\)/.test(e.message),
    );
    assert.match(folderProblem(open, mine + 2) ?? '', /mode 0777/);

    const link = join(base, `wsgi-host-admin-${mine + 3}`);
    symlinkSync(made, link);
    assert.throws(
      () => ensureRuntimeFolder(mine + 3, {}),
      (e: Error & { code?: string }) => e.code === 'ADMIN_DIR_UNTRUSTED' && /symbolic link/.test(e.message),
    );
  });

  test('a socket another user made (or that is no socket) is never trusted; a missing one is just missing', async () => {
    const dir = join(base, 'sockets');
    mkdirSync(dir, { mode: 0o700 });
    const path = join(dir, 'admin.sock');
    assert.equal(checkSocketPath(path), false);
    writeFileSync(path, 'not a socket');
    assert.throws(
      () => checkSocketPath(path),
      (e: Error & { code?: string }) => e.code === 'ADMIN_SOCKET_UNTRUSTED' && /is not a socket \(it is a file\)/.test(e.message),
    );
    rmSync(path);
    const server = createNetServer();
    await new Promise<void>((r) => server.listen(path, r));
    try {
      assert.equal(checkSocketPath(path), true);
      chownSync(path, OTHER, OTHER);
      assert.throws(
        () => checkSocketPath(path),
        (e: Error & { code?: string }) => e.code === 'ADMIN_SOCKET_UNTRUSTED' && e.message.includes(`belongs to uid ${OTHER}`),
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
