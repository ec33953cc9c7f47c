import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigError } from '../../src/config/errors.js';
import { parse } from 'smol-toml';
import { camel, kebabPath, mapKeys } from '../../src/config/key-names.js';
import { validateConfig } from '../../src/config/validate.js';
import { planServer } from '../../src/config/plan.js';

const describer = { keyName: kebabPath, locate: () => undefined };
const refused = (input: unknown): ConfigError => {
  try {
    validateConfig(input, describer);
  } catch (err) {
    return err as ConfigError;
  }
  assert.fail(`accepted: ${JSON.stringify(input)}`);
};

describe('the front door in the config model', () => {
  test('defaults: no TLS, no PROXY protocol, no trusted proxies, compression off, probes on the admin listener only, no readiness delay', () => {
    const c = validateConfig({ listen: ['127.0.0.1:8000'], mount: [{ script: 'a.wsgi' }], host: [{ serverName: 'a.example' }] });
    assert.deepEqual(c.listen, [{ host: '127.0.0.1', port: 8000, proxyProtocol: false }]);
    assert.deepEqual(c.trustedProxies, []);
    assert.deepEqual(c.trustedProxyHeaders, []);
    assert.equal(c.mount[0]?.compress, undefined);
    assert.equal(c.host[0]?.redirectToHttps, false);
    assert.equal(c.host[0]?.tls, undefined);
    assert.deepEqual(c.health, { onListeners: false, alivePath: '/healthz', readyPath: '/readyz' });
    assert.deepEqual(c.shutdown, { readinessDelay: 0 });
  });

  test('TLS per listener and per host; the string listener form still works beside it', () => {
    const c = validateConfig({
      listen: [
        '8080',
        { host: '0.0.0.0', port: 8443, tls: { certificate: 'site.pem', privateKey: 'site.key', alpn: ['h2', 'http/1.1'] }, proxyProtocol: true },
      ],
      host: [{ serverName: 'shop.example', tls: { certificate: 'shop.pem', privateKey: 'shop.key', certificateChain: 'chain.pem' }, redirectToHttps: true }],
    });
    assert.deepEqual(c.listen[0], { host: '0.0.0.0', port: 8080, proxyProtocol: false });
    assert.deepEqual(c.listen[1]?.tls, { certificate: 'site.pem', privateKey: 'site.key', minVersion: 'TLSv1.2', alpn: ['h2', 'http/1.1'] });
    assert.equal(c.listen[1]?.proxyProtocol, true);
    assert.equal(c.host[0]?.tls?.certificateChain, 'chain.pem');
    assert.equal(c.host[0]?.redirectToHttps, true);
  });

  test('in TOML: [[listen]] tables with a [listen.tls] table, beside the string form', () => {
    const toml = `
listen = ["127.0.0.1:8080"]
trusted-proxies = ["10.0.0.0/8"]

[[host]]
server-name = "shop.example"
redirect-to-https = true
tls = { certificate = "shop.crt", private-key = "shop.key" }
`;
    const c = validateConfig(mapKeys(parse(toml), (k) => camel(k)));
    assert.equal(c.host[0]?.tls?.privateKey, 'shop.key');
    const tables = validateConfig(
      mapKeys(
        parse('[[listen]]\nport = 8443\nproxy-protocol = true\n[listen.tls]\ncertificate = "a.crt"\nprivate-key = "a.key"\nmin-version = "TLSv1.3"\n'),
        (k) => camel(k),
      ),
    );
    assert.deepEqual(tables.listen, [
      { host: '127.0.0.1', port: 8443, proxyProtocol: true, tls: { certificate: 'a.crt', privateKey: 'a.key', minVersion: 'TLSv1.3' } },
    ]);
  });

  test('TLS below 1.2 and a certificate without its key are refused with the fix', () => {
    const old = refused({ listen: [{ port: 443, tls: { certificate: 'c', privateKey: 'k', minVersion: 'TLSv1.1' } }] });
    assert.equal(old.code, 'CONFIG_INVALID_VALUE');
    assert.match(old.message, /listen\[0\]\.tls\.min-version/);
    const half = refused({ listen: [{ port: 443, tls: { certificate: 'c' } }] });
    assert.match(half.message, /listen\[0\]\.tls\.private-key.*go together/);
    assert.match(half.hint ?? '', /Give both certificate and private-key/);
    const hostHalf = refused({ host: [{ serverName: 'a', tls: { certificate: 'c' } }] });
    assert.match(hostHalf.message, /host\[0\]\.tls\.private-key/);
  });

  test('trusted proxies: addresses and CIDRs (IPv4, IPv6), header names in any case, one header per purpose', () => {
    const c = validateConfig({
      trustedProxies: ['10.0.0.0/8', '192.0.2.7', 'fd00::/8'],
      trustedProxyHeaders: ['x-forwarded-for', 'X-FORWARDED-PROTO', 'x-forwarded-host'],
    });
    assert.deepEqual(c.trustedProxyHeaders, ['X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host']);
    assert.deepEqual(validateConfig({ trustedProxyHeaders: ['forwarded', 'x-forwarded-port'] }).trustedProxyHeaders, ['Forwarded', 'X-Forwarded-Port']);
    assert.deepEqual(c.trustedProxies, ['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);
  });

  test('trusted proxies: mistakes are named with their fix', () => {
    const bits = refused({ trustedProxies: ['10.1.0.0/8'] });
    assert.match(bits.message, /'trusted-proxies\[0\]': '10\.1\.0\.0\/8' has host bits set/);
    assert.match(bits.hint ?? '', /CIDR range/);
    const name = refused({ trustedProxies: ['proxy.internal'] });
    assert.match(name.message, /is not an IP address/);
    const unknown = refused({ trustedProxyHeaders: ['X-Forwarded-Fro'] });
    assert.match(unknown.message, /'X-Forwarded-Fro' is not a proxy header/);
    assert.match(unknown.hint ?? '', /X-Forwarded-For/);
    const two = refused({ trustedProxyHeaders: ['X-Forwarded-For', 'X-Real-IP'] });
    assert.match(two.message, /X-Forwarded-For and X-Real-IP both give the client-address/);
    const overlap = refused({ trustedProxyHeaders: ['Forwarded', 'X-Forwarded-Proto'] });
    assert.match(overlap.message, /Forwarded and X-Forwarded-Proto both give the scheme/);
  });

  test('compression: true for the defaults, a table, or off; media types without parameters', () => {
    const c = validateConfig({
      mount: [
        { script: 'a', compress: true },
        { path: '/b', script: 'b', compress: { types: ['Text/HTML'], minSize: 10, encodings: ['gzip'] } },
        { path: '/c', script: 'c', compress: false },
      ],
      static: [{ path: '/s', directory: 'd', compress: true }],
    });
    assert.deepEqual(c.mount[0]?.compress?.encodings, ['br', 'gzip']);
    assert.equal(c.mount[0]?.compress?.minSize, 1024);
    assert.ok(c.mount[0]?.compress?.types.includes('text/*'));
    assert.deepEqual(c.mount[1]?.compress, { types: ['text/html'], minSize: 10, encodings: ['gzip'] });
    assert.equal(c.mount[2]?.compress, undefined);
    assert.ok(c.static[0]?.compress !== undefined);
    const typo = refused({ mount: [{ script: 'a', compress: { typs: ['text/html'] } }] });
    assert.equal(typo.code, 'CONFIG_UNKNOWN_KEY');
    assert.match(typo.hint ?? '', /Did you mean 'mount\[0\]\.compress\.types'/);
    const param = refused({ mount: [{ script: 'a', compress: { types: ['text/html; charset=utf-8'] } }] });
    assert.match(param.hint ?? '', /without parameters/);
    const enc = refused({ mount: [{ script: 'a', compress: { encodings: ['deflate'] } }] });
    assert.match(enc.message, /compress\.encodings\[0\]/);
  });

  test('probes and the shutdown delay', () => {
    const c = validateConfig({ health: { onListeners: true, readyPath: '/-/ready' }, shutdown: { readinessDelay: 5 } });
    assert.equal(c.health.readyPath, '/-/ready');
    assert.equal(c.shutdown.readinessDelay, 5);
    assert.match(refused({ health: { readyPath: 'ready' } }).message, /health\.ready-path/);
    assert.equal(refused({ shutdown: { readinessDelay: -1 } }).code, 'CONFIG_BAD_NUMBER');
  });

  test('whom proxy headers and PROXY headers are believed from must be said: without trusted-proxies they are refused with the fix', () => {
    const cases: [unknown, RegExp][] = [
      [{ listen: [{ port: 8000, proxyProtocol: true }], mount: [{ script: 'a.wsgi' }] }, /^listen\[0\]\.proxy-protocol$/],
      [{ trustedProxyHeaders: ['X-Forwarded-For'], mount: [{ script: 'a.wsgi' }] }, /^trusted-proxy-headers$/],
    ];
    for (const [input, key] of cases) {
      assert.throws(
        () => planServer(validateConfig(input), '/nonexistent'),
        (err: ConfigError) => {
          assert.equal(err.code, 'CONFIG_INVALID_VALUE');
          assert.match(kebabPath(err.path), key);
          assert.match(err.message, /trusted-proxies names no proxy/);
          assert.match(err.hint ?? '', /trusted-proxies = \["10\.0\.0\.5"\].*0\.0\.0\.0\/0/);
          return true;
        },
      );
    }
    // With trusted proxies, both are planned (the script is what fails here).
    for (const input of [
      { trustedProxies: ['10.0.0.0/8'], listen: [{ port: 8000, proxyProtocol: true }], mount: [{ script: 'missing.wsgi' }] },
      { trustedProxies: ['10.0.0.0/8'], trustedProxyHeaders: ['X-Forwarded-For'], mount: [{ script: 'missing.wsgi', compress: true }] },
    ]) {
      assert.throws(() => planServer(validateConfig(input), '/nonexistent'), /missing\.wsgi|not found|does not exist/i);
    }
  });

  test('the front-door keys are all served: TLS, a certificate per host and redirect-to-https are planned; a host asking for HTTPS with no TLS listener is refused', () => {
    // TLS on a listener, a certificate per host and redirect-to-https are served (test/tls-serving.test.ts): planned.
    const tlsListen = [{ port: 8443, tls: { certificate: 'c', privateKey: 'k' } }];
    for (const wired of [
      { listen: tlsListen, mount: [{ script: 'missing.wsgi' }] },
      { listen: tlsListen, host: [{ serverName: 'a', tls: { certificate: 'c', privateKey: 'k' }, mount: [{ script: 'missing.wsgi' }] }] },
      { listen: tlsListen, host: [{ serverName: 'a', redirectToHttps: true, mount: [{ script: 'missing.wsgi' }] }] },
    ]) {
      assert.throws(() => planServer(validateConfig(wired), '/nonexistent'), /missing\.wsgi|not found|does not exist/i);
    }
    // ... but a host asking for HTTPS where no listener speaks TLS is a mistake, said so.
    for (const key of ['tls', 'redirectToHttps'] as const) {
      const host = {
        serverName: 'a',
        mount: [{ script: 'missing.wsgi' }],
        ...(key === 'tls' ? { tls: { certificate: 'c', privateKey: 'k' } } : { redirectToHttps: true }),
      };
      assert.throws(
        () => planServer(validateConfig({ host: [host] }), '/nonexistent'),
        (err: ConfigError) => err.code === 'CONFIG_NO_TLS_LISTENER' && kebabPath(err.path) === `host[0].${key === 'tls' ? 'tls' : 'redirect-to-https'}`,
      );
    }
    // trusted-proxies alone changes nothing until headers are trusted: accepted.
    assert.throws(
      () => planServer(validateConfig({ trustedProxies: ['10.0.0.0/8'], mount: [{ script: 'missing.wsgi' }] }), '/nonexistent'),
      /missing\.wsgi|not found|does not exist/i,
    );
  });
});
