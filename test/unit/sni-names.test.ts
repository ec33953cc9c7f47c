import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateConfig } from '../../src/config/validate.js';
import { normalizeServerName, SniTable, sniNameProblem } from '../../src/frontdoor/sni-names.js';
import { tlsListenerSpec } from '../../src/frontdoor/tls-spec.js';

describe('SNI names (RFC 6125 matching)', () => {
  const table = new SniTable<string>();
  for (const [n, v] of [
    ['shop.example.com', 'shop'],
    ['*.example.com', 'wild'],
    ['*.api.example.com', 'api'],
    ['example.com', 'apex'],
    ['Shop.Example.com', 'second'],
  ] as const) {
    assert.equal(table.add(n, v), undefined, n);
  }
  test('exact names win over wildcards; the first of two equal names wins; case and a trailing dot do not matter', () => {
    assert.equal(table.lookup('shop.example.com'), 'shop');
    assert.equal(table.lookup('SHOP.EXAMPLE.COM.'), 'shop');
    assert.equal(table.lookup('example.com'), 'apex');
  });
  test('a wildcard stands for exactly one whole label', () => {
    assert.equal(table.lookup('www.example.com'), 'wild');
    assert.equal(table.lookup('v1.api.example.com'), 'api');
    assert.equal(table.lookup('a.b.example.com'), undefined, 'two labels: no match (the default certificate then)');
    assert.equal(table.lookup('example.org'), undefined);
    assert.equal(table.lookup(undefined), undefined);
    assert.equal(table.lookup('bad name'), undefined);
    assert.equal(table.lookup(''), undefined);
  });
  test('names that cannot be SNI names are refused with the reason', () => {
    assert.match(sniNameProblem('www.*.example.com') as string, /whole left-most label/);
    assert.match(sniNameProblem('w*.example.com') as string, /whole left-most label/);
    assert.match(sniNameProblem('*.com') as string, /two labels/);
    assert.match(sniNameProblem('192.0.2.1') as string, /IP address/);
    assert.match(sniNameProblem('a..b') as string, /not a host name/);
    assert.equal(normalizeServerName('-bad.example'), undefined);
    assert.equal(normalizeServerName('x'.repeat(64) + '.example'), undefined);
  });
});

describe('the TLS spec of a listener, from the config model', () => {
  test('its own certificate for unknown names, each host with a tls table by its names, paths from the config folder', () => {
    const config = validateConfig({
      listen: ['127.0.0.1:8080', { host: '0.0.0.0', port: 8443, tls: { certificate: 'site.crt', privateKey: '/etc/ssl/site.key', ciphers: 'ECDHE+AESGCM' } }],
      host: [
        {
          serverName: 'shop.example',
          aliases: ['*.shop.example'],
          tls: { certificate: 'shop.crt', privateKey: 'shop.key', certificateChain: 'chain.pem', ocspStaple: 'shop.ocsp' },
        },
        { serverName: 'plain.example' },
      ],
    });
    assert.equal(tlsListenerSpec(config, 0, '/srv'), undefined);
    assert.deepEqual(tlsListenerSpec(config, 1, '/srv'), {
      label: 'listen[1]',
      default: { certificate: '/srv/site.crt', privateKey: '/etc/ssl/site.key' },
      hosts: [
        {
          names: ['shop.example', '*.shop.example'],
          files: { certificate: '/srv/shop.crt', privateKey: '/srv/shop.key', certificateChain: '/srv/chain.pem', ocspStaple: '/srv/shop.ocsp' },
        },
      ],
      minVersion: 'TLSv1.2',
      ciphers: 'ECDHE+AESGCM',
      alpn: ['h2', 'http/1.1'],
    });
  });
  test('without its own certificate the default is left to the hosts', () => {
    const config = validateConfig({ listen: [{ port: 443, tls: { minVersion: 'TLSv1.3', alpn: ['h2', 'http/1.1'] } }] });
    const spec = tlsListenerSpec(config, 0, '/srv');
    assert.equal(spec?.default, undefined);
    assert.deepEqual(spec?.alpn, ['h2', 'http/1.1']);
    assert.equal(spec?.minVersion, 'TLSv1.3');
  });
});
