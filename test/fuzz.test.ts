import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BEHAVIOUR_APP, type Behaviour, behaviourPath } from './fixtures/behaviour-app.js';
import { request } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { processAlive, WsgiHost } from './helpers/wsgi-host.js';

/**
 * Bounded fuzzing of the front end: a few thousand mutated raw requests over raw sockets, and a
 * thousand mutated application behaviours (status lines, headers, body kinds, exceptions, hostile
 * frames), from a seeded PRNG (WSGI_HOST_FUZZ_SEED to replay one). The front end must never exit,
 * and must answer health requests afterwards (another group, and a static file) at once.
 */
const SEED = Number(process.env.WSGI_HOST_FUZZ_SEED ?? 0x5eed2026);
const RAW_REQUESTS = 2000;
const BEHAVIOURS = 1000;
/** Behaviours that stop a worker (protocol errors about its connection): a few, not a crash loop. */
const WORKER_KILLS = 3;
const CLIENT_TIMEOUT_MS = 3000;

/** mulberry32: small, seeded, good enough to pick mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(SEED);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
const chance = (p: number): boolean => rand() < p;

const SPECIAL = [
  '\r',
  '\n',
  '\r\n',
  '\0',
  '\x01',
  '\x7f',
  '\t',
  ' ',
  ':',
  ',',
  ';',
  '"',
  '\u00e9',
  '\u00ff',
  '\u0100',
  '\u2028',
  '\ud83d\ude00',
  '%00',
  '%2F',
  '..',
];

function mutateText(s: string): string {
  const n = 1 + int(3);
  for (let i = 0; i < n; i++) {
    const at = int(s.length + 1);
    switch (int(4)) {
      case 0:
        s = s.slice(0, at) + pick(SPECIAL) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + 1 + int(4));
        break;
      case 2:
        s = s.slice(0, at) + String.fromCharCode(int(256)) + s.slice(at + 1);
        break;
      default:
        s = s.slice(0, at) + s.slice(Math.max(0, at - int(8)), at) + s.slice(at);
    }
  }
  return s;
}

// -- raw requests ------------------------------------------------------------------------------

const BASES = (): string[] => [
  'GET /health HTTP/1.1\r\nHost: fuzz\r\n\r\n',
  'GET /calm/ HTTP/1.1\r\nHost: fuzz\r\nX-Request-Id: fuzz-1\r\n\r\n',
  'GET /static/hello.txt HTTP/1.1\r\nHost: fuzz\r\nRange: bytes=0-3\r\n\r\n',
  'HEAD /health HTTP/1.0\r\n\r\n',
  'POST /calm/echo HTTP/1.1\r\nHost: fuzz\r\nContent-Length: 5\r\n\r\nhello',
  'POST /calm/echo HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'POST /calm/echo HTTP/1.1\r\nHost: fuzz\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
  `GET ${behaviourPath({ headers: [['X-A', 'b']], chunks: ['x'] })} HTTP/1.1\r\nHost: fuzz\r\n\r\n`,
  'GET /health HTTP/1.1\r\nHost: fuzz\r\n\r\nGET /calm/ HTTP/1.1\r\nHost: fuzz\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: fuzz\r\n\r\n',
  'GET http://fuzz/calm/ HTTP/1.1\r\nHost: other\r\n\r\n',
];

function mutateRequest(): string {
  let s = pick(BASES());
  const n = 1 + int(3);
  for (let i = 0; i < n; i++) {
    switch (int(8)) {
      case 0:
        s = mutateText(s);
        break;
      case 1: // a header repeated
        s = s.replace('\r\n', `\r\n${pick(['Host: x', 'Content-Length: 7', 'Transfer-Encoding: chunked', 'Connection: close', 'Expect: 100-continue'])}\r\n`);
        break;
      case 2: // a framing header with a strange value
        s = s.replace(/Content-Length: \d+/, `Content-Length: ${pick(['+5', '-1', '1_0', '0x5', '99999999999999999999', '5, 5', ' 5', ''])}`);
        break;
      case 3:
        s = s.replace(
          /Transfer-Encoding: chunked/,
          `Transfer-Encoding: ${pick(['gzip, chunked', 'chunked, chunked', 'xchunked', 'chunked\r\nContent-Length: 3'])}`,
        );
        break;
      case 4: // truncated
        s = s.slice(0, int(s.length));
        break;
      case 5: // a long or many-fold header
        s = s.replace('\r\n', `\r\nX-Long: ${'a'.repeat(int(20_000))}\r\n`);
        break;
      case 6: // obs-fold, bare LF, NUL
        s = s.replace('\r\n', pick(['\r\n folded\r\n', '\n', '\r\nX: a\0b\r\n', '\r\n\r\n']));
        break;
      default: // the request line
        s = s.replace(/^[A-Z]+ /, `${pick(['GET', 'POST', 'G\0T', 'PRI', 'CONNECT', 'get', 'GET  ', 'BREW'])} `);
    }
  }
  return s;
}

function sendRaw(port: number, data: string, halfClose: boolean): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(Buffer.from(data, 'latin1'));
      if (halfClose) s.end();
    });
    // At most CLIENT_TIMEOUT_MS; once an answer came, a kept-alive connection is let go when idle.
    const timer = setTimeout(() => s.destroy(), CLIENT_TIMEOUT_MS);
    let idle: NodeJS.Timeout | undefined;
    s.on('data', () => {
      clearTimeout(idle);
      idle = setTimeout(() => s.destroy(), 200);
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      clearTimeout(idle);
      resolve();
    });
  });
}

// -- application behaviours ----------------------------------------------------------------------

const hex = (b: Buffer): string => b.toString('hex');

function responsePayload(status: number, head: string, body: string): string {
  const h = Buffer.from(head, 'latin1');
  const b = Buffer.alloc(6);
  b.writeUInt16BE(status, 0);
  b.writeUInt32BE(chance(0.1) ? int(0xffffffff) : h.length, 2);
  return hex(Buffer.concat([b, h, Buffer.from(body, 'latin1')]));
}

function randomText(max: number): string {
  let s = '';
  const n = int(max);
  for (let i = 0; i < n; i++) s += chance(0.2) ? pick(SPECIAL) : String.fromCharCode(0x20 + int(0x5f));
  return s;
}

const NAMES = ['Content-Type', 'Content-Length', 'Connection', 'Transfer-Encoding', 'Set-Cookie', 'X-Fuzz', 'Keep-Alive', 'Upgrade', 'Location', 'Date'];

let kills = 0;

function randomFrames(): NonNullable<Behaviour['frames']> {
  const frames: NonNullable<Behaviour['frames']> = [];
  const n = 1 + int(3);
  for (let i = 0; i < n; i++) {
    const flags = pick([0, 0, 1, 4, 5, 9, 13]);
    switch (int(7)) {
      case 0:
      case 1:
        frames.push([
          18,
          flags,
          responsePayload(
            pick([0, 99, 100, 101, 200, 204, 304, 404, 599, 600, 1000, 65535, int(65536)]),
            [randomText(12), ...Array.from({ length: int(4) * 2 }, () => (chance(0.5) ? pick(NAMES) : randomText(10)))].join('\0'),
            randomText(30),
          ),
        ]);
        break;
      case 2:
        frames.push([3, flags, hex(Buffer.from(randomText(50), 'latin1'))]);
        break;
      case 3:
        frames.push([4, 0, hex(Buffer.alloc(int(8), int(256)))]);
        break;
      case 4:
        frames.push([
          19,
          0,
          hex(
            Buffer.from(
              pick([
                '{',
                '{"fd":1,"offset":0,"length":5}',
                '{"fd":2,"offset":0,"length":5}',
                '{"fd":0,"offset":-1,"length":1}',
                `{"fd":${int(40)},"offset":${int(10)},"length":${int(100)}}`,
                '[]',
                'null',
              ]),
            ),
          ),
        ]);
        break;
      case 5:
        frames.push([20, 0, hex(Buffer.concat([Buffer.of(int(256)), Buffer.from(randomText(40), 'utf8')]))]);
        break;
      default:
        if (kills < WORKER_KILLS && chance(0.05)) {
          kills++;
          frames.push(
            pick<[number | 'raw', number, string]>([
              [99, 0, ''],
              [16, 0, hex(Buffer.from('{}'))],
              ['raw', 0, hex(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 20, 0]))],
            ]),
          );
        } else {
          frames.push([21, 0, hex(Buffer.from(pick(['[1,2]', '"x"', '["/etc/hostname"]', '{'])))]);
        }
    }
  }
  return frames;
}

function randomBehaviour(): Behaviour {
  if (chance(0.2)) return { frames: randomFrames(), end: chance(0.9) };
  const b: Behaviour = {};
  b.status = chance(0.6)
    ? pick(['200 OK', '201 Created', '204 No Content', '304 Not Modified', '404 Not Found', '500 Oops'])
    : mutateText(pick(['200 OK', '302 Found', '404 Not Found']));
  b.headers = Array.from({ length: int(5) }, (): [string, string] => [
    chance(0.7) ? pick(NAMES) : mutateText(pick(NAMES)),
    chance(0.6) ? pick(['text/plain', '5', '0', 'close', 'chunked', 'a=b', ' x ']) : randomText(20),
  ]);
  b.body = pick(['list', 'gen', 'write', 'file'] as const);
  b.chunks = Array.from({ length: int(4) }, () => randomText(40));
  if (chance(0.2)) b.raise = pick(['call', 'start', 'iter0', 'iter1', 'close'] as const);
  if (chance(0.05)) b.writeAfter = pick(['close', 'thread'] as const);
  return b;
}

function sendBehaviour(port: number, b: Behaviour): Promise<void> {
  const method = chance(0.1) ? 'HEAD' : 'GET';
  return sendRaw(port, `${method} ${behaviourPath(b)} HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n`, false);
}

/** Runs tasks with at most `width` at a time. */
async function pool(count: number, width: number, task: (i: number) => Promise<void>, every: (i: number) => void): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await task(i);
      if (i % 250 === 0) every(i);
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
}

describe(`bounded fuzzing (seed ${SEED}): the front end never exits and answers health requests afterwards`, () => {
  const t = tempDir();
  let host: WsgiHost;
  let port: number;

  before(async () => {
    makeVenv(join(t.dir, 'venv'));
    t.file('fuzz.wsgi', BEHAVIOUR_APP);
    t.file(
      'calm.wsgi',
      'def application(environ, start_response):\n    body = environ["wsgi.input"].read()\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [b"calm " + body]\n',
    );
    mkdirSync(join(t.dir, 'static'));
    writeFileSync(join(t.dir, 'static', 'hello.txt'), 'static hello');
    const config = t.file(
      'site.toml',
      `listen = ["127.0.0.1:0"]
[limits]
body-timeout = 2
header-timeout = 2
[[group]]
name = "fuzz"
python-home = "venv"
processes = 2
threads = 6
request-timeout = 5
graceful-timeout = 2
[[group]]
name = "calm"
python-home = "venv"
processes = 1
threads = 4
[[mount]]
path = "/"
script = "fuzz.wsgi"
group = "fuzz"
[[mount]]
path = "/calm"
script = "calm.wsgi"
group = "calm"
[[static]]
path = "/static"
directory = "static"
`,
    );
    host = await WsgiHost.serve(['-c', config], { cwd: t.dir });
    port = Number(new URL(host.url).port);
  });
  after(async () => {
    await host?.kill();
    t.cleanup();
  });

  const alive = (i: number, what: string): void => {
    assert.ok(processAlive(host.pid), `the front end exited during ${what} (iteration ${i}, seed ${SEED}); logs:\n${host.logText().slice(-4000)}`);
  };

  async function healthy(what: string): Promise<void> {
    alive(-1, what);
    const started = Date.now();
    assert.equal((await request(`${host.url}/calm/`, { timeoutMs: 5000 })).text, 'calm ');
    assert.equal((await request(`${host.url}/static/hello.txt`, { timeoutMs: 5000 })).text, 'static hello');
    assert.ok(Date.now() - started < 5000, `health answered at once after ${what}`);
  }

  test(`${RAW_REQUESTS} mutated raw requests`, async () => {
    await pool(
      RAW_REQUESTS,
      24,
      () => sendRaw(port, mutateRequest(), chance(0.7)),
      (i) => alive(i, 'raw requests'),
    );
    await healthy('the mutated requests');
  });

  test(`${BEHAVIOURS} mutated application behaviours`, async () => {
    await pool(
      BEHAVIOURS,
      12,
      () => sendBehaviour(port, randomBehaviour()),
      (i) => alive(i, 'application behaviours'),
    );
    await healthy('the mutated behaviours');
    // The fuzzed group itself still answers (it may be replacing a process it had to stop).
    const r = await request(`${host.url}/health`, { timeoutMs: 15_000 });
    assert.ok(r.status === 200 || r.status === 503, `the fuzzed group answered ${r.status}`);
  });

  test('no internal error was contained, and no file was left open (closed only by the garbage collector)', () => {
    const bugs = host.logs.filter((l) =>
      /internal error|escaped every containment boundary|Closing file descriptor \d+ on garbage collection/.test(String(l.msg)),
    );
    assert.deepEqual(
      bugs.map((l) => String(l.msg).slice(0, 300)),
      [],
    );
  });
});
