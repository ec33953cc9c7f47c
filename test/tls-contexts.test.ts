import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { TlsContexts, type TlsListenerSpec } from '../src/frontdoor/tls-contexts.js';
import { TlsError } from '../src/frontdoor/tls-errors.js';
import { haveOpenssl, makeCertificate, type TestCertificate } from './helpers/certificates.js';
import { tempDir } from './helpers/tmp.js';

interface Handshake {
  fingerprint?: string;
  cn?: string;
  alpn?: string | false | null;
  protocol?: string | null;
  ocsp?: Buffer | null;
  error?: string;
}

/** One TLS handshake against 127.0.0.1:port (bounded); what the server presented, or the error code. */
function handshake(
  port: number,
  options: {
    servername?: string;
    minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
    maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
    ciphers?: string;
    alpn?: string[];
    ocsp?: boolean;
  } = {},
): Promise<Handshake> {
  return new Promise((resolve) => {
    let ocsp: Buffer | null | undefined;
    const s: TLSSocket = connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      ...(options.servername !== undefined ? { servername: options.servername } : {}),
      ...(options.minVersion ? { minVersion: options.minVersion } : {}),
      ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
      ...(options.ciphers ? { ciphers: options.ciphers } : {}),
      ...(options.alpn ? { ALPNProtocols: options.alpn } : {}),
      ...(options.ocsp ? { requestOCSP: true } : {}),
    });
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ error: 'timeout' });
    }, 5000);
    s.on('OCSPResponse', (r: Buffer) => (ocsp = r));
    s.on('secureConnect', () => {
      const peer = s.getPeerCertificate();
      clearTimeout(timer);
      resolve({ fingerprint: peer.fingerprint256, cn: peer.subject?.CN as string, alpn: s.alpnProtocol, protocol: s.getProtocol(), ocsp: ocsp ?? null });
      s.end();
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ error: e.code ?? e.message });
    });
  });
}

function serve(contexts: TlsContexts): Promise<{ server: Server; port: number }> {
  const server = createServer(contexts.serverOptions(), (s) => {
    s.on('error', () => undefined);
    s.on('data', (d) => s.write(d)); // echo: an open connection can be checked after a reload
  });
  server.on('tlsClientError', () => undefined);
  contexts.attach(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })));
}

const fingerprintOf = (c: TestCertificate): string => {
  const out = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', c.certificate], { encoding: 'utf8' });
  return (/=(.*)$/m.exec(out)?.[1] ?? '').trim();
};

async function refusedWith(p: Promise<unknown>, code: string): Promise<TlsError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TlsError, `a TlsError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`not refused (expected ${code})`);
}

describe('TLS contexts: certificates, SNI, versions, reloads', { skip: haveOpenssl() ? false : 'openssl is not installed (apt-get install openssl)' }, () => {
  const t = tempDir();
  let dflt: TestCertificate;
  let a: TestCertificate;
  let wild: TestCertificate;
  let spec: TlsListenerSpec;
  before(() => {
    dflt = makeCertificate(t.dir, 'default', ['default.test']);
    a = makeCertificate(t.dir, 'a', ['a.test']);
    wild = makeCertificate(t.dir, 'wild', ['*.b.test']);
    spec = {
      label: 'listen[0]',
      default: { certificate: dflt.certificate, privateKey: dflt.privateKey },
      hosts: [
        { names: ['a.test'], files: a },
        { names: ['*.b.test'], files: wild },
      ],
      minVersion: 'TLSv1.2',
      alpn: ['h2', 'http/1.1'],
    };
  });
  after(() => t.cleanup());

  test("SNI picks each host's certificate (exact, then *.wildcard for one label); no name or an unknown one gets the default", async () => {
    const contexts = await TlsContexts.load(spec);
    assert.deepEqual(contexts.warnings, []);
    const { server, port } = await serve(contexts);
    try {
      assert.equal((await handshake(port, { servername: 'a.test' })).cn, 'a.test');
      assert.equal((await handshake(port, { servername: 'A.Test' })).cn, 'a.test');
      assert.equal((await handshake(port, { servername: 'x.b.test' })).cn, '*.b.test');
      assert.equal((await handshake(port, { servername: 'y.x.b.test' })).cn, 'default.test', 'a wildcard covers one label only');
      assert.equal((await handshake(port, { servername: 'b.test' })).cn, 'default.test');
      assert.equal((await handshake(port, { servername: 'unknown.test' })).cn, 'default.test');
      assert.equal((await handshake(port)).cn, 'default.test', 'no SNI (a client connecting to an IP address)');
    } finally {
      server.close();
    }
  });

  test("ALPN offers the configured protocols in the server's order", async () => {
    const contexts = await TlsContexts.load(spec);
    const { server, port } = await serve(contexts);
    try {
      assert.equal((await handshake(port, { servername: 'a.test', alpn: ['http/1.1', 'h2'] })).alpn, 'h2');
      assert.equal((await handshake(port, { servername: 'a.test', alpn: ['http/1.1'] })).alpn, 'http/1.1');
    } finally {
      server.close();
    }
    const only11 = await TlsContexts.load({ ...spec, alpn: ['http/1.1'] });
    const s2 = await serve(only11);
    try {
      assert.equal((await handshake(s2.port, { alpn: ['h2', 'http/1.1'] })).alpn, 'http/1.1');
    } finally {
      s2.server.close();
    }
  });

  test('TLS 1.1 and older are refused by the server (a protocol_version alert), TLS 1.2 and 1.3 pass; min-version TLSv1.3 refuses 1.2', async () => {
    const { server, port } = await serve(await TlsContexts.load(spec));
    // The control: this client can speak TLS 1.1 to a server that allows it, so a refusal below is the server's.
    const lax = createServer(
      { key: readFileSync(dflt.privateKey), cert: readFileSync(dflt.certificate), minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' },
      (s) => s.end(),
    );
    lax.on('tlsClientError', () => undefined);
    const laxPort = await new Promise<number>((r) => lax.listen(0, '127.0.0.1', () => r((lax.address() as AddressInfo).port)));
    const strict = await serve(await TlsContexts.load({ ...spec, minVersion: 'TLSv1.3' }));
    try {
      const old = { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;
      assert.equal((await handshake(laxPort, old)).protocol, 'TLSv1.1', 'control: the client speaks TLS 1.1');
      assert.equal((await handshake(port, old)).error, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
      assert.equal((await handshake(port, { servername: 'a.test', maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');
      assert.equal((await handshake(port, { servername: 'a.test' })).protocol, 'TLSv1.3');
      assert.equal((await handshake(strict.port, { maxVersion: 'TLSv1.2' })).error, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
      assert.equal(
        (await handshake(strict.port, { servername: 'a.test', maxVersion: 'TLSv1.2' })).error,
        'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
        'with SNI too',
      );
      // And as an operator would check it: openssl s_client -tls1_1.
      const out = await new Promise<string>((resolve) => {
        execFile(
          'openssl',
          ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'],
          { timeout: 10_000 },
          (_e, stdout, stderr) => resolve(`${stdout}${stderr}`),
        );
      });
      assert.match(out, /alert protocol version|unsupported protocol|no protocols available/i);
      assert.match(out, /Cipher is \(NONE\)/, 'no session was set up');
    } finally {
      server.close();
      lax.close();
      strict.server.close();
    }
  });

  test('reload: a new certificate serves new handshakes at once, open connections keep going, and a bad new one keeps the old serving', async () => {
    const dir = tempDir();
    try {
      const live = { certificate: join(dir.dir, 'a.crt'), privateKey: join(dir.dir, 'a.key') };
      copyFileSync(a.certificate, live.certificate);
      copyFileSync(a.privateKey, live.privateKey);
      const liveDefault = { certificate: join(dir.dir, 'd.crt'), privateKey: join(dir.dir, 'd.key') };
      copyFileSync(dflt.certificate, liveDefault.certificate);
      copyFileSync(dflt.privateKey, liveDefault.privateKey);
      const s = { ...spec, default: liveDefault, hosts: [{ names: ['a.test'], files: live }] };
      const contexts = await TlsContexts.load(s);
      const { server, port } = await serve(contexts);
      try {
        assert.equal((await handshake(port, { servername: 'a.test' })).fingerprint, fingerprintOf(a));
        // A connection opened before the reload.
        const open = connect({ host: '127.0.0.1', port, servername: 'a.test', rejectUnauthorized: false });
        await new Promise((r) => open.once('secureConnect', r));

        const renewed = makeCertificate(dir.dir, 'renewed', ['a.test']);
        copyFileSync(renewed.certificate, live.certificate);
        copyFileSync(renewed.privateKey, live.privateKey);
        const newDefault = makeCertificate(dir.dir, 'newdefault', ['default.test']);
        copyFileSync(newDefault.certificate, liveDefault.certificate);
        copyFileSync(newDefault.privateKey, liveDefault.privateKey);
        assert.deepEqual(await contexts.reload(), []);
        assert.equal((await handshake(port, { servername: 'a.test' })).fingerprint, fingerprintOf(renewed));
        assert.equal((await handshake(port)).fingerprint, fingerprintOf(newDefault), 'the default (no SNI) follows too');
        const echoed = await new Promise<string>((resolve) => {
          open.once('data', (d: Buffer) => resolve(d.toString()));
          open.write('still here');
        });
        assert.equal(echoed, 'still here');
        open.end();

        // A broken certificate file: refused, naming the file; the renewed one keeps serving.
        writeFileSync(live.certificate, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
        const broken = await refusedWith(contexts.reload(), 'TLS_BAD_CERTIFICATE');
        assert.equal(broken.file, live.certificate);
        assert.match(broken.message, new RegExp(live.certificate.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
        assert.equal((await handshake(port, { servername: 'a.test' })).fingerprint, fingerprintOf(renewed));

        // The certificate of one pair with the key of another: refused with the commands that show it.
        copyFileSync(renewed.certificate, live.certificate);
        copyFileSync(wild.privateKey, live.privateKey);
        const mismatch = await refusedWith(contexts.reload(), 'TLS_KEY_MISMATCH');
        assert.match(mismatch.message, /is not the key of the certificate/);
        assert.match(mismatch.hint ?? '', /openssl x509 -noout -pubkey/);
        assert.equal(mismatch.file, live.privateKey);
        assert.equal((await handshake(port, { servername: 'a.test' })).fingerprint, fingerprintOf(renewed));
      } finally {
        server.close();
      }
    } finally {
      dir.cleanup();
    }
  });

  test('reloads under a stream of handshakes: none fails', async () => {
    const dir = tempDir();
    try {
      const live = { certificate: join(dir.dir, 'a.crt'), privateKey: join(dir.dir, 'a.key') };
      copyFileSync(a.certificate, live.certificate);
      copyFileSync(a.privateKey, live.privateKey);
      const contexts = await TlsContexts.load({ ...spec, hosts: [{ names: ['a.test'], files: live }] });
      const { server, port } = await serve(contexts);
      const pairs = [a, makeCertificate(dir.dir, 'r1', ['a.test'])];
      let stop = false;
      const results: Handshake[] = [];
      const client = async (): Promise<void> => {
        while (!stop) results.push(await handshake(port, { servername: 'a.test' }));
      };
      const clients = [client(), client(), client()];
      try {
        for (let i = 0; i < 6; i++) {
          const p = pairs[i % 2] as TestCertificate;
          copyFileSync(p.certificate, live.certificate);
          copyFileSync(p.privateKey, live.privateKey);
          await contexts.reload();
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        stop = true;
        await Promise.all(clients);
        server.close();
      }
      const failed = results.filter((r) => r.error !== undefined);
      assert.ok(results.length >= 6, `${results.length} handshakes`);
      assert.deepEqual(failed, [], `${failed.length} of ${results.length} handshakes failed`);
      const seen = new Set(results.map((r) => r.fingerprint));
      assert.ok(seen.size === 2, 'both certificates were served');
    } finally {
      dir.cleanup();
    }
  });

  test('loading errors name the file and the fix', async () => {
    const missing = await refusedWith(
      TlsContexts.load({ ...spec, default: { certificate: join(t.dir, 'nope.crt'), privateKey: dflt.privateKey } }),
      'TLS_FILE_UNREADABLE',
    );
    assert.match(missing.message, /nope\.crt: it does not exist/);
    const swapped = await refusedWith(
      TlsContexts.load({ ...spec, default: { certificate: dflt.privateKey, privateKey: dflt.certificate } }),
      'TLS_BAD_CERTIFICATE',
    );
    assert.match(swapped.hint ?? '', /swapped/);
    const encrypted = join(t.dir, 'enc.key');
    execFileSync('openssl', ['pkey', '-in', dflt.privateKey, '-aes256', '-passout', 'pass:secret', '-out', encrypted]);
    const enc = await refusedWith(TlsContexts.load({ ...spec, default: { certificate: dflt.certificate, privateKey: encrypted } }), 'TLS_KEY_ENCRYPTED');
    assert.match(enc.hint ?? '', /openssl pkey -in .*enc\.key -out/);
    const ciphers = await refusedWith(TlsContexts.load({ ...spec, ciphers: 'NOT-A-CIPHER' }), 'TLS_BAD_SETTINGS');
    assert.match(ciphers.hint ?? '', /listen\[0\]\.tls\.ciphers/);
    await refusedWith(TlsContexts.load({ ...spec, default: undefined, hosts: [] }), 'TLS_NO_CERTIFICATE');
    const staple = join(t.dir, 'bad.ocsp');
    writeFileSync(staple, 'OCSP Response Status: successful');
    await refusedWith(
      TlsContexts.load({ ...spec, default: { certificate: dflt.certificate, privateKey: dflt.privateKey, ocspStaple: staple } }),
      'TLS_BAD_STAPLE',
    );
  });

  test('warnings: an expired certificate still loads (said loudly); a host name its certificate does not cover', async () => {
    const expired = makeCertificate(t.dir, 'expired', ['old.test'], { days: -1 });
    const c = await TlsContexts.load({
      ...spec,
      hosts: [
        { names: ['old.test'], files: expired },
        { names: ['c.test', '*.wild.test'], files: a },
      ],
    });
    const codes = c.warnings.map((w) => w.code).sort();
    assert.deepEqual(codes, ['TLS_CERT_EXPIRED', 'TLS_NAME_MISMATCH', 'TLS_NAME_MISMATCH']);
    assert.match(c.warnings.find((w) => w.code === 'TLS_CERT_EXPIRED')?.message ?? '', /expired on .*renew it and reload/);
    assert.ok(c.warnings.some((w) => /does not cover 'c\.test'/.test(w.message)));
    assert.ok(c.warnings.some((w) => /does not cover '\*\.wild\.test'/.test(w.message)));
  });

  test("OCSP stapling: the staple file's bytes go to clients that ask, per certificate", async () => {
    const ds = join(t.dir, 'default.ocsp');
    const as = join(t.dir, 'a.ocsp');
    writeFileSync(ds, Buffer.concat([Buffer.from([0x30, 0x0a]), Buffer.from('default-ok')]));
    writeFileSync(as, Buffer.concat([Buffer.from([0x30, 0x04]), Buffer.from('a-ok-ok-')]));
    const contexts = await TlsContexts.load({
      ...spec,
      default: { certificate: dflt.certificate, privateKey: dflt.privateKey, ocspStaple: ds },
      hosts: [
        { names: ['a.test'], files: { ...a, ocspStaple: as } },
        { names: ['*.b.test'], files: wild },
      ],
    });
    const { server, port } = await serve(contexts);
    try {
      assert.equal((await handshake(port, { ocsp: true, maxVersion: 'TLSv1.2' })).ocsp?.subarray(2).toString(), 'default-ok');
      assert.equal((await handshake(port, { servername: 'a.test', ocsp: true })).ocsp?.subarray(2).toString(), 'a-ok-ok-');
      assert.equal((await handshake(port, { servername: 'x.b.test', ocsp: true })).ocsp ?? null, null, 'no staple for a certificate without one');
    } finally {
      server.close();
    }
  });
});
