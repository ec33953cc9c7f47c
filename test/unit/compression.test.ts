import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CompressConfig } from '../../src/config/frontdoor-schema.js';
import { validateConfig } from '../../src/config/validate.js';
import { chooseEncoding, parseAcceptEncoding } from '../../src/frontdoor/accept-encoding.js';
import { compressedHeaders, decideCompression, type Header, typeAllowed, withVary } from '../../src/frontdoor/compression-decision.js';

const defaults = validateConfig({ mount: [{ script: 'a', compress: true }] }).mount[0]?.compress as CompressConfig;

describe('Accept-Encoding', () => {
  test('q-values, case, x-gzip, malformed q dropped, a coding named twice takes the lower q', () => {
    assert.deepEqual(
      [...parseAcceptEncoding('GZIP;q=0.5, br , x-gzip;q=0.8, deflate;q=2, *;q=0.1')],
      [
        ['gzip', 0.5],
        ['br', 1],
        ['*', 0.1],
      ],
    );
    assert.deepEqual([...parseAcceptEncoding('br;q=1, br;q=0')], [['br', 0]]);
  });
  test("the client's preference first, the server's order on ties", () => {
    assert.equal(chooseEncoding('gzip, br', ['br', 'gzip']), 'br');
    assert.equal(chooseEncoding('gzip, br', ['gzip', 'br']), 'gzip');
    assert.equal(chooseEncoding('gzip;q=1, br;q=0.5', ['br', 'gzip']), 'gzip');
    assert.equal(chooseEncoding('gzip', ['br', 'gzip']), 'gzip');
    assert.equal(chooseEncoding('gzip', ['br']), undefined);
  });
  test('no header, an empty one, q=0 and identity-only: no coding', () => {
    assert.equal(chooseEncoding(undefined, ['br', 'gzip']), undefined);
    assert.equal(chooseEncoding('', ['br', 'gzip']), undefined);
    assert.equal(chooseEncoding('identity', ['br', 'gzip']), undefined);
    assert.equal(chooseEncoding('br;q=0, gzip;q=0', ['br', 'gzip']), undefined);
    assert.equal(chooseEncoding('identity;q=0', ['br', 'gzip']), undefined, 'nothing acceptable: identity is sent anyway');
  });
  test('* stands for codings not named; a named q=0 is not overridden by *', () => {
    assert.equal(chooseEncoding('*', ['br', 'gzip']), 'br');
    assert.equal(chooseEncoding('br;q=0, *', ['br', 'gzip']), 'gzip');
    assert.equal(chooseEncoding('*;q=0, gzip', ['br', 'gzip']), 'gzip');
    assert.equal(chooseEncoding('identity;q=0, *;q=0.3', ['br', 'gzip']), 'br');
  });
});

describe('whether to compress a response', () => {
  const base = { method: 'GET', status: 200, acceptEncoding: 'gzip, br', settings: defaults };
  const html: Header[] = [
    ['Content-Type', 'text/html; charset=utf-8'],
    ['Content-Length', '5000'],
  ];
  test('an HTML page for a client that accepts br: br, and it varies', () => {
    assert.deepEqual(decideCompression({ ...base, headers: html }), { compress: true, encoding: 'br', vary: true });
  });
  test('content types with parameters, wildcards, and the allowlist', () => {
    assert.ok(typeAllowed('Application/JSON; charset=utf-8', defaults.types));
    assert.ok(typeAllowed('text/csv', defaults.types));
    assert.ok(!typeAllowed('image/png', defaults.types));
    assert.ok(!typeAllowed('garbage', defaults.types));
    assert.equal(decideCompression({ ...base, headers: [['Content-Type', 'image/png']] }).compress, false);
    assert.equal(decideCompression({ ...base, headers: [] }).compress, false, 'no Content-Type');
  });
  test('never: already encoded, ranges and 206, HEAD, 1xx/204/304, no-transform, under min-size, compression off', () => {
    const cases: [Partial<typeof base> & { headers?: Header[] }, boolean][] = [
      [{ headers: [...html, ['Content-Encoding', 'gzip']] }, false],
      [{ headers: [...html, ['content-encoding', 'identity']] }, false],
      [{ status: 206, headers: html }, false],
      [{ headers: [...html, ['Content-Range', 'bytes 0-9/5000']] }, false],
      [{ status: 204, headers: html }, false],
      [{ status: 304, headers: html }, false],
      [{ status: 101, headers: html }, false],
      [{ headers: [...html, ['Cache-Control', 'public, no-transform']] }, false],
      [
        {
          headers: [
            ['Content-Type', 'text/html'],
            ['Content-Length', '1023'],
          ],
        },
        false,
      ],
      [{ settings: undefined as unknown as CompressConfig, headers: html }, false],
    ];
    for (const [c, vary] of cases) {
      const d = decideCompression({ ...base, headers: html, ...c });
      assert.equal(d.compress, false, JSON.stringify(c));
      assert.equal(d.vary, vary, `vary for ${JSON.stringify(c)}`);
    }
    const head = decideCompression({ ...base, method: 'HEAD', headers: html });
    assert.deepEqual([head.compress, head.vary], [false, true], 'HEAD: not compressed, but the GET would vary');
    const none = decideCompression({ ...base, acceptEncoding: undefined, headers: html });
    assert.deepEqual([none.compress, none.vary], [false, true], 'a client without Accept-Encoding: identity, and caches are told it varies');
  });
  test('a streamed body (no Content-Length) is compressed; no-transform is matched as a token', () => {
    assert.equal(decideCompression({ ...base, headers: [['Content-Type', 'text/event-stream']] }).compress, true);
    assert.equal(decideCompression({ ...base, headers: [...html, ['Cache-Control', 'no-transformer']] }).compress, true);
    assert.equal(decideCompression({ ...base, status: 404, headers: html }).compress, true, 'error pages compress too');
  });
});

describe('the head of a compressed response', () => {
  test('Content-Encoding set, Content-Length and Accept-Ranges gone, a strong ETag made weak, Vary merged', () => {
    const h = compressedHeaders(
      [
        ['Content-Type', 'text/html'],
        ['Content-Length', '5000'],
        ['Accept-Ranges', 'bytes'],
        ['ETag', '"abc"'],
        ['Vary', 'Cookie'],
      ],
      'gzip',
    );
    assert.deepEqual(h, [
      ['Content-Type', 'text/html'],
      ['ETag', 'W/"abc"'],
      ['Vary', 'Cookie, Accept-Encoding'],
      ['Content-Encoding', 'gzip'],
    ]);
    assert.deepEqual(compressedHeaders([['etag', 'W/"x"']], 'br'), [
      ['etag', 'W/"x"'],
      ['Content-Encoding', 'br'],
      ['Vary', 'Accept-Encoding'],
    ]);
  });
  test('Vary: added once, kept under *, never duplicated, merged into the last Vary line', () => {
    assert.deepEqual(withVary([]), [['Vary', 'Accept-Encoding']]);
    assert.deepEqual(withVary([['Vary', '*']]), [['Vary', '*']]);
    assert.deepEqual(withVary([['vary', 'accept-encoding, Cookie']]), [['vary', 'accept-encoding, Cookie']]);
    assert.deepEqual(
      withVary([
        ['Vary', 'Cookie'],
        ['Vary', 'Origin'],
      ]),
      [
        ['Vary', 'Cookie'],
        ['Vary', 'Origin, Accept-Encoding'],
      ],
    );
    assert.deepEqual(withVary([['Vary', '']]), [['Vary', 'Accept-Encoding']]);
  });
});
