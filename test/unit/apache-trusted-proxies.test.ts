import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { translateApacheConfig } from '../../src/config/apache/index.js';
import type { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/validate.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * mod_wsgi's WSGITrustedProxies and WSGITrustedProxyHeaders read from an Apache configuration into
 * trusted-proxies and trusted-proxy-headers; the forms wsgi-host cannot honour are noted, and the
 * one whose access rules would change meaning is refused. mod_remoteip's directives are refused.
 */

const tmp = tempDir('wsgi-host-apache-proxies-');
after(() => tmp.cleanup());
let n = 0;

function translate(conf: string) {
  const dir = `case${++n}`;
  tmp.file(join(dir, 'app.wsgi'), 'def application(e, s):\n    s("200 OK", [])\n    return [b"ok"]\n');
  const file = tmp.file(join(dir, 'site.conf'), conf.replaceAll('@DIR@', join(tmp.dir, dir)));
  return translateApacheConfig(file);
}

const lineOf = (text: string, marker: string): number => text.split('\n').findIndex((l) => l.includes(marker)) + 1;

describe('WSGITrustedProxies and WSGITrustedProxyHeaders from Apache configurations', () => {
  test("at the server level: the model's keys, Apache's subnet forms as CIDR ranges, each value named by its line", () => {
    const conf = `Listen 8080
WSGITrustedProxies 10.0.0.5 192.168.1.0/255.255.255.0 172.16 fd00::/8
WSGITrustedProxyHeaders X-Forwarded-For x-forwarded-proto
WSGITrustedProxyHeaders X-Forwarded-Host
WSGIScriptAlias / @DIR@/app.wsgi
`;
    const t = translate(conf);
    assert.deepEqual(t.config.trustedProxies, ['10.0.0.5/32', '192.168.1.0/24', '172.16.0.0/16', 'fd00::/8']);
    assert.deepEqual(t.config.trustedProxyHeaders, ['X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host']);
    assert.equal(t.sources.trustedProxyHeaders?.line, lineOf(conf, 'X-Forwarded-For'));
    assert.equal(t.sources.trustedProxies?.line, lineOf(conf, 'WSGITrustedProxies'));
    const c = validateConfig(t.config);
    assert.deepEqual(c.trustedProxies, ['10.0.0.5/32', '192.168.1.0/24', '172.16.0.0/16', 'fd00::/8']);
    assert.deepEqual(
      t.notes.filter((x) => x.refused),
      [],
    );
  });

  test('headers without WSGITrustedProxies are believed from every peer, as mod_wsgi does, and a note says so', () => {
    const t = translate('Listen 8080\nWSGITrustedProxyHeaders X-Forwarded-Proto\nWSGIScriptAlias / @DIR@/app.wsgi\n');
    assert.deepEqual(t.config.trustedProxies, ['0.0.0.0/0', '::/0']);
    assert.ok(t.notes.some((x) => x.kind === 'info' && /from every peer/.test(x.message) && /Name the proxies with WSGITrustedProxies/.test(x.message)));
  });

  test('in VirtualHosts: honoured when they agree; when they differ, none is believed and each line says so; in a Location, noted', () => {
    const same = translate(`Listen 8080
<VirtualHost *:8080>
  ServerName a.test
  WSGITrustedProxies 10.0.0.5
  WSGITrustedProxyHeaders X-Forwarded-Proto
  WSGIScriptAlias / @DIR@/app.wsgi
</VirtualHost>
<VirtualHost *:8080>
  ServerName b.test
  WSGITrustedProxies 10.0.0.5
  WSGITrustedProxyHeaders X-Forwarded-Proto
  WSGIScriptAlias / @DIR@/app.wsgi
</VirtualHost>
`);
    assert.deepEqual(same.config.trustedProxyHeaders, ['X-Forwarded-Proto']);
    assert.deepEqual(same.config.trustedProxies, ['10.0.0.5/32']);
    const differ = translate(`Listen 8080
<VirtualHost *:8080>
  ServerName a.test
  WSGITrustedProxies 10.0.0.5
  WSGITrustedProxyHeaders X-Forwarded-Proto
  WSGIScriptAlias / @DIR@/app.wsgi
</VirtualHost>
<VirtualHost *:8080>
  ServerName b.test
  WSGIScriptAlias / @DIR@/app.wsgi
</VirtualHost>
`);
    assert.equal(differ.config.trustedProxyHeaders, undefined);
    assert.ok(differ.notes.some((x) => x.kind === 'not-honoured' && /WSGITrustedProxyHeaders differs between VirtualHosts/.test(x.message)));
    const section = translate(`Listen 8080
WSGIScriptAlias / @DIR@/app.wsgi
<Location /app>
  WSGITrustedProxyHeaders X-Forwarded-Proto
</Location>
`);
    assert.equal(section.config.trustedProxyHeaders, undefined);
    assert.ok(section.notes.some((x) => x.kind === 'not-honoured' && /in <Location \/app> is not honoured/.test(x.message)));
  });

  test('a header mod_wsgi does not know is ignored, as mod_wsgi ignores it; a bad address is an error naming the line', () => {
    const t = translate(
      'Listen 8080\nWSGITrustedProxies 10.0.0.5\nWSGITrustedProxyHeaders X-Forwarded-For Forwarded X-Bogus\nWSGIScriptAlias / @DIR@/app.wsgi\n',
    );
    assert.deepEqual(t.config.trustedProxyHeaders, ['X-Forwarded-For']);
    assert.ok(t.notes.some((x) => /WSGITrustedProxyHeaders Forwarded: mod_wsgi does not know this header/.test(x.message)));
    assert.throws(
      () => translate('Listen 8080\nWSGITrustedProxies proxy.internal\nWSGIScriptAlias / @DIR@/app.wsgi\n'),
      (err: ConfigError) => /WSGITrustedProxies proxy\.internal: 'proxy\.internal' is not an IP address/.test(err.message) && err.source?.line === 2,
    );
  });

  test('refused: a client-address header with an access rule by address (Apache checks it against the proxy, wsgi-host against the client); mod_remoteip', () => {
    const conf = `Listen 8080
WSGITrustedProxies 10.0.0.5
WSGITrustedProxyHeaders X-Forwarded-For
WSGIScriptAlias / @DIR@/app.wsgi
<Location /admin>
  Require ip 10.0.0.0/8
</Location>
`;
    const t = translate(conf);
    const refusal = t.notes.find((x) => x.refused);
    assert.ok(refusal, 'refused');
    assert.equal(refusal.line, lineOf(conf, 'WSGITrustedProxyHeaders'));
    assert.match(refusal.message, /Require ip 10\.0\.0\.0\/8, .*site\.conf:6/);
    // The scheme alone changes no address: accepted.
    const scheme = translate(conf.replace('X-Forwarded-For', 'X-Forwarded-Proto'));
    assert.equal(scheme.notes.filter((x) => x.refused).length, 0);
    const remoteip = translate('Listen 8080\nRemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 10.0.0.5\nWSGIScriptAlias / @DIR@/app.wsgi\n');
    assert.ok(remoteip.notes.some((x) => x.refused && /mod_remoteip/.test(x.message) && x.line === 2));
  });
});

describe("mod_deflate's output filters from Apache configurations", () => {
  test('DEFLATE is noted with the compress key that replaces it; other output filters are ignored', () => {
    const t = translate(`Listen 8080
WSGIScriptAlias / @DIR@/app.wsgi
AddOutputFilterByType DEFLATE text/html text/plain application/json
<Location /static>
  SetOutputFilter DEFLATE
</Location>
AddOutputFilter INCLUDES .shtml
`);
    const deflate = t.notes.filter((x) => x.kind === 'not-honoured' && /does not run Apache's output filters/.test(x.message));
    assert.deepEqual(
      deflate.map((x) => x.line),
      [3, 5],
    );
    assert.match(deflate[0]?.message ?? '', /compress = true/);
    assert.ok(t.notes.some((x) => x.kind === 'ignored' && /AddOutputFilter/.test(x.message)));
    assert.equal(t.notes.filter((x) => x.refused).length, 0, 'compression never changes who gets in: nothing refused');
    assert.equal(t.config.mount?.[0]?.compress, undefined);
  });
});
