import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BEHAVIOUR_APP, type Behaviour, behaviourPath } from './fixtures/behaviour-app.js';
import { request } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { processAlive, WsgiHost } from './helpers/wsgi-host.js';

/** What one raw HTTP/1.1 exchange (Connection: close) gave: the status line, headers, body, and whether it was complete. */
interface Raw {
  statusLine: string;
  status: number;
  headers: [string, string][];
  body: string;
  /** The response's framing was complete (Content-Length bytes, or the last chunk). */
  complete: boolean;
  raw: string;
}

function exchange(url: string, path: string, method = 'GET', timeoutMs = 15_000): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const s = connect(Number(u.port), u.hostname, () => s.write(`${method} ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`));
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(parse(out, method === 'HEAD'));
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no end of response to ${path.slice(0, 80)} within ${timeoutMs} ms; got: ${out.slice(0, 200)}`));
    }, timeoutMs);
  });
}

function parse(raw: string, head: boolean): Raw {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { statusLine: raw.split('\r\n')[0] ?? '', status: 0, headers: [], body: '', complete: false, raw };
  const lines = raw.slice(0, end).split('\r\n');
  const statusLine = lines[0] as string;
  const headers = lines.slice(1).map((l): [string, string] => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
  const get = (n: string): string | undefined => headers.find(([k]) => k === n)?.[1];
  const status = Number(statusLine.split(' ')[1]);
  let rest = raw.slice(end + 4);
  let body = '';
  let complete = true;
  if (head || status === 204 || status === 304) {
    complete = rest === '';
  } else if (get('transfer-encoding') === 'chunked') {
    complete = false;
    for (;;) {
      const eol = rest.indexOf('\r\n');
      if (eol < 0) break;
      const size = parseInt(rest.slice(0, eol), 16);
      if (Number.isNaN(size)) break;
      if (size === 0) {
        complete = true;
        break;
      }
      body += rest.slice(eol + 2, eol + 2 + size);
      rest = rest.slice(eol + 2 + size + 2);
    }
  } else if (get('content-length') !== undefined) {
    const n = Number(get('content-length'));
    body = rest.slice(0, n);
    complete = rest.length >= n;
  } else {
    body = rest;
  }
  return { statusLine, status, headers, body, complete, raw };
}

const hex = (b: Buffer | string): string => Buffer.from(b as string, typeof b === 'string' ? 'latin1' : undefined).toString('hex');

/** A RESPONSE payload: status (u16), head length (u32), latin-1 head, body. */
function responsePayload(status: number, reason: string, headers: [string, string][] = [], body = ''): string {
  const head = Buffer.from([reason, ...headers.flat()].join('\0'), 'latin1');
  const b = Buffer.alloc(6);
  b.writeUInt16BE(status, 0);
  b.writeUInt32BE(head.length, 2);
  return hex(Buffer.concat([b, head, Buffer.from(body, 'latin1')]));
}

const T = { DATA: 3, CREDIT: 4, READY: 16, RESPONSE: 18, FILE: 19, LOG: 20 };
const END = 1;
const ABORT = 4;
const NOT_STARTED = 8;

describe("an application's faults fail its own request, never the server", () => {
  const t = tempDir();
  let host: WsgiHost;

  before(async () => {
    makeVenv(join(t.dir, 'venv'));
    t.file('app.wsgi', BEHAVIOUR_APP);
    const config = t.file(
      'site.toml',
      `listen = ["127.0.0.1:0"]\n[[group]]\nname = "faults"\npython-home = "venv"\nprocesses = 2\nthreads = 4\n[[mount]]\npath = "/"\nscript = "app.wsgi"\ngroup = "faults"\n`,
    );
    host = await WsgiHost.serve(['-c', config], { cwd: t.dir });
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  /** The server is up and serves the next request at once. */
  async function stillServing(what: string): Promise<void> {
    assert.ok(processAlive(host.pid), `the server exited after ${what}; logs:\n${host.logText().slice(-3000)}`);
    const r = await request(`${host.url}/health`, { timeoutMs: 10_000 });
    assert.equal(r.status, 200, `after ${what}`);
    assert.equal(r.text, 'ok');
  }

  const run = (b: Behaviour, method?: string): Promise<Raw> => exchange(host.url, behaviourPath(b), method);

  test('a status line with CR LF (header injection) is a 500 with its standard reason; the log names the application', async () => {
    const r = await run({ status: '200 OK\r\nX-Injected: 1', headers: [['Content-Type', 'text/plain']] });
    assert.equal(r.statusLine, 'HTTP/1.1 500 Internal Server Error');
    assert.equal(
      r.headers.find(([k]) => k === 'x-injected'),
      undefined,
    );
    assert.ok(r.complete);
    await stillServing('a status line with CR LF');
    await host.waitForLog(/reason phrase "OK\\r\\nX-Injected: 1" contains CR\); answered 500/);
    const line = host.logs.find((l) => /reason phrase .* contains CR/.test(String(l.msg)));
    assert.equal(line?.group, 'faults');
    assert.equal(line?.mount, '/');
    assert.match(String(line?.requestId), /\S/);
  });

  const badStatuses: [string, string][] = [
    ['a control character in the reason', '200 OK\x01'],
    ['DEL in the reason', '200 O\x7fK'],
    ['a bare LF in the reason', '200 OK\nX: 1'],
    ['NUL in the reason', '200 O\x00K'],
    ['a non-latin-1 reason', '200 \u0100K'],
    ['a 1xx final status', '101 Switching Protocols'],
    ['a status below 100', '099 Low'],
    ['a status above 599', '600 High'],
    ['no reason separator', '200'],
  ];
  for (const [name, status] of badStatuses) {
    test(`status line with ${name}: 500, never "500 OK"`, async () => {
      const r = await run({ status, headers: [] });
      assert.equal(r.statusLine, 'HTTP/1.1 500 Internal Server Error', JSON.stringify(status));
      await stillServing(name);
    });
  }

  const badHeaders: [string, [string, string]][] = [
    ['CR LF in a value', ['X-Evil', 'a\r\nSet-Cookie: injected=1']],
    ['a bare CR in a value', ['X-Evil', 'a\rb']],
    ['a bare LF in a value', ['X-Evil', 'a\nb']],
    ['NUL in a value', ['X-Evil', 'a\0b']],
    ['a control character in a value', ['X-Evil', 'a\x01b']],
    ['DEL in a value', ['X-Evil', 'a\x7fb']],
    ['a non-latin-1 value', ['X-Evil', '\u2028']],
    ['a space in a name', ['X Evil', 'v']],
    ['a colon in a name', ['X:Evil', 'v']],
    ['an empty name', ['', 'v']],
    ['CR LF in a name', ['X\r\nSet-Cookie', 'v']],
    ['a latin-1 letter in a name', ['X-\u00e9', 'v']],
    ['a non-latin-1 name', ['X-\u0100', 'v']],
    ['Content-Length +10', ['Content-Length', '+10']],
    ['Content-Length 1_0', ['Content-Length', '1_0']],
    ['Content-Length 0x10', ['Content-Length', '0x10']],
    ['Content-Length -1', ['Content-Length', '-1']],
    ['Content-Length as a list', ['Content-Length', '5, 5']],
    ['an empty Content-Length', ['Content-Length', '']],
  ];
  for (const [name, header] of badHeaders) {
    test(`a header with ${name}: 500, nothing of it sent`, async () => {
      const r = await run({ headers: [['Content-Type', 'text/plain'], header], chunks: ['hello world'] });
      assert.equal(r.statusLine, 'HTTP/1.1 500 Internal Server Error', JSON.stringify(header));
      assert.equal(
        r.headers.find(([k]) => k === 'set-cookie' || k === 'x-evil'),
        undefined,
      );
      assert.doesNotMatch(r.body, /hello world/);
      await stillServing(name);
    });
  }

  test('two different Content-Length values: 500', async () => {
    const r = await run({
      headers: [
        ['Content-Length', '5'],
        ['Content-Length', '6'],
      ],
      chunks: ['hello'],
    });
    assert.equal(r.statusLine, 'HTTP/1.1 500 Internal Server Error');
  });

  test('what is valid passes: HTAB and latin-1 text in values, Content-Length with spaces around it', async () => {
    const r = await run({
      headers: [
        ['X-Tab', 'a\tb'],
        ['X-Latin', 'caf\u00e9'],
        ['Content-Length', ' 5 '],
      ],
      chunks: ['hello'],
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.find(([k]) => k === 'x-tab')?.[1], 'a\tb');
    assert.equal(r.headers.find(([k]) => k === 'x-latin')?.[1], 'caf\u00e9');
    assert.equal(r.headers.find(([k]) => k === 'content-length')?.[1], '5');
    assert.equal(r.body, 'hello');
  });

  for (const status of ['204 No Content', '304 Not Modified']) {
    test(`${status}: no Content-Length and no body, whatever the application says`, async () => {
      const r = await run({
        status,
        headers: [
          ['Content-Length', '5'],
          ['ETag', '"x"'],
        ],
        chunks: ['hello'],
      });
      assert.equal(r.status, Number(status.slice(0, 3)));
      assert.equal(
        r.headers.find(([k]) => k === 'content-length'),
        undefined,
      );
      assert.equal(
        r.headers.find(([k]) => k === 'transfer-encoding'),
        undefined,
      );
      assert.ok(r.complete, 'nothing after the head');
      await stillServing(status);
    });
  }

  test('hop-by-hop headers are dropped, whatever sends them; said once per application', async () => {
    const hop: [string, string][] = [
      ['Connection', 'keep-alive, Upgrade'],
      ['Keep-Alive', 'timeout=99'],
      ['Transfer-Encoding', 'chunked'],
      ['Upgrade', 'websocket'],
      ['TE', 'trailers'],
      ['Trailer', 'X-Sum'],
      ['Proxy-Connection', 'keep-alive'],
    ];
    // Through the worker (which drops them itself), and as raw frames that bypass it.
    const viaWorker = await run({ headers: [['Content-Length', '5'], ...hop, ['X-Kept', 'yes']], chunks: ['hello'] });
    const frames: Behaviour['frames'] = [[T.RESPONSE, END, responsePayload(200, 'OK', [['Content-Length', '5'], ...hop, ['X-Kept', 'yes']], 'hello')]];
    for (const r of [viaWorker, await run({ frames, end: false }), await run({ frames, end: false })]) {
      assert.equal(r.status, 200);
      // (Connection: close is the front end's own: these requests asked for it.)
      for (const [name] of hop) {
        const sent = r.headers.filter(([k]) => k === name.toLowerCase()).map(([, v]) => v);
        assert.deepEqual(sent, name === 'Connection' ? ['close'] : [], name);
      }
      assert.equal(r.headers.find(([k]) => k === 'x-kept')?.[1], 'yes');
      assert.equal(r.headers.find(([k]) => k === 'content-length')?.[1], '5');
      assert.equal(r.body, 'hello');
    }
    await host.waitForLog(/hop-by-hop header Proxy-Connection, which PEP 3333 forbids.*\(said once per application\)/);
    assert.equal(host.logs.filter((l) => /hop-by-hop header Upgrade.*once per application/.test(String(l.msg))).length, 1);
  });

  test('an exception in the application call: 500', async () => {
    const r = await run({ raise: 'call' });
    assert.equal(r.statusLine, 'HTTP/1.1 500 Internal Server Error');
    await host.waitForLog(/RuntimeError: raised in the application call/);
    await stillServing('an exception in the call');
  });

  test('an exception in start_response (called twice): 500', async () => {
    const r = await run({ raise: 'start' });
    assert.equal(r.statusLine, 'HTTP/1.1 500 Internal Server Error');
    await host.waitForLog(/start_response\(\) was called a second time/);
    await stillServing('an exception in start_response');
  });

  test('an exception before the first block: 500; after it: the response is cut short', async () => {
    const before0 = await run({ body: 'gen', raise: 'iter0', chunks: ['a', 'b'] });
    assert.equal(before0.statusLine, 'HTTP/1.1 500 Internal Server Error');
    const after1 = await run({ body: 'gen', raise: 'iter1', chunks: ['first', 'second'] });
    assert.equal(after1.status, 200);
    assert.equal(after1.complete, false, 'no last chunk: the client sees it broken');
    assert.match(after1.body, /first/);
    await stillServing('an exception while iterating');
  });

  test('an exception in close() after a complete response: the client has it whole; the log says so', async () => {
    const r = await run({ body: 'gen', raise: 'close', chunks: ['all', ' of it'] });
    assert.equal(r.status, 200);
    assert.ok(r.complete);
    assert.equal(r.body, 'all of it');
    await host.waitForLog(/RuntimeError: raised in close\(\)/);
    await stillServing('an exception in close()');
  });

  test('write() after the iteration (from close(), from a thread) is refused; the response is whole', async () => {
    for (const writeAfter of ['close', 'thread'] as const) {
      const r = await run({ body: 'gen', writeAfter, chunks: ['done'] });
      assert.equal(r.status, 200);
      assert.ok(r.complete);
      assert.equal(r.body, 'done');
    }
    await host.waitForLog(/write\(\) was called after the response ended/);
    await new Promise((r) => setTimeout(r, 300));
    await stillServing('write() after the iteration');
  });

  // Frames written straight to the connection: the front end is the boundary, not the worker.
  const hostile: [string, Behaviour, 500 | 502 | 'cut'][] = [
    ['a RESPONSE with status 0', { frames: [[T.RESPONSE, END, responsePayload(0, 'Zero')]] }, 500],
    ['a RESPONSE with status 1000', { frames: [[T.RESPONSE, END, responsePayload(1000, 'Big')]] }, 500],
    ['a RESPONSE with status 100', { frames: [[T.RESPONSE, END, responsePayload(100, 'Continue')]] }, 500],
    ['a RESPONSE whose reason has CR LF', { frames: [[T.RESPONSE, END, responsePayload(200, 'OK\r\nX-Injected: 1')]] }, 500],
    ['a RESPONSE with a header name that is not a token', { frames: [[T.RESPONSE, END, responsePayload(200, 'OK', [['X Bad', 'v']])]] }, 500],
    ['a RESPONSE with a control character in a value', { frames: [[T.RESPONSE, END, responsePayload(200, 'OK', [['X-A', 'a\x0bb']])]] }, 500],
    ['a RESPONSE with Content-Length +5', { frames: [[T.RESPONSE, END, responsePayload(200, 'OK', [['Content-Length', '+5']], 'hello')]] }, 500],
    ['a RESPONSE with a name and no value', { frames: [[T.RESPONSE, END, responsePayload(200, 'OK\0X-A')]] }, 500],
    ['a truncated RESPONSE', { frames: [[T.RESPONSE, END, '00c8ff']] }, 500],
    ['a RESPONSE whose head length is past its end', { frames: [[T.RESPONSE, END, '00c8000fffff4f4b']] }, 500],
    ['DATA before the RESPONSE', { frames: [[T.DATA, 0, hex('early')]] }, 502],
    [
      'a second RESPONSE',
      {
        frames: [
          [T.RESPONSE, 0, responsePayload(200, 'OK')],
          [T.RESPONSE, 0, responsePayload(200, 'OK')],
        ],
      },
      'cut',
    ],
    [
      'more body than Content-Length',
      {
        frames: [
          [T.RESPONSE, 0, responsePayload(200, 'OK', [['Content-Length', '5']])],
          [T.DATA, END, hex('0123456789HTTP/1.1 200 OK\r\n\r\n')],
        ],
        end: false,
      },
      'cut',
    ],
    [
      'less body than Content-Length, then END',
      {
        frames: [
          [T.RESPONSE, 0, responsePayload(200, 'OK', [['Content-Length', '10']])],
          [T.DATA, END, hex('abc')],
        ],
        end: false,
      },
      'cut',
    ],
    [
      'body beyond the credit window',
      {
        frames: [
          [T.RESPONSE, 0, responsePayload(200, 'OK')],
          [T.DATA, 0, null, 600 * 1024],
          [T.DATA, 0, null, 600 * 1024],
        ],
      },
      'cut',
    ],
    ['a CREDIT frame of 1 byte', { frames: [[T.CREDIT, 0, '01']] }, 502],
    [
      'a FILE frame that is not JSON',
      {
        frames: [
          [T.RESPONSE, 0, responsePayload(200, 'OK')],
          [T.FILE, 0, hex('{not json')],
        ],
      },
      'cut',
    ],
    [
      'a FILE frame with a negative descriptor',
      {
        frames: [
          [T.RESPONSE, 0, responsePayload(200, 'OK')],
          [T.FILE, 0, hex('{"fd":-1,"offset":0,"length":1}')],
        ],
      },
      'cut',
    ],
    ['a FILE frame before the RESPONSE', { frames: [[T.FILE, 0, hex('{"fd":0,"offset":0,"length":1}')]] }, 502],
    ['NOT_STARTED for a running request', { frames: [[T.DATA, END | ABORT | NOT_STARTED, '']], end: false }, 502],
    ['an unknown frame type', { frames: [[99, 0, hex('?')]] }, 502],
    ['a second READY', { frames: [['raw', 0, hex(Buffer.concat([Buffer.from([0, 0, 0, 2, 0, 0, 0, 0, T.READY, 0]), Buffer.from('{}')]))]] }, 502],
    ['a frame announcing 17 MiB', { frames: [['raw', 0, hex(Buffer.from([0x01, 0x10, 0, 0, 0, 0, 0, 0, T.LOG, 0, 0x28]))]], end: false }, 502],
  ];
  for (const [name, b, expected] of hostile) {
    test(`hostile frames, ${name}: ${expected === 'cut' ? 'the response is cut short' : expected}, the server serves on`, async () => {
      const r = await run(b);
      if (expected === 'cut') {
        assert.ok(r.status === 0 || !r.complete || r.status === 502, `${name}: ${r.raw.slice(0, 300)}`);
        assert.doesNotMatch(r.body, /HTTP\/1\.1 200 OK/);
      } else {
        assert.equal(r.status, expected, `${name}: ${r.raw.slice(0, 300)}`);
        assert.equal(r.statusLine, `HTTP/1.1 ${expected} ${expected === 500 ? 'Internal Server Error' : 'Bad Gateway'}`);
        assert.equal(
          r.headers.find(([k]) => k === 'x-injected'),
          undefined,
        );
      }
      await stillServing(name);
    });
  }

  test('a worker that broke the protocol about its connection is stopped and replaced (logged)', async () => {
    await host.waitForLog(/protocol error from worker process \d+: unknown frame type 99; stopping it/);
    await host.waitForLog(/protocol error from worker process \d+: a frame of type 20 announces 17825792 bytes/);
    await stillServing('protocol errors');
  });
});
