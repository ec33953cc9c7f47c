import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contentType } from '../src/http/content-types.js';
import { parseRequestTarget } from '../src/http/request-target.js';
import { Router } from '../src/http/router.js';
import { FrameDecoder } from '../src/protocol/frame-decoder.js';
import { frame, latin1Frame } from '../src/protocol/frame-encoder.js';
import { decodeRequestHead, encodeRequestHead, joinHeaders } from '../src/protocol/request-head.js';
import { type AccessRecord, compileFormat } from '../src/observability/access-log.js';
import { decodeResponseHead, encodeResponseHead } from '../src/protocol/response-head.js';

describe('request targets are normalized as Apache does before mod_wsgi sees them', () => {
  const path = (url: string): string => {
    const r = parseRequestTarget(url);
    if (typeof r === 'string') return `!${r}`;
    return r.path;
  };
  test('plain paths pass through', () => {
    assert.deepEqual(parseRequestTarget('/a/b?x=%20'), { path: '/a/b', query: 'x=%20' });
  });
  test('percent-decoding to one char per byte', () => {
    assert.equal(path('/caf%C3%A9'), '/caf\u00c3\u00a9');
    assert.equal(path('/a%2Fb'), '/a/b');
  });
  test('dot segments, including encoded dots, and merged slashes', () => {
    assert.equal(path('/a/./b/../c'), '/a/c');
    assert.equal(path('/a/%2E%2E/b'), '/b');
    assert.equal(path('//a///b/'), '/a/b/');
    assert.equal(path('/a/b/..'), '/a/');
  });
  test('refused: above the root, bad escapes, NUL, non-paths', () => {
    assert.equal(path('/../x'), '!above-root');
    assert.equal(path('/a/%zz'), '!bad-escape');
    assert.equal(path('/a%00'), '!nul');
    assert.equal(path('*'), '!bad-target');
  });
  test('absolute-form targets', () => {
    assert.equal(path('http://example.com/x/y'), '/x/y');
  });
});

describe('mount matching (WSGIScriptAlias semantics)', () => {
  const r = new Router<string>(
    [
      { names: ['a.example', '*.wild.example'], mounts: [{ kind: 'app', prefix: '/blog', target: 'a-blog' }] },
      { names: ['b.example'], mounts: [{ kind: 'app', prefix: '/', target: 'b-root' }] },
    ],
    [
      { kind: 'app', prefix: '/', target: 'global-root' },
      { kind: 'app', prefix: '/a', target: 'global-a' },
    ],
    0,
  );
  const m = (host: string | undefined, p: string): [string, string, string] | undefined => {
    const x = r.match(host, p);
    return x ? [x.route.target, x.scriptName, x.pathInfo] : undefined;
  };
  test('segment boundaries: /a is not /apple', () => {
    assert.deepEqual(m('a.example', '/a/x'), ['global-a', '/a', '/x']);
    assert.deepEqual(m('a.example', '/a'), ['global-a', '/a', '']);
    assert.deepEqual(m('a.example', '/apple'), ['global-root', '', '/apple']);
  });
  test('longest prefix wins; a host mount before a global one', () => {
    assert.deepEqual(m('a.example', '/blog/post'), ['a-blog', '/blog', '/post']);
    assert.deepEqual(m('b.example:8080', '/x'), ['b-root', '', '/x']);
  });
  test('host names: port and case ignored, wildcards, the default host', () => {
    assert.deepEqual(m('B.EXAMPLE', '/q'), ['b-root', '', '/q']);
    assert.deepEqual(m('x.wild.example', '/blog'), ['a-blog', '/blog', '']);
    assert.deepEqual(m('unknown.example', '/blog'), ['a-blog', '/blog', '']);
    assert.deepEqual(m(undefined, '/blog'), ['a-blog', '/blog', '']);
  });
});

describe('protocol codec', () => {
  test('frames split at any byte boundary decode the same; DATA payloads stream through in parts', () => {
    const frames = [frame(3, 7, 1, Buffer.from('hello')), latin1Frame(2, 0xffffffff, 2, 'caf\u00e9\0x'), frame(5, 1, 0), frame(3, 9, 4, Buffer.alloc(0))];
    const all = Buffer.concat(frames);
    for (let cut = 0; cut <= all.length; cut++) {
      const got: [number, number, number, string][] = [];
      const d = new FrameDecoder((t, id, f, p) => {
        const last = got[got.length - 1];
        // Parts of one DATA frame: all but the last carry no flags; joined, they are the payload.
        if (last !== undefined && t === 3 && last[0] === 3 && last[1] === id && last[2] === 0) {
          last[2] = f;
          last[3] += p.toString('latin1');
        } else got.push([t, id, f, p.toString('latin1')]);
      });
      // The pieces arrive in one reused buffer, overwritten after each push (as a socket's onread).
      const reused = Buffer.alloc(all.length);
      const push = (piece: Buffer): void => {
        piece.copy(reused);
        d.push(reused.subarray(0, piece.length));
        reused.fill(0x2a);
      };
      push(all.subarray(0, cut));
      for (let i = cut; i < all.length; i += 3) push(all.subarray(i, Math.min(all.length, i + 3)));
      assert.deepEqual(got, [
        [3, 7, 1, 'hello'],
        [2, 0xffffffff, 2, 'caf\u00e9\0x'],
        [5, 1, 0, ''],
        [3, 9, 4, ''],
      ]);
    }
  });
  test('request and response heads round-trip', () => {
    const head = {
      appIndex: 2,
      method: 'POST',
      scriptName: '/app',
      pathInfo: '/x y',
      queryString: 'a=1',
      requestUri: '/app/x%20y?a=1',
      protocol: 'HTTP/1.1',
      remoteAddr: '127.0.0.1',
      remotePort: '5000',
      serverName: 'h',
      serverPort: '80',
      scheme: 'http',
      requestId: 'r1',
    };
    const text = encodeRequestHead(head, joinHeaders(['Host', 'h', 'X-A', 'b']));
    assert.deepEqual(decodeRequestHead(text), { head, headers: ['Host', 'h', 'X-A', 'b'] });
    const payload = encodeResponseHead(201, 'Created', ['Location', '/x'], Buffer.from('body'));
    const r = decodeResponseHead(payload);
    assert.equal(r.status, 201);
    assert.equal(r.reason, 'Created');
    assert.deepEqual(r.headers, ['Location', '/x']);
    assert.equal(r.body.toString(), 'body');
  });
});

describe('access log formats', () => {
  const requestHeaders: Record<string, string> = {
    referer: 'http://ref.example/',
    'user-agent': 'agent/1',
    authorization: `Basic ${Buffer.from('bob:pw').toString('base64')}`,
  };
  const record: AccessRecord = {
    remoteAddr: '10.0.0.1',
    remotePort: 5000,
    method: 'GET',
    url: '/a/b?x=1',
    httpVersion: '1.1',
    status: 200,
    bytes: 0,
    micros: 1_500_250,
    requestId: 'rid-1',
    group: 'g',
    header: (name) => requestHeaders[name],
    responseHeader: (name) => (name === 'content-type' ? 'text/plain' : undefined),
    time: Date.UTC(2000, 9, 10, 13, 55, 36, 500),
  };
  test("combined and common are Apache's", () => {
    assert.equal(
      compileFormat('combined')(record),
      '10.0.0.1 - bob [10/Oct/2000:13:55:36 +0000] "GET /a/b?x=1 HTTP/1.1" 200 - "http://ref.example/" "agent/1"',
    );
    assert.equal(compileFormat('common')({ ...record, bytes: 12 }), '10.0.0.1 - bob [10/Oct/2000:13:55:36 +0000] "GET /a/b?x=1 HTTP/1.1" 200 12');
  });
  test("gunicorn's atoms, headers in and out, request id and group", () => {
    const line = compileFormat('%(m)s %(U)s %(q)s %(H)s %(B)s %(T)s %(M)s %(D)s %(L)s %({content-type}o)s %({x-missing}i)s %(rid)s %(g)s');
    assert.equal(line(record), 'GET /a/b x=1 HTTP/1.1 0 1 1500 1500250 1.500250 text/plain - rid-1 g');
    assert.throws(() => compileFormat('%(nope)s'), /unknown atom %\(nope\)s/);
  });
  test('json', () => {
    assert.deepEqual(JSON.parse(compileFormat('json')(record)), {
      time: '2000-10-10T13:55:36.500Z',
      remote_addr: '10.0.0.1',
      method: 'GET',
      url: '/a/b?x=1',
      protocol: 'HTTP/1.1',
      status: 200,
      bytes: 0,
      duration_us: 1500250,
      request_id: 'rid-1',
      group: 'g',
      referer: 'http://ref.example/',
      user_agent: 'agent/1',
    });
  });
});

describe('static file content types', () => {
  test('text types carry charset=utf-8; case is ignored; unknown and dot-files are octet-stream', () => {
    assert.equal(contentType('a.HTML'), 'text/html; charset=utf-8');
    assert.equal(contentType('x.tar.gz'), 'application/gzip');
    assert.equal(contentType('logo.svg'), 'image/svg+xml');
    assert.equal(contentType('.css'), 'application/octet-stream');
    assert.equal(contentType('README'), 'application/octet-stream');
  });
});
