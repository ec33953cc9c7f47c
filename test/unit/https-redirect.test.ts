import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { httpsLocation } from '../../src/frontdoor/https-redirect.js';

describe('the redirect to HTTPS', () => {
  const base = { host: 'shop.example:8080', hostMatched: true, serverName: 'shop.example', httpsPort: 443, requestUri: '/cart?x=1' };
  test('same host and target; the port left out for 443', () => {
    assert.equal(httpsLocation(base), 'https://shop.example/cart?x=1');
    assert.equal(httpsLocation({ ...base, httpsPort: 8443 }), 'https://shop.example:8443/cart?x=1');
    assert.equal(httpsLocation({ ...base, host: '[2001:db8::1]:80' }), 'https://[2001:db8::1]/cart?x=1');
    assert.equal(httpsLocation({ ...base, requestUri: 'http://shop.example/a' }), 'https://shop.example/a');
  });
  test('a Host that did not name this virtual host (the default-host fallback) or is malformed: the server-name, never the forged one', () => {
    assert.equal(httpsLocation({ ...base, host: 'evil.example', hostMatched: false }), 'https://shop.example/cart?x=1');
    assert.equal(httpsLocation({ ...base, host: 'evil.example/x@' }), 'https://shop.example/cart?x=1');
    assert.equal(httpsLocation({ ...base, host: undefined }), 'https://shop.example/cart?x=1');
  });
  test("a target that could make the Location another site's is kept a path", () => {
    assert.equal(httpsLocation({ ...base, requestUri: '//evil.example/x' }), 'https://shop.example/evil.example/x');
    assert.equal(httpsLocation({ ...base, requestUri: '/a b\r\n' }), 'https://shop.example/a%20b%0D%0A');
  });
});
