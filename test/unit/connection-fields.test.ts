import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sniForEnviron } from '../../src/http/connection-fields.js';

describe('SSL_TLS_SNI: only a host name from the client reaches the environ', () => {
  test('host names (and punycode IDNs) pass; NUL, control bytes, spaces, non-ASCII and overlong names do not', () => {
    for (const ok of ['shop.example', 'xn--bcher-kva.example', 'a'.repeat(255), 'WWW.Example.COM.']) assert.equal(sniForEnviron(ok), ok);
    for (const bad of ['', 'a\0:env:HTTPS\0on', 'a\nb', 'a b', 'bücher.example', 'a'.repeat(256), undefined, false, 7]) {
      assert.equal(sniForEnviron(bad), undefined, JSON.stringify(bad));
    }
  });
});
