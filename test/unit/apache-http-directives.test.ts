import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { translateApacheConfig } from '../../src/config/apache/index.js';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/validate.js';
import { tempDir } from '../helpers/tmp.js';

const WSGI = 'def application(environ, start_response):\n    start_response("200 OK", [])\n    return [b"ok"]\n';

describe('Apache HTTP directives: AllowEncodedSlashes and LimitRequestFields', () => {
  const t = tempDir('wsgi-host-apache-http-');
  after(() => t.cleanup());
  const site = t.file('site.wsgi', WSGI);
  let n = 0;
  const translate = (lines: string[]): ReturnType<typeof translateApacheConfig> =>
    translateApacheConfig(t.file(`c${++n}.conf`, [`WSGIScriptAlias / ${site}`, ...lines].join('\n')));

  test('server level and VirtualHost; a VirtualHost without one inherits; any case', () => {
    const r = translate([
      'AllowEncodedSlashes NoDecode',
      'LimitRequestFields 50',
      '<VirtualHost *:80>',
      '    ServerName a.example',
      '    AllowEncodedSlashes on',
      '</VirtualHost>',
      '<VirtualHost *:80>',
      '    ServerName b.example',
      '</VirtualHost>',
    ]);
    assert.equal(r.config.allowEncodedSlashes, 'nodecode');
    assert.equal(r.config.limits?.maxHeaderCount, 50);
    assert.equal(r.config.host?.[0]?.allowEncodedSlashes, 'on');
    assert.equal(r.config.host?.[1]?.allowEncodedSlashes, undefined, 'inherits the server level');
    const model = validateConfig(r.config);
    assert.equal(model.allowEncodedSlashes, 'nodecode');
  });

  test('VirtualHosts of one ServerName on different ports stay two hosts, each with its own setting', () => {
    // Issue 14: hosts are told apart by address and port as Apache does (merging them was the
    // "an app answers on the other port" bug), so each VirtualHost keeps its own AllowEncodedSlashes.
    const r = translate([
      '<VirtualHost *:80>',
      '    ServerName www.example',
      '    AllowEncodedSlashes On',
      '</VirtualHost>',
      '<VirtualHost *:443>',
      '    ServerName www.example',
      '</VirtualHost>',
    ]);
    assert.equal(r.config.host?.length, 2);
    assert.equal(r.config.host?.[0]?.allowEncodedSlashes, 'on');
    assert.equal(r.config.host?.[1]?.allowEncodedSlashes, undefined, 'inherits the server level (off)');
  });

  test('a bad value is an error with its line and the fix', () => {
    try {
      translate(['AllowEncodedSlashes Maybe']);
      assert.fail('must throw');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'CONFIG_APACHE_BAD_VALUE');
      assert.match(err.message, /AllowEncodedSlashes Maybe: must be On, Off or NoDecode/);
      assert.equal(err.source?.line, 2);
    }
  });

  test("the TOML spelling takes Apache's words too", () => {
    assert.equal(validateConfig({ allowEncodedSlashes: 'NoDecode', mount: [{ script: join(t.dir, 'site.wsgi') }] }).allowEncodedSlashes, 'nodecode');
    assert.throws(() => validateConfig({ allowEncodedSlashes: 'maybe' }));
  });
});
