import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAuthority } from '../../src/http/host-header.js';
import { RequestRefusal } from '../../src/http/http-refusal.js';
import { checkRequestHead, type CheckedHead, withoutAuthorization } from '../../src/http/request-rules.js';
import { normalizePath, parseRequestTarget, splitRequestTarget } from '../../src/http/request-target.js';

describe('Host and authority syntax (RFC 9110 7.2, RFC 3986 3.2.2)', () => {
  test('names, addresses and ports that are valid', () => {
    assert.deepEqual(parseAuthority('example.com'), { name: 'example.com', port: undefined });
    assert.deepEqual(parseAuthority('Example.COM:8080'), { name: 'example.com', port: '8080' });
    assert.deepEqual(parseAuthority('example.com.'), { name: 'example.com', port: undefined });
    assert.deepEqual(parseAuthority('127.0.0.1:80'), { name: '127.0.0.1', port: '80' });
    assert.deepEqual(parseAuthority('[::1]:8000'), { name: '[::1]', port: '8000' });
    assert.deepEqual(parseAuthority('[2001:DB8::1]'), { name: '[2001:db8::1]', port: undefined });
    assert.deepEqual(parseAuthority('under_score-x~y'), { name: 'under_score-x~y', port: undefined });
    assert.deepEqual(parseAuthority('example.com:'), { name: 'example.com', port: undefined }, 'an empty port is allowed');
    assert.deepEqual(parseAuthority(''), { name: '', port: undefined }, 'an empty Host (RFC 9112 3.2)');
  });
  test('refused: spaces, slashes, userinfo, sub-delims, escapes, bad ports, bad literals', () => {
    for (const bad of [
      'a b',
      'a/b',
      'user@example.com',
      'a.example, b.example',
      "a'b",
      'a;b',
      'ex%61mple.com',
      'example.com:80x',
      'example.com:99999',
      'example.com:80:81',
      '[::1',
      '[not-ipv6]',
      '[::1]x',
      '[fe80::1%25eth0]',
      'a\tb',
      'exa\u00e9mple',
    ]) {
      assert.equal(parseAuthority(bad), undefined, bad);
    }
  });
});

describe('request-target forms and path normalization (AllowEncodedSlashes)', () => {
  test('forms', () => {
    assert.deepEqual(splitRequestTarget('/a?b=c'), { form: 'origin', rawPath: '/a', query: 'b=c' });
    assert.deepEqual(splitRequestTarget('*'), { form: 'asterisk', rawPath: '*', query: '' });
    assert.deepEqual(splitRequestTarget('HTTP://Example.com:81/x?q'), {
      form: 'absolute',
      rawPath: '/x',
      query: 'q',
      authority: 'Example.com:81',
      scheme: 'http',
    });
    assert.deepEqual(splitRequestTarget('http://example.com'), { form: 'absolute', rawPath: '/', query: '', authority: 'example.com', scheme: 'http' });
    assert.equal(splitRequestTarget('/a#frag'), 'bad-target');
    assert.equal(splitRequestTarget('example.com:80'), 'bad-target');
    assert.equal(splitRequestTarget('a/b'), 'bad-target');
  });
  const p = (raw: string, mode: 'off' | 'on' | 'nodecode'): string => {
    const r = normalizePath(raw, mode);
    return typeof r === 'string' ? `!${r}` : r.path;
  };
  test("'off' (the default): an encoded slash is a 404, whatever its case or place", () => {
    for (const raw of ['/a%2Fb', '/a%2fb', '/a/..%2F..%2Fetc/passwd', '/%2F']) assert.equal(p(raw, 'off'), '!encoded-slash', raw);
    assert.equal(p('/a%252Fb', 'off'), '/a%2Fb', '%25 is a percent sign: the path holds the three characters');
  });
  test("'on': decoded, then normalized again: no dot segment survives", () => {
    assert.equal(p('/a%2Fb', 'on'), '/a/b');
    assert.equal(p('/a/b/..%2Fc', 'on'), '/a/c');
    assert.equal(p('/a/..%2F..%2Fetc/passwd', 'on'), '!above-root');
    assert.equal(p('/a/.%2e%2Fb', 'on'), '/b');
    assert.equal(p('/a%2F%2Fb', 'on'), '/a/b');
  });
  test("'nodecode': %2F stays as written; the rest is decoded; dot segments are whole segments only", () => {
    assert.equal(p('/a%2Fb%20c', 'nodecode'), '/a%2Fb c');
    assert.equal(p('/a%2fb', 'nodecode'), '/a%2fb');
    assert.equal(p('/a/..%2F..%2Fetc/passwd', 'nodecode'), '/a/..%2F..%2Fetc/passwd');
    assert.equal(p('/a/%2e%2e/b%2Fc', 'nodecode'), '/b%2Fc');
    assert.equal(p('/a/b/%2e%2e%2F', 'nodecode'), '/a/b/..%2F');
  });
  test('in every mode: encoded dots are dots, NUL and bad escapes are refused', () => {
    for (const mode of ['off', 'on', 'nodecode'] as const) {
      assert.equal(p('/a/%2e%2E/b', mode), '/b', mode);
      assert.equal(p('/a/%2E/b', mode), '/a/b', mode);
      assert.equal(p('/%2e%2e/x', mode), '!above-root', mode);
      assert.equal(p('/a%00', mode), '!nul', mode);
      assert.equal(p('/a%zz', mode), '!bad-escape', mode);
      assert.equal(p('/a%2', mode), '!bad-escape', mode);
    }
  });
  test('parseRequestTarget keeps its meaning (default: decode)', () => {
    assert.deepEqual(parseRequestTarget('/a%2Fb?x'), { path: '/a/b', query: 'x' });
    assert.equal(parseRequestTarget('/a%2Fb', 'off'), 'encoded-slash');
    assert.equal(parseRequestTarget('*'), 'bad-target');
  });
});

describe('request head rules', () => {
  const RULES = { maxHeaderCount: 100 };
  const check = (headers: string[], opts: { method?: string; url?: string; minor?: number; major?: number; max?: number } = {}): CheckedHead | RequestRefusal =>
    checkRequestHead(
      opts.method ?? 'GET',
      opts.url ?? '/',
      opts.major ?? 1,
      opts.minor ?? 1,
      headers,
      opts.max === undefined ? RULES : { maxHeaderCount: opts.max },
    );
  const refused = (r: CheckedHead | RequestRefusal): string => (r instanceof RequestRefusal ? `${r.status} ${r.code}` : 'passed');

  test('a plain request passes with its facts', () => {
    const r = check(['Host', 'Example.com:8080', 'X-Request-Id', 'abc', 'Content-Length', '12', 'Authorization', 'Basic x']);
    assert.ok(!(r instanceof RequestRefusal));
    assert.deepEqual(r.authority, { name: 'example.com', port: '8080' });
    assert.equal(r.hostValue, 'Example.com:8080');
    assert.equal(r.contentLength, 12);
    assert.equal(r.chunked, false);
    assert.equal(r.requestId, 'abc');
    assert.equal(r.hasAuthorization, true);
    assert.equal(r.headers, '\0Host\0Example.com:8080\0X-Request-Id\0abc\0Content-Length\x0012\0Authorization\0Basic x');
    assert.equal(withoutAuthorization(r.headers), '\0Host\0Example.com:8080\0X-Request-Id\0abc\0Content-Length\x0012');
  });
  test('versions other than 1.0 and 1.1: 505', () => {
    assert.equal(refused(check(['Host', 'a'], { major: 2, minor: 0 })), '505 HTTP_VERSION_NOT_SUPPORTED');
    assert.equal(refused(check([], { major: 0, minor: 9 })), '505 HTTP_VERSION_NOT_SUPPORTED');
  });
  test('Host: missing in 1.1, twice, or invalid: 400; optional in 1.0', () => {
    assert.equal(refused(check([])), '400 HTTP_HOST_MISSING');
    assert.equal(refused(check([], { minor: 0 })), 'passed');
    assert.equal(refused(check(['Host', 'a.example', 'host', 'b.example'])), '400 HTTP_HOST_DUPLICATE');
    assert.equal(refused(check(['Host', 'a.example', 'Host', 'a.example'])), '400 HTTP_HOST_DUPLICATE');
    for (const bad of ['a b', 'a/b', 'x@a.example', 'a.example, b.example']) assert.equal(refused(check(['Host', bad])), '400 HTTP_HOST_INVALID', bad);
  });
  test('absolute-form: routed by its authority, which replaces Host (RFC 9112 3.2.2)', () => {
    const r = check(['Host', 'other.example', 'Accept', '*/*'], { url: 'http://b.example:81/x?y' });
    assert.ok(!(r instanceof RequestRefusal));
    assert.deepEqual(r.authority, { name: 'b.example', port: '81' });
    assert.equal(r.hostValue, 'b.example:81');
    assert.equal(r.headers, '\0Host\0b.example:81\0Accept\0*/*');
    const old = check([], { url: 'http://b.example/x', minor: 0 });
    assert.ok(!(old instanceof RequestRefusal));
    assert.equal(old.headers, '\0Host\0b.example', 'HTTP/1.0 without Host: the authority is added');
    assert.equal(refused(check(['Host', 'a'], { url: 'ftp://b.example/x' })), '400 HTTP_TARGET_INVALID');
    assert.equal(refused(check(['Host', 'a'], { url: 'http://u@b.example/x' })), '400 HTTP_TARGET_INVALID');
    assert.equal(refused(check(['Host', 'a'], { url: 'http:///x' })), '400 HTTP_TARGET_INVALID');
    assert.equal(refused(check([], { url: 'http://b.example/x' })), '400 HTTP_HOST_MISSING', 'HTTP/1.1 needs Host even so');
  });
  test('asterisk-form is for OPTIONS only; fragments are refused', () => {
    assert.equal(refused(check(['Host', 'a'], { method: 'OPTIONS', url: '*' })), 'passed');
    assert.equal(refused(check(['Host', 'a'], { url: '*' })), '400 HTTP_TARGET_INVALID');
    assert.equal(refused(check(['Host', 'a'], { url: '/x#y' })), '400 HTTP_TARGET_INVALID');
  });
  test('transfer codings: only chunked, last, once; never in HTTP/1.0; never with Content-Length', () => {
    const ok = check(['Host', 'a', 'Transfer-Encoding', 'Chunked']);
    assert.ok(!(ok instanceof RequestRefusal) && ok.chunked && ok.contentLength === -1);
    assert.equal(refused(check(['Host', 'a', 'Transfer-Encoding', ', chunked'])), 'passed', 'empty list elements are allowed');
    assert.equal(refused(check(['Host', 'a', 'Transfer-Encoding', 'gzip, chunked'])), '501 HTTP_TRANSFER_CODING_UNKNOWN');
    assert.equal(refused(check(['Host', 'a', 'Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked'])), '501 HTTP_TRANSFER_CODING_UNKNOWN');
    assert.equal(refused(check(['Host', 'a', 'Transfer-Encoding', 'chunked, gzip'])), '400 HTTP_TRANSFER_ENCODING_INVALID');
    assert.equal(refused(check(['Host', 'a', 'Transfer-Encoding', 'chunked, chunked'])), '400 HTTP_TRANSFER_ENCODING_INVALID');
    assert.equal(refused(check(['Host', 'a', 'Transfer-Encoding', 'identity'])), '400 HTTP_TRANSFER_ENCODING_INVALID');
    assert.equal(refused(check(['Host', 'a', 'Transfer-Encoding', 'chunked'], { minor: 0 })), '400 HTTP_TRANSFER_ENCODING_INVALID');
    assert.equal(refused(check(['Host', 'a', 'Transfer-Encoding', 'chunked', 'Content-Length', '3'])), '400 HTTP_TRANSFER_ENCODING_INVALID');
  });
  test('Content-Length: one run of digits', () => {
    for (const v of ['+1', '1_0', '0x1', '-1', '', '1, 1', '99999999999999999999']) {
      assert.equal(refused(check(['Host', 'a', 'Content-Length', v])), '400 HTTP_CONTENT_LENGTH_INVALID', v);
    }
    assert.equal(refused(check(['Host', 'a', 'Content-Length', '1', 'Content-Length', '1'])), '400 HTTP_CONTENT_LENGTH_INVALID');
    const lead = check(['Host', 'a', 'Content-Length', '007']);
    assert.ok(!(lead instanceof RequestRefusal) && lead.contentLength === 7);
  });
  test('header count: max-header-count or 431; 0 means no count limit', () => {
    const many = (n: number): string[] => ['Host', 'a', ...Array.from({ length: n - 1 }, (_, i) => [`X-${i}`, 'v']).flat()];
    assert.equal(refused(check(many(100))), 'passed');
    assert.equal(refused(check(many(101))), '431 HTTP_TOO_MANY_HEADERS');
    assert.equal(refused(check(many(5000), { max: 0 })), 'passed');
  });
  test('Expect: 100-continue counts in HTTP/1.1 only', () => {
    const r11 = check(['Host', 'a', 'Expect', '100-Continue']);
    const r10 = check(['Expect', '100-continue'], { minor: 0 });
    assert.ok(!(r11 instanceof RequestRefusal) && r11.expectContinue);
    assert.ok(!(r10 instanceof RequestRefusal) && !r10.expectContinue);
  });
  test('a refusal is an Error with a stable code and the status', () => {
    const r = check([]);
    assert.ok(r instanceof RequestRefusal && r instanceof Error);
    assert.equal(r.code, 'HTTP_HOST_MISSING');
    assert.equal(r.status, 400);
  });
});
