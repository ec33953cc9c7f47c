import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parseRaw, rawRequest, request } from './helpers/http.js';
import { tempDir } from './helpers/tmp.js';
import { processAlive, WsgiHost } from './helpers/wsgi-host.js';

const APP = `
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app ok"]
`;

const config = (admin: string): string => `
listen = ["127.0.0.1:0"]
[admin]
${admin}
[[mount]]
script = "app.wsgi"
`;

/** Sends `head` (and `body`) on a new connection, then resets it (RST) after `waitMs`. */
function sendAndReset(port: number, head: string, body: string | Buffer, waitMs = 100): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(head);
      if (body.length) s.write(body);
      setTimeout(() => {
        s.resetAndDestroy();
        resolve();
      }, waitMs);
    });
    s.on('error', () => resolve());
  });
}

/**
 * Sends `head`, then keeps writing `chunk` (up to `maxBytes`) until the server closes the
 * connection; resolves with what the server sent and how many body bytes went out, or rejects
 * when the server has not closed within `timeoutMs`.
 */
function streamUntilClosed(
  port: number,
  head: string,
  chunk: () => Buffer | string,
  maxBytes: number,
  timeoutMs: number,
): Promise<{ reply: string; sent: number }> {
  return new Promise((resolve, reject) => {
    let reply = '';
    let sent = 0;
    let done = false;
    const s = connect(port, '127.0.0.1');
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ reply, sent });
    };
    const timer = setTimeout(() => {
      done = true;
      s.destroy();
      reject(new Error(`the server had not closed the connection after ${timeoutMs} ms and ${sent} body bytes; it sent: ${reply.slice(0, 200)}`));
    }, timeoutMs);
    const pump = (): void => {
      while (!done && sent < maxBytes) {
        const c = chunk();
        sent += c.length;
        if (!s.write(c)) {
          s.once('drain', pump);
          return;
        }
      }
    };
    s.on('connect', () => {
      s.write(head);
      pump();
    });
    s.setEncoding('latin1');
    s.on('data', (d: string) => (reply += d));
    s.on('end', finish);
    s.on('close', finish);
    s.on('error', finish);
  });
}

describe('the admin listener survives what clients send it (token set)', () => {
  const t = tempDir();
  let host: WsgiHost;
  let port = 0;
  let admin = '';

  before(async () => {
    t.file('app.wsgi', APP);
    const file = t.file('site.toml', config('listen = "127.0.0.1:0"\ntoken = "s3cret"'));
    host = await WsgiHost.serve(['-c', file], { cwd: t.dir });
    admin = (await host.waitForLog(/^admin listener on (http:\/\/\S+)$/))[1] as string;
    port = Number(new URL(admin).port);
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  const stillServes = async (): Promise<void> => {
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(processAlive(host.pid) && host.child.exitCode === null, `the server is still running; logs:\n${host.logText()}`);
    assert.equal((await request(`${admin}/ping`)).status, 200);
    const app = await request(`${host.url}/`);
    assert.equal(app.text, 'app ok');
  };

  test('part of a Content-Length body, then a reset, on /ping, /reload, /status and an unknown route: the server keeps serving', async () => {
    const auth = 'Authorization: Bearer s3cret\r\nX-Wsgi-Host-Admin: 1\r\n';
    for (const [method, path, extra] of [
      ['GET', '/ping', ''],
      ['POST', '/reload', auth],
      ['GET', '/status', auth],
      ['POST', '/nope', auth],
    ] as const) {
      await sendAndReset(port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${extra}Content-Length: 100000\r\n\r\n`, 'x'.repeat(1000));
      await sendAndReset(port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${extra}Transfer-Encoding: chunked\r\n\r\n`, '100\r\nabc');
      await stillServes();
    }
    assert.ok(!host.logs.some((l) => /reloaded:/.test(String(l.msg))), 'no reload ran from a request that never arrived whole');
  });

  test('a 600 MB body is refused at once (413, connection closed) without being read, declared or streamed', async () => {
    const auth = 'Authorization: Bearer s3cret\r\nX-Wsgi-Host-Admin: 1\r\n';
    for (const [method, path, extra] of [
      ['GET', '/ping', ''],
      ['POST', '/reload', auth],
    ] as const) {
      const started = Date.now();
      const declared = await streamUntilClosed(
        port,
        `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${extra}Content-Length: 629145600\r\n\r\n`,
        () => Buffer.alloc(0),
        0,
        5000,
      );
      const r = parseRaw(declared.reply);
      assert.equal(r.status, 413, declared.reply.slice(0, 200));
      assert.equal(r.headers.connection, 'close');
      assert.ok(Date.now() - started < 5000);
      const block = Buffer.alloc(1 << 20, 'x');
      const chunk = Buffer.concat([Buffer.from('100000\r\n'), block, Buffer.from('\r\n')]);
      const streamed = await streamUntilClosed(
        port,
        `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${extra}Transfer-Encoding: chunked\r\n\r\n`,
        () => chunk,
        600 * (1 << 20),
        10_000,
      );
      assert.ok(streamed.sent < 600 * (1 << 20), `closed after ${streamed.sent} bytes, long before 600 MB`);
      if (streamed.reply) assert.match(streamed.reply, /^HTTP\/1\.1 413 /);
      await stillServes();
    }
  });
});

describe('the admin listener on loopback without a token: DNS rebinding and cross-site requests', () => {
  const t = tempDir();
  let host: WsgiHost;
  let port = 0;
  let admin = '';
  const reloads = (): number => host.logs.filter((l) => /^reloaded:/.test(String(l.msg))).length;

  before(async () => {
    t.file('app.wsgi', APP);
    const file = t.file('site.toml', config('listen = "127.0.0.1:0"'));
    host = await WsgiHost.serve(['-c', file], { cwd: t.dir });
    admin = (await host.waitForLog(/^admin listener on (http:\/\/\S+)$/))[1] as string;
    port = Number(new URL(admin).port);
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  const raw = async (head: string): Promise<{ status: number; headers: Record<string, string>; body: string }> =>
    parseRaw(await rawRequest(admin, `${head}Connection: close\r\n\r\n`));

  test('a Host that is not a loopback name with this port is refused (421); localhost, 127.0.0.1 and [::1] work', async () => {
    for (const bad of ['rebind.attacker.example', `rebind.attacker.example:${port}`, `127.0.0.1:${port + 1}`, 'localhost']) {
      const r = await raw(`GET /status HTTP/1.1\r\nHost: ${bad}\r\n`);
      assert.equal(r.status, 421, bad);
      assert.ok(!r.body.includes('"groups"'), 'no status leaks');
    }
    for (const good of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      const r = await raw(`GET /status HTTP/1.1\r\nHost: ${good}\r\n`);
      assert.equal(r.status, 200, good);
      assert.match(r.body, /"groups"/);
    }
  });

  test('a cross-site text/plain POST /reload (CSRF) is refused; the admin header from a non-browser client reloads', async () => {
    const before = reloads();
    const attempts = [
      // What a form or fetch(..., {mode: 'no-cors'}) on another site sends.
      `POST /reload HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://attacker.example\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nSec-Fetch-Site: cross-site\r\n`,
      // The same from a browser that sends neither Origin nor Sec-Fetch-*.
      `POST /reload HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n`,
      // The header cannot come from another site without a preflight; still, Origin and Sec-Fetch-Site are checked.
      `POST /reload HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Wsgi-Host-Admin: 1\r\nOrigin: http://attacker.example\r\nContent-Length: 0\r\n`,
      `POST /reload HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Wsgi-Host-Admin: 1\r\nSec-Fetch-Site: cross-site\r\nContent-Length: 0\r\n`,
    ];
    for (const a of attempts) {
      const r = await raw(a);
      assert.equal(r.status, 403, a);
    }
    const withBody = await rawRequest(
      admin,
      `POST /reload HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nx=1\r\n`,
    );
    assert.notEqual(parseRaw(withBody).status, 200);
    const preflight = await raw(
      `OPTIONS /reload HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://attacker.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: x-wsgi-host-admin\r\n`,
    );
    assert.ok(preflight.status >= 400, 'the preflight is not granted');
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(reloads(), before, 'nothing reloaded');

    const ok = await raw(`POST /reload HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Wsgi-Host-Admin: 1\r\nContent-Length: 0\r\n`);
    assert.equal(ok.status, 200, ok.body);
    await host.waitForLog(/^reloaded:/);
  });
});
