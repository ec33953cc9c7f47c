import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getJson } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { childPids, rssBytes, waitFor, WsgiHost } from './helpers/wsgi-host.js';

const APP = String.raw`
import hashlib, json, os
MARKS = os.environ["MARKS"]
CHUNK = b"0123456789abcdef" * 4096  # 64 KiB

def progress(name, n):
    tmp = os.path.join(MARKS, name + ".tmp")
    with open(tmp, "w") as f:
        f.write(str(n))
    os.replace(tmp, os.path.join(MARKS, name))

class Endless(object):
    def __iter__(self):
        while True:
            yield CHUNK
    def close(self):
        progress("endless-closed", 1)

def application(environ, start_response):
    p = environ["PATH_INFO"]
    if p == "/upload":
        h = hashlib.sha256()
        n = 0
        stream = environ["wsgi.input"]
        while True:
            block = stream.read(65536)
            if not block:
                break
            h.update(block)
            n += len(block)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"length": n, "sha256": h.hexdigest()}).encode()]
    if p == "/download":
        total = int(environ["QUERY_STRING"])
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(total))])
        def gen():
            sent = 0
            while sent < total:
                block = CHUNK[: min(len(CHUNK), total - sent)]
                sent += len(block)
                yield block
        return gen()
    if p == "/tracked":
        total = int(environ["QUERY_STRING"])
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        def gen():
            for i in range(total // len(CHUNK)):
                if i % 4 == 0:
                    progress("tracked", i * len(CHUNK))
                yield CHUNK
            progress("tracked", total)
        return gen()
    if p == "/distinct":
        blocks = int(environ["QUERY_STRING"])
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        def gen():
            for i in range(blocks):
                yield hashlib.sha256(str(i).encode()).digest() * 2048  # 64 KiB, each block its own
        return gen()
    if p == "/endless":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return Endless()
    start_response("200 OK", [])
    return [b"ok"]
`;

const MB = 1024 * 1024;
/** The worker's and the front end's growth in RSS while a 200 MB body passes, at most. */
const WORKER_GROWTH_LIMIT = 32 * MB;
const FRONT_END_GROWTH_LIMIT = 64 * MB;

function pattern(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

describe('bodies stream both ways with bounded memory', () => {
  const t = tempDir();
  let host: WsgiHost;
  let marks: string;
  let workerPid: number;

  before(async () => {
    const venv = makeVenv(join(t.dir, 'venv'));
    marks = join(t.dir, 'marks');
    (await import('node:fs')).mkdirSync(marks);
    const app = t.file('stream.wsgi', APP);
    host = await WsgiHost.serve([app, '--python-home', venv, '--processes', '1', '--threads', '1'], { env: { MARKS: marks } });
    [workerPid] = (await childPids(host.pid)) as [number];
  });
  after(async () => {
    await host.stop();
    t.cleanup();
  });

  /** Samples both processes' RSS while fn runs; returns the largest growth of each. */
  async function watchMemory(fn: () => Promise<void>): Promise<{ frontEnd: number; worker: number }> {
    const base = { frontEnd: await rssBytes(host.pid), worker: await rssBytes(workerPid) };
    const peak = { ...base };
    const timer = setInterval(() => {
      void rssBytes(host.pid).then((v) => (peak.frontEnd = Math.max(peak.frontEnd, v)));
      void rssBytes(workerPid).then((v) => (peak.worker = Math.max(peak.worker, v)));
    }, 25);
    try {
      await fn();
    } finally {
      clearInterval(timer);
    }
    return { frontEnd: peak.frontEnd - base.frontEnd, worker: peak.worker - base.worker };
  }

  async function upload(size: number, chunked: boolean): Promise<void> {
    const block = pattern(64 * 1024);
    const hash = createHash('sha256');
    async function* gen(): AsyncGenerator<Buffer> {
      for (let sent = 0; sent < size; sent += block.length) {
        const b = block.subarray(0, Math.min(block.length, size - sent));
        hash.update(b);
        yield b;
      }
    }
    const headers: Record<string, string> = chunked ? {} : { 'Content-Length': String(size) };
    const r = await getJson<{ length: number; sha256: string }>(`${host.url}/upload`, { method: 'POST', headers, body: gen(), timeoutMs: 120_000 });
    assert.equal(r.length, size);
    assert.equal(r.sha256, hash.digest('hex'));
  }

  async function download(size: number): Promise<void> {
    const expected = createHash('sha256');
    const block = Buffer.from('0123456789abcdef'.repeat(4096));
    for (let sent = 0; sent < size; sent += block.length) expected.update(block.subarray(0, Math.min(block.length, size - sent)));
    const got = createHash('sha256');
    let n = 0;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${host.url}/download?${size}`, { agent: false }, (res) => {
        res.on('data', (c: Buffer) => {
          n += c.length;
          got.update(c);
        });
        res.on('end', resolve);
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(120_000, () => req.destroy(new Error('download timed out')));
      req.end();
    });
    assert.equal(n, size);
    assert.equal(got.digest('hex'), expected.digest('hex'));
  }

  test('1 MB up (Content-Length and chunked) and down', async () => {
    await upload(MB, false);
    await upload(MB + 17, true);
    await download(MB + 5);
  });

  test(`200 MB upload: intact; worker grows < ${WORKER_GROWTH_LIMIT / MB} MB, front end < ${FRONT_END_GROWTH_LIMIT / MB} MB`, async (t) => {
    const growth = await watchMemory(() => upload(200 * MB, false));
    t.diagnostic(`RSS growth: worker ${(growth.worker / MB).toFixed(1)} MB, front end ${(growth.frontEnd / MB).toFixed(1)} MB`);
    assert.ok(growth.worker < WORKER_GROWTH_LIMIT, `worker grew ${(growth.worker / MB).toFixed(1)} MB`);
    assert.ok(growth.frontEnd < FRONT_END_GROWTH_LIMIT, `front end grew ${(growth.frontEnd / MB).toFixed(1)} MB`);
  });

  test(`200 MB download: intact; worker grows < ${WORKER_GROWTH_LIMIT / MB} MB, front end < ${FRONT_END_GROWTH_LIMIT / MB} MB`, async (t) => {
    const growth = await watchMemory(() => download(200 * MB));
    t.diagnostic(`RSS growth: worker ${(growth.worker / MB).toFixed(1)} MB, front end ${(growth.frontEnd / MB).toFixed(1)} MB`);
    assert.ok(growth.worker < WORKER_GROWTH_LIMIT, `worker grew ${(growth.worker / MB).toFixed(1)} MB`);
    assert.ok(growth.frontEnd < FRONT_END_GROWTH_LIMIT, `front end grew ${(growth.frontEnd / MB).toFixed(1)} MB`);
  });

  test("a client that stops reading pauses the application's iterator", async () => {
    const total = 128 * MB;
    const sock = connect(Number(new URL(host.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.write(`GET /tracked?${total} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
    let received = 0;
    sock.on('data', (c: Buffer) => (received += c.length));
    await waitFor(() => received > 0, 10_000, 'the first bytes');
    sock.pause();
    const produced = (): number => {
      try {
        return Number(readFileSync(join(marks, 'tracked'), 'utf8'));
      } catch {
        return 0;
      }
    };
    await new Promise((r) => setTimeout(r, 1500));
    const whilePaused = produced();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(produced(), whilePaused, 'the iterator made no progress while the client was not reading');
    assert.ok(whilePaused < 32 * MB, `only a bounded window was produced ahead (${(whilePaused / MB).toFixed(1)} MB of 128)`);
    sock.resume();
    await new Promise<void>((resolve, reject) => {
      sock.on('end', resolve);
      sock.on('error', reject);
      setTimeout(() => reject(new Error('the rest did not arrive within 60 s')), 60_000).unref();
    });
    assert.ok(received > total, 'everything arrived once the client read again');
    assert.equal(produced(), total);
  });

  test('a client that disconnects cancels its request: close() is called, the thread is free again', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${host.url}/endless`, { agent: false }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (n > 4 * MB) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', () => {});
      req.end();
      setTimeout(() => reject(new Error('no data within 10 s')), 10_000).unref();
    });
    await waitFor(
      () => {
        try {
          return readFileSync(join(marks, 'endless-closed'), 'utf8') === '1';
        } catch {
          return false;
        }
      },
      10_000,
      'the endless iterable to be closed',
    );
    const r = await getJson(`${host.url}/upload`, { method: 'POST', body: 'x' });
    assert.equal(r.length, 1, 'the only thread serves again');
  });
});

describe('responses are written from the memory the worker connection was read into: bytes intact', () => {
  const t = tempDir();
  let host: WsgiHost;

  before(async () => {
    const venv = makeVenv(join(t.dir, 'venv'));
    const marks = join(t.dir, 'marks');
    (await import('node:fs')).mkdirSync(marks);
    const app = t.file('stream.wsgi', APP);
    // 4 threads on one connection: the responses' frames interleave in the same reads.
    host = await WsgiHost.serve([app, '--python-home', venv, '--processes', '1', '--threads', '4'], { env: { MARKS: marks } });
  });
  after(async () => {
    await host.stop();
    t.cleanup();
  });

  /** GET /distinct?blocks; a slow client stops reading for pauseMs after each MB. Resolves with the body's sha256. */
  function distinct(blocks: number, pauseMs: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const hash = createHash('sha256');
      const req = httpRequest(`${host.url}/distinct?${blocks}`, { agent: false }, (res) => {
        let sinceSleep = 0;
        res.on('data', (c: Buffer) => {
          hash.update(c);
          sinceSleep += c.length;
          if (pauseMs > 0 && sinceSleep >= MB) {
            sinceSleep = 0;
            res.pause();
            setTimeout(() => res.resume(), pauseMs);
          }
        });
        res.on('end', () => resolve(hash.digest('hex')));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(120_000, () => req.destroy(new Error('download timed out')));
      req.end();
    });
  }

  test('4 downloads of distinct blocks at once, two of them read slowly, arrive byte for byte', async () => {
    const blocks = 128; // 8 MiB each
    const expected = createHash('sha256');
    for (let i = 0; i < blocks; i++) {
      const d = createHash('sha256').update(String(i)).digest();
      expected.update(Buffer.concat(Array.from({ length: 2048 }, () => d)));
    }
    const want = expected.digest('hex');
    const got = await Promise.all([distinct(blocks, 0), distinct(blocks, 60), distinct(blocks, 0), distinct(blocks, 25)]);
    assert.deepEqual(got, [want, want, want, want]);
  });
});
