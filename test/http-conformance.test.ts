import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CORPUS, type CorpusCase } from './fixtures/http-corpus.js';
import { makeVenv } from './helpers/python.js';
import { RawClient, type RawResponse, rawExchange } from './helpers/raw-http.js';
import { tempDir } from './helpers/tmp.js';
import { WsgiHost } from './helpers/wsgi-host.js';

/** Answers with what it saw: every string key of its environ, and the body it read (latin-1). */
export const ECHO_APP = String.raw`
import json
def application(environ, start_response):
    seen = dict((k, v) for k, v in environ.items() if isinstance(v, str))
    seen["body"] = environ["wsgi.input"].read().decode("latin-1")
    seen["numbered_headers"] = sum(1 for k in environ if k.startswith("HTTP_X_H"))
    out = json.dumps(seen).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]
`;

/** Statuses after which wsgi-host closes the connection (the framing or the request cannot be trusted). */
const CLOSING = new Set([400, 405, 408, 413, 431, 501, 505]);

function checkOutcome(c: CorpusCase, r: RawResponse | undefined, where: string): void {
  assert.ok(r !== undefined, `${c.name} (${where}): the connection closed without a response`);
  assert.equal(r.status, c.status, `${c.name} (${where}): status ${r.status}, body ${r.text.slice(0, 300)}`);
  if (c.app === undefined) return;
  const seen = JSON.parse(r.text) as Record<string, unknown>;
  for (const [k, v] of Object.entries(c.app)) {
    assert.equal(seen[k] ?? null, v, `${c.name} (${where}): environ ${k}`);
  }
}

describe('HTTP conformance corpus (RFC 9112 / RFC 9110), on a fresh and on a kept-alive connection', () => {
  const t = tempDir();
  let host: WsgiHost;

  before(async () => {
    makeVenv(join(t.dir, 'venv'));
    t.file('echo.wsgi', ECHO_APP);
    t.file(
      'site.toml',
      `listen = ["127.0.0.1:0"]
[limits]
max-body-size = 100000
[default-group]
processes = 1
threads = 4
[[mount]]
script = "echo.wsgi"
`,
    );
    host = await WsgiHost.serve(['-c', join(t.dir, 'site.toml')], { cwd: t.dir, env: { VIRTUAL_ENV: join(t.dir, 'venv') } });
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  for (const c of CORPUS) {
    test(`${c.name} [RFC ${c.rfc}] -> ${c.status}`, async () => {
      // On a fresh connection.
      const fresh = await RawClient.open(host.url);
      try {
        fresh.write(c.request);
        const r = await fresh.readFinal(10_000);
        checkOutcome(c, r, 'fresh connection');
        // (a response to a request whose body was not read closes after reading it, at most 5 s: Apache's lingering close)
        if (CLOSING.has(c.status)) assert.ok(await fresh.waitClosed(8000), `${c.name}: the connection is closed after ${c.status}`);
      } finally {
        fresh.destroy();
      }
      // After a valid request on a kept-alive connection: its answer first, whole.
      const kept = await RawClient.open(host.url);
      try {
        kept.write('GET /first HTTP/1.1\r\nHost: t\r\n\r\n');
        const first = await kept.readFinal(10_000);
        assert.equal(first?.status, 200);
        assert.equal((JSON.parse(first?.text ?? '{}') as Record<string, string>).PATH_INFO, '/first');
        kept.write(c.request);
        checkOutcome(c, await kept.readFinal(10_000), 'kept-alive connection');
        if (CLOSING.has(c.status)) assert.ok(await kept.waitClosed(8000), `${c.name}: the connection is closed after ${c.status}`);
      } finally {
        kept.destroy();
      }
    });
  }

  test('the same, pipelined: the valid request and the case in one write; the valid answer comes first and whole', async () => {
    for (const c of CORPUS) {
      const k = await RawClient.open(host.url);
      try {
        k.write(`GET /first HTTP/1.1\r\nHost: t\r\n\r\n${c.request}`);
        const first = await k.readFinal(10_000);
        assert.equal(first?.status, 200, `${c.name}: the request before it is answered first`);
        assert.equal((JSON.parse(first?.text ?? '{}') as Record<string, string>).PATH_INFO, '/first', c.name);
        checkOutcome(c, await k.readFinal(10_000), 'pipelined');
      } finally {
        k.destroy();
      }
    }
  });
});

describe('issue 12 defects 4-7 (request side): encoded slashes, Host, header count, transfer codings', () => {
  const t = tempDir();
  let venv: string;

  before(() => {
    venv = makeVenv(join(t.dir, 'venv'));
    t.file('echo.wsgi', ECHO_APP);
  });
  after(() => t.cleanup());

  const serve = (toml: string): Promise<WsgiHost> =>
    WsgiHost.serve(['-c', t.file(`c${Math.random().toString(36).slice(2)}.toml`, `listen = ["127.0.0.1:0"]\npython-home = "venv"\n${toml}`)], { cwd: t.dir });
  const pathInfo = async (url: string, path: string, hostName = 't'): Promise<string | number> => {
    const r = await rawExchange(url, `GET ${path} HTTP/1.1\r\nHost: ${hostName}\r\n\r\n`);
    if (r?.status !== 200) return r?.status ?? 0;
    return (JSON.parse(r.text) as Record<string, string>).PATH_INFO as string;
  };

  test('4: %2F is a 404 by default; allow-encoded-slashes on/nodecode server-wide and per host; dots never survive', async () => {
    const off = await serve('[[mount]]\nscript = "echo.wsgi"\n');
    try {
      assert.equal(await pathInfo(off.url, '/a/..%2F..%2Fetc/passwd'), 404);
      assert.equal(await pathInfo(off.url, '/a%2fb'), 404);
      assert.equal(await pathInfo(off.url, '/a/%2e%2e/b'), '/b');
      assert.equal(await pathInfo(off.url, '/a?next=%2Fhome'), '/a', 'the query string may carry one');
    } finally {
      await off.stop();
    }
    const mixed = await serve(`allow-encoded-slashes = "On"
[[mount]]
script = "echo.wsgi"
[[host]]
server-name = "nodecode.example"
allow-encoded-slashes = "NoDecode"
[[host]]
server-name = "strict.example"
allow-encoded-slashes = "off"
[[host]]
server-name = "inherits.example"
default = true
`);
    try {
      assert.equal(await pathInfo(mixed.url, '/a%2Fb', 'inherits.example'), '/a/b');
      assert.equal(await pathInfo(mixed.url, '/a/b/..%2Fc', 'inherits.example'), '/a/c');
      assert.equal(await pathInfo(mixed.url, '/a/..%2F..%2Fetc/passwd', 'inherits.example'), 400);
      assert.equal(await pathInfo(mixed.url, '/a%2Fb%20c', 'nodecode.example'), '/a%2Fb c');
      assert.equal(await pathInfo(mixed.url, '/a/..%2F..%2Fetc/passwd', 'nodecode.example'), '/a/..%2F..%2Fetc/passwd');
      assert.equal(await pathInfo(mixed.url, '/a%2Fb', 'strict.example'), 404);
    } finally {
      await mixed.stop();
    }
  });

  test('4: AllowEncodedSlashes in an Apache configuration, server-wide and in a VirtualHost', async () => {
    const conf = t.file(
      'site.conf',
      `Listen 127.0.0.1:0
WSGIPythonHome ${venv}
AllowEncodedSlashes NoDecode
WSGIScriptAlias / ${join(t.dir, 'echo.wsgi')}
<VirtualHost *:80>
    ServerName plain.example
</VirtualHost>
<VirtualHost *:80>
    ServerName decoding.example
    AllowEncodedSlashes On
</VirtualHost>
`,
    );
    const host = await WsgiHost.serve(['--apache', conf], { cwd: t.dir });
    try {
      assert.equal(await pathInfo(host.url, '/a%2Fb', 'plain.example'), '/a%2Fb', 'inherited from the server level');
      assert.equal(await pathInfo(host.url, '/a%2Fb', 'decoding.example'), '/a/b');
    } finally {
      await host.stop();
    }
  });

  test('docs/http.md: SCRIPT_NAME, PATH_INFO, REQUEST_URI and QUERY_STRING as its table shows them', async () => {
    const host = await serve(`[[mount]]
path = "/app"
script = "echo.wsgi"
[[host]]
server-name = "off.example"
default = true
[[host]]
server-name = "on.example"
allow-encoded-slashes = "on"
[[host]]
server-name = "nodecode.example"
allow-encoded-slashes = "nodecode"
`);
    const rows: [string, string, [string, string, string, string] | number][] = [
      ['/app', 'off', ['/app', '', '/app', '']],
      ['/app/', 'off', ['/app', '/', '/app/', '']],
      ['/app/a%20b/caf%C3%A9?q=%2F', 'off', ['/app', '/a b/cafÃ©', '/app/a%20b/caf%C3%A9?q=%2F', 'q=%2F']],
      ['//app/./x/../y//z', 'off', ['/app', '/y/z', '//app/./x/../y//z', '']],
      ['/app/%2e%2e/app/x', 'off', ['/app', '/x', '/app/%2e%2e/app/x', '']],
      ['/app/a%2Fb', 'off', 404],
      ['/app/a%2Fb', 'on', ['/app', '/a/b', '/app/a%2Fb', '']],
      ['/app/a%2Fb', 'nodecode', ['/app', '/a%2Fb', '/app/a%2Fb', '']],
      ['http://off.example/app/x', 'off', ['/app', '/x', 'http://off.example/app/x', '']],
    ];
    try {
      for (const [target, mode, want] of rows) {
        const r = await rawExchange(host.url, `GET ${target} HTTP/1.1\r\nHost: ${mode}.example\r\n\r\n`);
        if (typeof want === 'number') {
          assert.equal(r?.status, want, target);
          continue;
        }
        assert.equal(r?.status, 200, target);
        const e = JSON.parse(r?.text ?? '{}') as Record<string, string>;
        assert.deepEqual([e.SCRIPT_NAME, e.PATH_INFO, e.REQUEST_URI, e.QUERY_STRING], want, `${target} (${mode})`);
      }
    } finally {
      await host.stop();
    }
  });

  test('5: two Host headers or an invalid one: 400; an absolute-form target is routed by its authority', async () => {
    t.file('a.wsgi', 'def application(e, s):\n    s("200 OK", [])\n    return [("a " + e["HTTP_HOST"]).encode()]\n');
    t.file('b.wsgi', 'def application(e, s):\n    s("200 OK", [])\n    return [("b " + e["HTTP_HOST"]).encode()]\n');
    const host = await serve(`[[host]]
server-name = "a.example"
default = true
[[host.mount]]
script = "a.wsgi"
[[host]]
server-name = "b.example"
[[host.mount]]
script = "b.wsgi"
`);
    try {
      assert.equal((await rawExchange(host.url, 'GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n'))?.status, 400);
      for (const bad of ['a example', 'a.example/x', 'x@b.example', 'b.example, a.example']) {
        assert.equal((await rawExchange(host.url, `GET / HTTP/1.1\r\nHost: ${bad}\r\n\r\n`))?.status, 400, bad);
      }
      const abs = await rawExchange(host.url, 'GET http://b.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n');
      assert.equal(abs?.status, 200);
      assert.equal(abs?.text, 'b b.example', 'routed by the authority, and Host replaced by it');
      assert.equal((await rawExchange(host.url, 'GET / HTTP/1.1\r\n\r\n'))?.status, 400, 'HTTP/1.1 without Host');
    } finally {
      await host.stop();
    }
  });

  test('6: more header lines than max-header-count is 431, never a silent drop; 0 passes them all', async () => {
    const lines = Array.from({ length: 1500 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
    const strict = await serve('[limits]\nmax-header-size = 65536\n[[mount]]\nscript = "echo.wsgi"\n');
    try {
      const r = await rawExchange(strict.url, `GET / HTTP/1.1\r\nHost: t\r\n${lines}\r\n`);
      assert.equal(r?.status, 431);
    } finally {
      await strict.stop();
    }
    const all = await serve('[limits]\nmax-header-size = 65536\nmax-header-count = 0\n[[mount]]\nscript = "echo.wsgi"\n');
    try {
      const r = await rawExchange(all.url, `GET / HTTP/1.1\r\nHost: t\r\n${lines}\r\n`);
      assert.equal(r?.status, 200);
      const seen = JSON.parse(r?.text ?? '{}') as Record<string, unknown>;
      assert.equal(seen.numbered_headers, 1500, 'every header line reached the application');
      assert.equal(seen.HTTP_X_H1499, '1499');
    } finally {
      await all.stop();
    }
  });

  test('7: an unknown transfer coding is 501 (never a still-coded body); chunked on HTTP/1.0 is 400', async () => {
    const host = await serve('[[mount]]\nscript = "echo.wsgi"\n');
    try {
      const gz = await rawExchange(host.url, 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
      assert.equal(gz?.status, 501);
      const old = await rawExchange(host.url, 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
      assert.equal(old?.status, 400);
      const both = await rawExchange(host.url, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
      assert.equal(both?.status, 400);
    } finally {
      await host.stop();
    }
  });
});
