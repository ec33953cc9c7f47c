import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseForwarded, splitNode } from '../../src/frontdoor/forwarded-header.js';
import { compileProxyTrust, resolveProxyView } from '../../src/frontdoor/trusted-proxies.js';

const PROXIES = ['10.0.0.0/8', '2001:db8:1::/48'];
const trust = (headers: string[], proxies = PROXIES) => compileProxyTrust(proxies, headers);
const raw = (h: Record<string, string | string[]>): string[] => Object.entries(h).flatMap(([k, v]) => (Array.isArray(v) ? v.flatMap((x) => [k, x]) : [k, v]));

describe('RFC 7239 Forwarded parsing', () => {
  test('elements, quoted values, IPv6 nodes, case-insensitive names', () => {
    assert.deepEqual(parseForwarded('for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711"'), [
      { for: '192.0.2.60', proto: 'http', by: '203.0.113.43' },
      { for: '[2001:db8:cafe::17]:4711' },
    ]);
    assert.deepEqual(parseForwarded('for="a\\"b,c";host=x'), [{ for: 'a"b,c', host: 'x' }]);
  });
  test('malformed elements are undefined, and the rest still parses', () => {
    assert.deepEqual(parseForwarded('for=1.2.3.4;for=5.6.7.8, for=9.9.9.9'), [undefined, { for: '9.9.9.9' }]);
    assert.deepEqual(parseForwarded('garbage, for=9.9.9.9'), [undefined, { for: '9.9.9.9' }]);
    assert.deepEqual(parseForwarded('for="unterminated'), [undefined]);
    assert.equal(parseForwarded(Array.from({ length: 500 }, () => 'for=1.1.1.1').join(',')).length, 64);
  });
  test('nodes', () => {
    assert.deepEqual(splitNode('192.0.2.1:8080'), { address: '192.0.2.1', port: '8080' });
    assert.deepEqual(splitNode('[2001:db8::1]:443'), { address: '2001:db8::1', port: '443' });
    assert.deepEqual(splitNode('2001:db8::1'), { address: '2001:db8::1' });
    assert.deepEqual(splitNode('192.0.2.1:_hidden'), { address: '192.0.2.1' });
    assert.equal(splitNode('[::1]junk'), undefined);
  });
});

describe('trusted proxies: what the application sees', () => {
  test('nothing configured: nothing read, nothing removed (mod_wsgi passes the headers on as they are)', () => {
    const v = resolveProxyView(trust([], []), '10.1.1.1', raw({ 'X-Forwarded-For': '1.2.3.4' }));
    assert.deepEqual(v, { trusted: false, strip: new Set(), used: [] });
  });

  test('X-Forwarded-For as the application sees it: from the client the walk chose to the right, as mod_wsgi rewrites it', () => {
    const t = trust(['X-Forwarded-For']);
    assert.equal(resolveProxyView(t, '10.0.0.1', raw({ 'X-Forwarded-For': '6.6.6.6, 203.0.113.9, 10.0.0.7' })).forwardedFor, '203.0.113.9, 10.0.0.7');
    assert.equal(resolveProxyView(t, '10.0.0.1', raw({ 'X-Forwarded-For': ['6.6.6.6', '203.0.113.9'] })).forwardedFor, '203.0.113.9');
    // The left-most is the client: nothing to drop.
    assert.equal(resolveProxyView(t, '10.0.0.1', raw({ 'X-Forwarded-For': '203.0.113.9, 10.0.0.7' })).forwardedFor, undefined);
    // A malformed right-most entry gives no address: the header is left as it came.
    assert.equal(resolveProxyView(t, '10.0.0.1', raw({ 'X-Forwarded-For': '6.6.6.6, unknown' })).forwardedFor, undefined);
  });

  test('X-Forwarded-For from a trusted proxy: the right-most address that is not a trusted proxy', () => {
    const t = trust(['X-Forwarded-For']);
    const v = resolveProxyView(t, '10.0.0.2', raw({ 'X-Forwarded-For': '198.51.100.7, 10.0.0.9' }));
    assert.equal(v.trusted, true);
    assert.equal(v.remoteAddr, '198.51.100.7');
    assert.deepEqual([...v.strip], []);
    assert.deepEqual(v.used, ['x-forwarded-for']);
  });

  test('spoofing: a client that writes its own X-Forwarded-For through a trusted proxy gets the address the proxy saw', () => {
    const t = trust(['X-Forwarded-For']);
    // The client sent "X-Forwarded-For: 127.0.0.1"; the proxy appended the client's real address.
    const v = resolveProxyView(t, '10.0.0.2', raw({ 'X-Forwarded-For': '127.0.0.1, 203.0.113.50' }));
    assert.equal(v.remoteAddr, '203.0.113.50');
    // Even when the client forges a trusted proxy's address, the walk stops at the first untrusted one from the right.
    const v2 = resolveProxyView(t, '10.0.0.2', raw({ 'X-Forwarded-For': '10.9.9.9, 203.0.113.50, 10.0.0.3' }));
    assert.equal(v2.remoteAddr, '203.0.113.50');
  });

  test('spoofing: proxy headers from an untrusted peer are removed and change nothing', () => {
    const t = trust(['X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host', 'X-Forwarded-Port']);
    const v = resolveProxyView(
      t,
      '203.0.113.9',
      raw({
        'X-Forwarded-For': '10.0.0.1',
        'x-forwarded-proto': 'https',
        'X-Forwarded-Host': 'admin.internal',
        'X-Forwarded-Port': '443',
        'X-Real-IP': '127.0.0.1',
        Forwarded: 'for=127.0.0.1',
        'X-Other': 'kept',
      }),
    );
    assert.equal(v.trusted, false);
    assert.equal(v.remoteAddr, undefined);
    assert.equal(v.scheme, undefined);
    assert.equal(v.host, undefined);
    assert.equal(v.serverPort, undefined);
    assert.deepEqual([...v.strip].sort(), ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-real-ip']);
  });

  test('from a trusted proxy, the other headers of a trusted purpose are removed (only the configured one is believed)', () => {
    const t = trust(['X-Forwarded-For', 'X-Forwarded-Proto']);
    const v = resolveProxyView(
      t,
      '10.0.0.2',
      raw({ 'X-Forwarded-For': '198.51.100.7', 'X-Real-IP': '6.6.6.6', 'X-Scheme': 'http', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'other' }),
    );
    assert.equal(v.remoteAddr, '198.51.100.7');
    assert.equal(v.scheme, 'https');
    assert.deepEqual([...v.strip].sort(), ['x-real-ip', 'x-scheme'], 'X-Forwarded-Host is not a trusted purpose here: passed on untouched');
    assert.equal(v.host, undefined);
  });

  test('IPv4-mapped and IPv6 peers; CIDR boundaries', () => {
    const t = trust(['X-Forwarded-For']);
    assert.equal(resolveProxyView(t, '::ffff:10.0.0.2', raw({ 'X-Forwarded-For': '198.51.100.7' })).remoteAddr, '198.51.100.7');
    assert.equal(resolveProxyView(t, '2001:db8:1:ff::1', raw({ 'X-Forwarded-For': '2001:db8:9::5' })).remoteAddr, '2001:db8:9::5');
    assert.equal(resolveProxyView(t, '2001:db8:2::1', raw({ 'X-Forwarded-For': '2001:db8:9::5' })).trusted, false);
    assert.equal(resolveProxyView(t, '11.0.0.1', raw({ 'X-Forwarded-For': '1.1.1.1' })).trusted, false);
    assert.equal(resolveProxyView(t, undefined, raw({ 'X-Forwarded-For': '1.1.1.1' })).trusted, false);
  });

  test('X-Forwarded-For: several header lines, ports, all-trusted chains, and garbage that stops the walk', () => {
    const t = trust(['X-Forwarded-For']);
    assert.equal(resolveProxyView(t, '10.0.0.2', raw({ 'X-Forwarded-For': ['198.51.100.7', '10.0.0.5'] })).remoteAddr, '198.51.100.7');
    const withPort = resolveProxyView(t, '10.0.0.2', raw({ 'X-Forwarded-For': '198.51.100.7:51234' }));
    assert.equal(withPort.remoteAddr, '198.51.100.7');
    assert.equal(withPort.remotePort, '51234');
    assert.equal(resolveProxyView(t, '10.0.0.2', raw({ 'X-Forwarded-For': '[2001:db8::7]:443' })).remoteAddr, '2001:db8::7');
    // Every hop trusted: the left-most one.
    assert.equal(resolveProxyView(t, '10.0.0.2', raw({ 'X-Forwarded-For': '10.0.0.7, 10.0.0.8' })).remoteAddr, '10.0.0.7');
    // Garbage right of a real address: the walk stops at the last good (trusted) address, never further left.
    assert.equal(resolveProxyView(t, '10.0.0.2', raw({ 'X-Forwarded-For': '198.51.100.7, unknown, 10.0.0.8' })).remoteAddr, '10.0.0.8');
    assert.equal(resolveProxyView(t, '10.0.0.2', raw({ 'X-Forwarded-For': 'evil' })).remoteAddr, undefined);
    assert.equal(resolveProxyView(t, '10.0.0.2', raw({ 'X-Forwarded-For': '' })).remoteAddr, undefined);
    assert.equal(resolveProxyView(t, '10.0.0.2', raw({ 'X-Forwarded-For': '0127.0.0.1' })).remoteAddr, undefined);
    assert.equal(resolveProxyView(t, '10.0.0.2', raw({ 'X-Forwarded-For': '::ffff:198.51.100.7' })).remoteAddr, '198.51.100.7');
  });

  test('X-Real-IP and X-Client-IP take one address', () => {
    assert.equal(resolveProxyView(trust(['X-Real-IP']), '10.0.0.2', raw({ 'X-Real-IP': '198.51.100.7' })).remoteAddr, '198.51.100.7');
    assert.equal(resolveProxyView(trust(['X-Client-IP']), '10.0.0.2', raw({ 'X-Client-IP': 'not-an-ip' })).remoteAddr, undefined);
  });

  test('scheme headers: proto values, SSL on/off flags, bad values ignored', () => {
    const view = (h: string, v: string) => resolveProxyView(trust([h]), '10.0.0.2', raw({ [h]: v })).scheme;
    assert.equal(view('X-Forwarded-Proto', 'HTTPS'), 'https');
    assert.equal(view('X-Forwarded-Proto', 'https, http'), 'http', 'the right-most value: the one the trusted proxy wrote');
    assert.equal(view('X-Forwarded-Proto', 'javascript'), undefined);
    assert.equal(view('X-Forwarded-Scheme', 'https'), 'https');
    assert.equal(view('X-Scheme', 'http'), 'http');
    assert.equal(view('X-Forwarded-SSL', 'on'), 'https');
    assert.equal(view('X-Forwarded-HTTPS', 'off'), 'http');
    assert.equal(view('X-HTTPS', '1'), 'https');
    assert.equal(view('X-Forwarded-SSL', 'maybe'), undefined);
  });

  test('host, port, server name and script name, each validated', () => {
    const t = trust(['X-Forwarded-Host', 'X-Forwarded-Port', 'X-Forwarded-Server', 'X-Script-Name']);
    const v = resolveProxyView(
      t,
      '10.0.0.2',
      raw({ 'X-Forwarded-Host': 'www.example.com:8443', 'X-Forwarded-Port': '8443', 'X-Forwarded-Server': 'edge1', 'X-Script-Name': '/app/' }),
    );
    assert.equal(v.host, 'www.example.com:8443');
    assert.equal(v.serverPort, '8443');
    assert.equal(v.serverName, 'edge1');
    assert.equal(v.scriptName, '/app');
    const bad = resolveProxyView(
      t,
      '10.0.0.2',
      raw({ 'X-Forwarded-Host': 'evil.com/path', 'X-Forwarded-Port': '70000', 'X-Forwarded-Server': 'a b', 'X-Script-Name': '/a/../b' }),
    );
    assert.equal(bad.host, undefined);
    assert.equal(bad.serverPort, undefined);
    assert.equal(bad.serverName, undefined);
    assert.equal(bad.scriptName, undefined);
    assert.equal(resolveProxyView(trust(['X-Forwarded-Host']), '10.0.0.2', raw({ 'X-Forwarded-Host': '[2001:db8::1]:443' })).host, '[2001:db8::1]:443');
    assert.equal(resolveProxyView(trust(['X-Forwarded-Host']), '10.0.0.2', raw({ 'X-Forwarded-Host': 'a.example\r\nX: y' })).host, undefined);
  });

  test('Forwarded: the element of the first untrusted hop from the right gives address, port, proto and host', () => {
    const t = trust(['Forwarded']);
    const v = resolveProxyView(
      t,
      '10.0.0.2',
      raw({ Forwarded: 'for=127.0.0.1;proto=http, for="[2001:db8:cafe::17]:4711";proto=https;host=shop.example, for=10.0.0.3;proto=http' }),
    );
    assert.equal(v.remoteAddr, '2001:db8:cafe::17');
    assert.equal(v.remotePort, '4711');
    assert.equal(v.scheme, 'https');
    assert.equal(v.host, 'shop.example');
    // An obfuscated or unknown client: its (trusted) proxy's proto and host are used; the address stays the last trusted one.
    const hidden = resolveProxyView(t, '10.0.0.2', raw({ Forwarded: 'for=unknown;proto=https;host=a.example' }));
    assert.equal(hidden.remoteAddr, undefined);
    assert.equal(hidden.scheme, 'https');
    // A malformed element stops the walk and gives nothing.
    const broken = resolveProxyView(t, '10.0.0.2', raw({ Forwarded: 'for=1.2.3.4;for=5.6.7.8;proto=https' }));
    assert.equal(broken.remoteAddr, undefined);
    assert.equal(broken.scheme, undefined);
    // With Forwarded trusted, the X-Forwarded-* headers of the same purposes are removed.
    const mixed = resolveProxyView(
      t,
      '10.0.0.2',
      raw({ Forwarded: 'for=198.51.100.1', 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil' }),
    );
    assert.equal(mixed.remoteAddr, '198.51.100.1');
    assert.deepEqual([...mixed.strip].sort(), ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
  });

  test('a trusted peer without the headers: nothing changes', () => {
    const v = resolveProxyView(trust(['X-Forwarded-For']), '10.0.0.2', raw({ Host: 'a' }));
    assert.equal(v.trusted, true);
    assert.equal(v.remoteAddr, undefined);
    assert.deepEqual([...v.strip], []);
  });
});
