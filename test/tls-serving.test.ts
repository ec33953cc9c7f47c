import assert from 'node:assert/strict';
import { copyFileSync, renameSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { TLS_APP } from './fixtures/tls-app.js';
import { haveOpenssl, makeCertificate, type TestCertificate } from './helpers/certificates.js';
import { request } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { h2Request, h2Session, handshake, httpsGet, keepAliveAgent, run, sClient } from './helpers/tls-clients.js';
import { runCli, WsgiHost, waitFor } from './helpers/wsgi-host.js';

const skip = haveOpenssl() ? false : 'openssl is not installed (apt-get install openssl)';
const portOf = (url: string): number => Number(new URL(url).port);

describe('TLS: HTTPS listeners, SNI, versions, redirect-to-https', { skip }, () => {
  const t = tempDir();
  let host: WsgiHost;
  let plain: string;
  let tlsPort: number;
  let certs: Record<'dflt' | 'a' | 'wild', TestCertificate>;

  before(async () => {
    certs = {
      dflt: makeCertificate(t.dir, 'default', ['default.test']),
      a: makeCertificate(t.dir, 'a', ['a.test']),
      wild: makeCertificate(t.dir, 'wild', ['*.b.test']),
    };
    const venv = makeVenv(join(t.dir, 'venv'));
    t.file('app.wsgi', TLS_APP);
    const toml = t.file(
      'wsgi-host.toml',
      `listen = [
  { host = "127.0.0.1", port = 0 },
  { host = "127.0.0.1", port = 0, tls = { certificate = "default.crt", private-key = "default.key" } },
]
python-home = "${venv}"
[admin]
listen = "off"
[[mount]]
path = "/"
script = "app.wsgi"
[[host]]
server-name = "a.test"
redirect-to-https = true
tls = { certificate = "a.crt", private-key = "a.key" }
[[host]]
server-name = "b.test"
aliases = ["*.b.test"]
tls = { certificate = "wild.crt", private-key = "wild.key" }
`,
    );
    const started = await WsgiHost.serveListeners(['-c', toml], 2, { cwd: t.dir });
    host = started.host;
    [plain] = started.listeners as [string, string];
    assert.match(started.listeners[1] as string, /^https:\/\//, 'the startup line names the TLS listener https://');
    tlsPort = portOf(started.listeners[1] as string);
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  test('one TLS port speaks HTTP/2 and HTTP/1.1 by ALPN (curl); wsgi.url_scheme is https and there is no HTTPS key, as under mod_ssl', async () => {
    for (const [flag, version, protocol] of [
      ['--http2', '2', 'HTTP/2.0'],
      ['--http1.1', '1.1', 'HTTP/1.1'],
    ] as const) {
      const r = await run('curl', ['-sk', flag, '-w', '\\n%{http_version}', '--resolve', `b.test:${tlsPort}:127.0.0.1`, `https://b.test:${tlsPort}/env`]);
      assert.equal(r.code, 0, r.stderr);
      const [json, got] = r.stdout.split('\n') as [string, string];
      assert.equal(got, version);
      const env = JSON.parse(json) as Record<string, string>;
      assert.equal(env['wsgi.url_scheme'], 'https');
      assert.equal(env.REQUEST_SCHEME, 'https');
      assert.equal(env.HTTPS, undefined, 'mod_wsgi with mod_ssl has no HTTPS key without SSLOptions +StdEnvVars');
      assert.equal(env.SERVER_PROTOCOL, protocol);
      assert.equal(env.SERVER_PORT, String(tlsPort));
      assert.equal(env.HTTP_HOST, `b.test:${tlsPort}`);
    }
    const clear = JSON.parse((await request(`${plain}/env`, { headers: { Host: 'b.test' } })).text) as Record<string, string>;
    assert.equal(clear['wsgi.url_scheme'], 'http');
  });

  test("SNI: each host's certificate (exact name, *.wildcard), the listener's for other names and for none; curl --resolve verifies it", async () => {
    const verified = (name: string, ca: TestCertificate): Promise<{ code: number | null; stderr: string }> =>
      run('curl', ['-s', '-o', '/dev/null', '--http2', '--cacert', ca.certificate, '--resolve', `${name}:${tlsPort}:127.0.0.1`, `https://${name}:${tlsPort}/`]);
    assert.equal((await verified('a.test', certs.a)).code, 0, 'a.test gets its own certificate');
    assert.equal((await verified('x.b.test', certs.wild)).code, 0, 'x.b.test gets the *.b.test certificate');
    assert.equal((await verified('default.test', certs.dflt)).code, 0, "a name no host claims gets the listener's");
    assert.notEqual((await verified('y.a.test', certs.a)).code, 0, "a.test's certificate is not given for y.a.test");
    for (const [servername, cn] of [
      ['a.test', 'a.test'],
      ['A.TEST', 'a.test'],
      ['deep.x.b.test', 'default.test'],
      ['other.test', 'default.test'],
    ] as const) {
      assert.equal((await handshake(tlsPort, { servername })).cn, cn, servername);
    }
    const none = await sClient(tlsPort, ['-noservername']);
    assert.match(none.stderr + none.stdout, /Peer certificate: CN ?= ?default\.test/);
    assert.ok(
      host.logs.some((l) => l.code === 'TLS_NAME_MISMATCH' && /does not cover 'b\.test'/.test(String(l.msg))),
      'the start warned that *.b.test does not cover b.test',
    );
  });

  test('protocol versions: TLS 1.0 and 1.1 are refused (openssl s_client), 1.2 and 1.3 shake hands', async () => {
    for (const old of ['-tls1', '-tls1_1']) {
      const r = await sClient(tlsPort, [old, '-servername', 'a.test']);
      assert.notEqual(r.code, 0, `${old} is refused`);
      assert.match(r.stderr + r.stdout, /alert protocol version|no protocols available|unsupported protocol|wrong version/i);
    }
    for (const [flag, version] of [
      ['-tls1_2', 'TLSv1.2'],
      ['-tls1_3', 'TLSv1.3'],
    ] as const) {
      const r = await sClient(tlsPort, [flag, '-servername', 'a.test']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr + r.stdout, new RegExp(`Protocol version: ${version.replace('.', '\\.')}`));
    }
  });

  test('redirect-to-https: a plain request for the host gets a 308 to the same URL on the TLS listener; a forged Host never leaves the host', async () => {
    const get = await request(`${plain}/some/path?x=1`, { headers: { Host: 'a.test' } });
    assert.equal(get.status, 308);
    assert.equal(get.headers.location, `https://a.test:${tlsPort}/some/path?x=1`);
    const post = await request(`${plain}/form`, { method: 'POST', headers: { Host: 'A.Test:80', 'Content-Type': 'text/plain' }, body: 'x=1' });
    assert.equal(post.status, 308, 'a POST keeps its method and body with 308');
    assert.equal(post.headers.location, `https://a.test:${tlsPort}/form`);
    // Not a name of a.test: it reached a.test as the default host; the Location names a.test itself.
    const forged = await request(`${plain}/x`, { headers: { Host: 'evil.example' } });
    assert.equal(forged.status, 308);
    assert.equal(forged.headers.location, `https://a.test:${tlsPort}/x`);
    // b.test does not redirect; a.test over TLS is served.
    assert.equal((await request(`${plain}/`, { headers: { Host: 'b.test' } })).status, 200);
    const secure = await httpsGet(tlsPort, '/', { servername: 'a.test' });
    assert.equal(secure.status, 200);
    assert.equal(secure.text, 'hello https HTTP/1.1');
  });

  test('a client that half-closes after its request still gets the answer over TLS (1.2 and 1.3)', async () => {
    for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
      const got = await new Promise<string>((resolve, reject) => {
        const s = tlsConnect(
          { host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false, servername: 'b.test', maxVersion, allowHalfOpen: true } as never,
          () => {
            s.write('GET / HTTP/1.1\r\nHost: b.test\r\n\r\n');
            s.end();
          },
        );
        let text = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => (text += d));
        s.on('close', () => resolve(text));
        s.on('error', reject);
        setTimeout(() => reject(new Error(`no answer within 10 s (${maxVersion})`)), 10_000).unref();
      });
      assert.match(got, /^HTTP\/1\.1 200 OK/, maxVersion);
      assert.match(got, /hello https HTTP\/1\.1$/, maxVersion);
    }
  });

  test('plain HTTP sent to the TLS port, and a stalled handshake, close that connection only', async () => {
    const answer = await new Promise<string>((resolve) => {
      const s = netConnect(tlsPort, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n'));
      let text = '';
      s.on('data', (d) => (text += d.toString('latin1')));
      s.on('close', () => resolve(text));
      s.on('error', () => undefined);
      setTimeout(() => s.destroy(), 10_000).unref();
    });
    assert.doesNotMatch(answer, /^HTTP\/1\.1 200/, 'never served in the clear');
    assert.equal((await httpsGet(tlsPort, '/', { servername: 'b.test' })).status, 200);
  });
});

describe('TLS settings: min-version, ciphers, startup and the flags', { skip }, () => {
  const t = tempDir();
  let venv: string;
  let cert: TestCertificate;
  before(() => {
    venv = makeVenv(join(t.dir, 'venv'));
    cert = makeCertificate(t.dir, 'site', ['localhost', '127.0.0.1']);
    t.file('app.wsgi', TLS_APP);
  });
  after(() => t.cleanup());

  test('min-version = "TLSv1.3" refuses 1.2; ciphers limits the TLS 1.2 suites (openssl s_client)', async () => {
    const toml = t.file(
      'settings.toml',
      `listen = [
  { host = "127.0.0.1", port = 0, tls = { certificate = "site.crt", private-key = "site.key", ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256" } },
  { host = "127.0.0.1", port = 0, tls = { certificate = "site.crt", private-key = "site.key", min-version = "TLSv1.3" } },
]
python-home = "${venv}"
[admin]
listen = "off"
[[mount]]
path = "/"
script = "app.wsgi"
`,
    );
    const { host, listeners } = await WsgiHost.serveListeners(['-c', toml], 2, { cwd: t.dir });
    try {
      const [ciphers, only13] = listeners.map(portOf) as [number, number];
      const allowed = await sClient(ciphers, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.match(allowed.stderr, /Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256/);
      assert.notEqual((await sClient(ciphers, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384'])).code, 0, 'a suite not in the list is refused');
      const refused = await sClient(only13, ['-tls1_2']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr + refused.stdout, /alert protocol version|unsupported protocol|wrong version/i);
      assert.equal((await sClient(only13, ['-tls1_3'])).code, 0);
    } finally {
      await host.stop();
    }
  });

  test('a certificate that does not load stops the start: the file, the code and the fix are named', async () => {
    const other = makeCertificate(t.dir, 'other', ['localhost']);
    const r = await runCli(
      [
        'serve',
        join(t.dir, 'app.wsgi'),
        '--python-home',
        venv,
        '--port',
        '0',
        '--certificate',
        cert.certificate,
        '--private-key',
        other.privateKey,
        '--admin',
        'off',
      ],
      { cwd: t.dir, timeoutMs: 60_000 },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /TLS_KEY_MISMATCH/);
    assert.match(r.stderr, new RegExp(`${other.privateKey.replace(/[.]/g, '\\.')} is not the key of the certificate`));
    assert.match(r.stderr, /openssl x509 -noout -pubkey/);
    const toml = t.file(
      'bad-key.toml',
      `listen = [{ port = 0, tls = { certificate = "site.crt", private-key = "other.key" } }]\npython-home = "${venv}"\n[[mount]]\npath = "/"\nscript = "app.wsgi"\n`,
    );
    const check = await runCli(['check', '-c', toml, '--json'], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(check.code, 1, check.stderr);
    const problems = (JSON.parse(check.stdout) as { problems: { severity: string; code: string; message: string }[] }).problems;
    assert.ok(
      problems.some((p) => p.severity === 'error' && p.code === 'TLS_KEY_MISMATCH' && /other\.key is not the key/.test(p.message)),
      `wsgi-host check names it too: ${JSON.stringify(problems)}`,
    );
  });

  test('serve SCRIPT --certificate --private-key [--https-port]: HTTPS on --port, or HTTPS on --https-port beside plain HTTP', async () => {
    const tlsOnly = await WsgiHost.serve(
      [join(t.dir, 'app.wsgi'), '--python-home', venv, '--certificate', 'site.crt', '--private-key', 'site.key', '--admin', 'off'],
      {
        cwd: t.dir,
      },
    );
    try {
      assert.match(tlsOnly.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const s = await h2Session(portOf(tlsOnly.url));
      const r = await h2Request(s, { ':path': '/' });
      s.close();
      assert.equal(r.text, 'hello https HTTP/2.0');
    } finally {
      await tlsOnly.stop();
    }
    const both = await WsgiHost.serveListeners(
      [
        join(t.dir, 'app.wsgi'),
        '--python-home',
        venv,
        '--port',
        '0',
        '--https-port',
        '0',
        '--certificate',
        'site.crt',
        '--private-key',
        'site.key',
        '--admin',
        'off',
      ],
      2,
      { cwd: t.dir },
    );
    try {
      const [http, https] = both.listeners as [string, string];
      assert.match(http, /^http:\/\//);
      assert.match(https, /^https:\/\//);
      assert.equal((await request(`${http}/`)).text, 'hello http HTTP/1.1');
      assert.equal((await httpsGet(portOf(https), '/')).text, 'hello https HTTP/1.1');
    } finally {
      await both.host.stop();
    }
    const r = await runCli(['serve', join(t.dir, 'app.wsgi'), '--https-port', '8443'], { cwd: t.dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--https-port needs --certificate and --private-key/);
  });
});

describe('TLS reloads: certificates swapped under load, a bad one keeps the old serving', { skip }, () => {
  const t = tempDir();
  let host: WsgiHost;
  let port: number;
  let toml: string;

  /** Writes a new certificate for a.test in place (each file renamed over the old: never half-written). */
  const replaceCertificate = (tag: string, options: { badKey?: boolean } = {}): string => {
    const next = makeCertificate(t.dir, `next-${tag}`, ['a.test']);
    const keyFrom = options.badKey ? makeCertificate(t.dir, `stranger-${tag}`, ['a.test']).privateKey : next.privateKey;
    copyFileSync(keyFrom, join(t.dir, 'a.key.new'));
    copyFileSync(next.certificate, join(t.dir, 'a.crt.new'));
    renameSync(join(t.dir, 'a.key.new'), join(t.dir, 'a.key'));
    renameSync(join(t.dir, 'a.crt.new'), join(t.dir, 'a.crt'));
    return next.certificate;
  };

  before(async () => {
    makeCertificate(t.dir, 'a', ['a.test']);
    const venv = makeVenv(join(t.dir, 'venv'));
    t.file('app.wsgi', TLS_APP);
    toml = t.file(
      'reload.toml',
      `listen = [{ host = "127.0.0.1", port = 0, tls = { certificate = "a.crt", private-key = "a.key" } }]
python-home = "${venv}"
[[mount]]
path = "/"
script = "app.wsgi"
[default-group]
processes = 1
threads = 8
`,
    );
    const started = await WsgiHost.serveListeners(['-c', toml], 1, { cwd: t.dir });
    host = started.host;
    port = portOf(started.listeners[0] as string);
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  test('SIGHUP and `wsgi-host reload` swap the certificate for new connections with zero failed requests; open connections keep theirs', async () => {
    const first = (await handshake(port, { servername: 'a.test' })).fingerprint as string;
    // Load: fresh TLS connections (each shakes hands anew), a kept-alive HTTPS/1.1 connection and an HTTP/2 session.
    let stopped = false;
    const failures: string[] = [];
    let ok = 0;
    const seen = new Set<string>();
    const agent = keepAliveAgent('a.test');
    const session = await h2Session(port, 'a.test');
    const loops = [
      ...Array.from({ length: 3 }, async () => {
        while (!stopped) {
          try {
            const r = await httpsGet(port, '/', { servername: 'a.test' });
            if (r.status === 200) ok++;
            else failures.push(`status ${r.status}`);
          } catch (e) {
            failures.push(`fresh connection: ${(e as Error).message}`);
          }
        }
      }),
      (async () => {
        while (!stopped) {
          try {
            const r = await httpsGet(port, '/', { servername: 'a.test', agent });
            if (r.status === 200) ok++;
            else failures.push(`keep-alive status ${r.status}`);
          } catch (e) {
            failures.push(`keep-alive: ${(e as Error).message}`);
          }
        }
      })(),
      (async () => {
        while (!stopped) {
          const r = await h2Request(session, { ':path': '/' }).catch((e: Error) => ({ status: 0, text: e.message }));
          if (r.status === 200) ok++;
          else failures.push(`h2: ${r.status} ${r.text}`);
        }
      })(),
      (async () => {
        while (!stopped) {
          const h = await handshake(port, { servername: 'a.test' });
          if (h.fingerprint !== undefined) seen.add(h.fingerprint);
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
    ];
    // A connection opened now, used again after the reloads.
    const open = await new Promise<import('node:tls').TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername: 'a.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => resolve(s));
      s.once('error', reject);
    });
    try {
      await new Promise((r) => setTimeout(r, 500));
      replaceCertificate('1');
      const second = (await handshake(port, { servername: 'a.test' })).fingerprint;
      assert.equal(second, first, 'nothing changes before the reload');
      host.child.kill('SIGHUP');
      await host.waitForLog(/^reloaded:/, 30_000);
      let now = '';
      await waitFor(
        async () => {
          now = (await handshake(port, { servername: 'a.test' })).fingerprint as string;
          return now !== first;
        },
        10_000,
        'new connections to get the new certificate',
      );
      await new Promise((r) => setTimeout(r, 500));
      replaceCertificate('2');
      const cli = await runCli(['reload', '-c', toml], { cwd: t.dir, timeoutMs: 60_000 });
      assert.equal(cli.code, 0, cli.stderr);
      const third = (await handshake(port, { servername: 'a.test' })).fingerprint as string;
      assert.notEqual(third, now, '`wsgi-host reload` swapped it too');
      await new Promise((r) => setTimeout(r, 500));
      // A key that is not the certificate's: the reload is refused, the running certificate serves on.
      replaceCertificate('3', { badKey: true });
      const before = host.logs.length;
      host.child.kill('SIGHUP');
      await waitFor(() => host.logs.slice(before).some((l) => /^reload refused/.test(String(l.msg))), 30_000, 'the reload to be refused');
      const refusal = host.logs.slice(before).find((l) => /^reload refused/.test(String(l.msg)));
      assert.match(String(refusal?.msg), /TLS_KEY_MISMATCH/);
      assert.match(String(refusal?.msg), /a\.key is not the key of the certificate/);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await handshake(port, { servername: 'a.test' })).fingerprint, third, 'the last good certificate still serves');
      const answer = await new Promise<string>((resolve, reject) => {
        let text = '';
        open.setEncoding('utf8');
        open.on('data', (d: string) => {
          text += d;
          if (text.endsWith('hello https HTTP/1.1')) resolve(text);
        });
        open.once('error', reject);
        open.write('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n');
        setTimeout(() => reject(new Error(`no answer on the open connection: ${text}`)), 10_000).unref();
      });
      assert.match(answer, /^HTTP\/1\.1 200 OK/, 'the connection opened before the reloads is served');
      assert.equal(open.getPeerCertificate().fingerprint256, first, 'and keeps the certificate it started with');
    } finally {
      open.destroy();
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
      session.close();
    }
    assert.deepEqual(failures, [], `failed requests: ${failures.slice(0, 5).join('; ')}`);
    assert.ok(ok > 50, `requests were served throughout (${ok})`);
    assert.ok(seen.size >= 3, `the handshakes saw the three certificates in turn (${seen.size})`);
  });
});
