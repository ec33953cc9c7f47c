import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpLimitsSchema } from '../../src/config/schema.js';
import type { BodySink, FileOutcome, PoolRequest, RequestPort, RequestStream, ResponseHead } from '../../src/contract/request-port.js';
import { FrontEnd, REQUEST_FINISH_CHANNEL } from '../../src/http/front-end.js';
import type { Exchange } from '../../src/http/exchange.js';
import type { RouteTarget, Routes } from '../../src/http/routes.js';
import { Router } from '../../src/http/router.js';
import type { AccessRecord } from '../../src/observability/access-log.js';
import { GroupStats } from '../../src/observability/group-stats.js';
import { createLogger } from '../../src/observability/logger.js';
import { request } from '../helpers/http.js';
import { RawClient } from '../helpers/raw-http.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The HTTP side in-process with a fake worker side (fastify's inject idea): real node:http and
 * real clients on 127.0.0.1, and a RequestPort that records what it is handed and lets each test
 * play the worker side's part of the contract. No Python.
 */
class FakeStream implements RequestStream {
  readonly calls: string[] = [];
  bodyBytes = '';
  body(chunk: Buffer, end: boolean): void {
    this.bodyBytes += chunk.toString();
    if (end) this.calls.push('body end');
  }
  credit(bytes: number): void {
    this.calls.push(`credit ${bytes}`);
  }
  fileDone(outcome: FileOutcome): void {
    this.calls.push(`fileDone ${outcome}`);
  }
  cancel(): void {
    this.calls.push('cancel');
  }
}

class FakePort implements RequestPort {
  readonly label = 'fake';
  private readonly waiting: ((d: { request: PoolRequest; stream: FakeStream }) => void)[] = [];
  private readonly ready: { request: PoolRequest; stream: FakeStream }[] = [];
  dispatch(request: PoolRequest): RequestStream {
    const d = { request, stream: new FakeStream() };
    const w = this.waiting.shift();
    if (w !== undefined) w(d);
    else this.ready.push(d);
    return d.stream;
  }
  /** The next request handed to the port. */
  next(): Promise<{ request: PoolRequest; stream: FakeStream }> {
    const d = this.ready.shift();
    return d !== undefined ? Promise.resolve(d) : new Promise((resolve) => this.waiting.push(resolve));
  }
}

const head = (status: number, headers: string[] = [], body = '', contentLength = -1): ResponseHead => ({
  status,
  reason: status === 200 ? 'OK' : 'Whatever',
  headers: ['Content-Type', 'text/plain', ...headers],
  contentLength,
  close: false,
  dropped: undefined,
  body: Buffer.from(body),
});

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('the HTTP side against a fake worker side', () => {
  const port = new FakePort();
  const records: AccessRecord[] = [];
  const onRecord = (r: unknown): void => {
    records.push(r as AccessRecord);
  };
  let frontEnd: FrontEnd;
  let url = '';
  before(async () => {
    const target: RouteTarget = { port, appIndex: 0, passAuthorization: false, stats: new GroupStats('fake'), label: { group: 'fake', mount: '/' } };
    const routes: Routes = {
      router: new Router<RouteTarget>([], [{ kind: 'app', prefix: '', target }]),
      serverNames: [],
      encodedSlashes: ['off'],
      mainEncodedSlashes: 'off',
    };
    frontEnd = new FrontEnd(routes, { limits: HttpLimitsSchema.parse({}), log: createLogger({ level: 'error' }), probe: undefined });
    const [a] = await frontEnd.listen([{ host: '127.0.0.1', port: 0, proxyProtocol: false } as never]);
    url = `http://127.0.0.1:${a?.port}`;
    subscribe(REQUEST_FINISH_CHANNEL, onRecord);
  });
  after(async () => {
    unsubscribe(REQUEST_FINISH_CHANNEL, onRecord);
    await frontEnd.close(1000);
  });

  test('a GET: the worker side gets its head (never an HTTP object); the response it reports is written, credit goes back', async () => {
    const answer = request(`${url}/app/x?y=1`);
    const { request: r, stream } = await port.next();
    assert.equal(r.head.method, 'GET');
    assert.equal(r.head.pathInfo, '/app/x');
    assert.equal(r.head.queryString, 'y=1');
    assert.equal(r.head.scriptName, '');
    assert.match(r.head.headers, /\x00Host\x00127\.0\.0\.1:\d+/);
    assert.equal(r.body, undefined);
    r.onHead(head(200, [], 'hel'), false);
    r.onBody(Buffer.from('lo'), true);
    const res = await answer;
    assert.equal(res.status, 200);
    assert.equal(res.text, 'hello');
    assert.equal(res.headers['x-request-id'], r.head.requestId);
    await tick();
    assert.deepEqual(stream.calls, ['credit 3', 'credit 2'], 'the bytes the client took are credited back; no cancel');
    assert.equal(records.at(-1)?.status, 200);
    assert.equal(records.at(-1)?.bytes, 5);
  });

  test("each failure of the worker side is answered with its status, and the worker side's handle is cancelled", async () => {
    const cases: [Parameters<PoolRequest['onFailure']>[0], number][] = [
      [{ kind: 'rejected', why: "group 'fake' is full", retryAfter: 1 }, 503],
      [{ kind: 'lost', why: 'worker process 1 was killed by SIGKILL' }, 502],
      [{ kind: 'timeout', why: 'request-timeout (2s)', limitSeconds: 2 }, 504],
      [{ kind: 'invalid-head', why: 'the status 1000 is not 200-599' }, 500],
      [{ kind: 'protocol', why: 'DATA before the RESPONSE' }, 502],
      [{ kind: 'aborted', why: "the application's response was cut short" }, 502],
      [{ kind: 'internal', why: 'testing', cause: new Error('a bug') }, 502],
    ];
    for (const [failure, status] of cases) {
      const answer = request(`${url}/`);
      const { request: r, stream } = await port.next();
      r.onFailure(failure);
      const res = await answer;
      assert.equal(res.status, status, failure.kind);
      assert.match(res.text, new RegExp(`Request id: ${r.head.requestId}`));
      if (failure.kind === 'rejected') assert.equal(res.headers['retry-after'], '1');
      assert.deepEqual(stream.calls, ['cancel'], failure.kind);
    }
  });

  test('the client goes away while its request waits: the handle is cancelled; the access log says 499', async () => {
    const c = await RawClient.open(url);
    c.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    const { request: r, stream } = await port.next();
    c.socket.resetAndDestroy(); // gone for good (a half-close is a client that still waits for its answer)
    await c.closed;
    await tick();
    assert.deepEqual(stream.calls, ['cancel']);
    assert.equal(records.at(-1)?.requestId, r.head.requestId);
    assert.equal(records.at(-1)?.status, 499);
  });

  test('HEAD: the body the application sends is not written, and its bytes are credited back at once', async () => {
    const answer = request(`${url}/`, { method: 'HEAD' });
    const { request: r, stream } = await port.next();
    r.onHead(head(200, ['Content-Length', '4'], '', 4), false);
    r.onBody(Buffer.from('body'), true);
    const res = await answer;
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '4');
    assert.equal(res.text, '');
    assert.deepEqual(stream.calls, ['credit 4']);
  });

  test('a body shorter than its Content-Length: the response is cut short, the handle cancelled', async () => {
    const c = await RawClient.open(url);
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const { request: r, stream } = await port.next();
    r.onHead(head(200, ['Content-Length', '10'], 'abc', 10), false);
    r.onBody(Buffer.alloc(0), true);
    assert.ok(await c.waitClosed(5000), 'the connection closes: the client sees 3 of 10 bytes');
    assert.match(c.pending, /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nabc$/);
    assert.deepEqual(stream.calls, ['credit 3', 'cancel']);
  });

  test('a request body is sent as the worker side grants credit (buffered first when small)', async () => {
    const answer = request(`${url}/upload`, { method: 'POST', body: 'abcdef' });
    const { request: r, stream } = await port.next();
    assert.ok(r.body !== undefined);
    assert.equal(r.expectContinue, false);
    r.body.start(stream as BodySink, 1024);
    assert.equal(stream.bodyBytes, 'abcdef');
    assert.deepEqual(stream.calls, ['body end']);
    r.onHead(head(201, [], 'made'), true);
    assert.equal((await answer).status, 201);
  });

  test('Expect: 100-continue on a body too large to buffer: 100 Continue only when the application reads it', async () => {
    const c = await RawClient.open(url);
    const size = 2 * 1024 * 1024;
    c.write(`POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\nExpect: 100-continue\r\n\r\n`);
    const { request: r, stream } = await port.next();
    assert.equal(r.expectContinue, true);
    await tick();
    assert.equal(c.pending, '', 'no 100 Continue before the application reads');
    r.body?.start(stream, size);
    const interim = await c.read(5000);
    assert.equal(interim?.status, 100);
    c.write(Buffer.alloc(size, 0x61));
    const deadline = Date.now() + 10_000;
    while (!stream.calls.includes('body end') && Date.now() < deadline) await tick();
    assert.equal(stream.bodyBytes.length, size);
    r.onHead(head(200, [], 'ok'), true);
    assert.equal((await c.readFinal(5000))?.status, 200);
    c.destroy();
  });

  // The exchange's states (src/http/exchange.ts): the response is waiting | head-sent | streaming |
  // done | broken, and done and broken are final; the request body is none | pending | buffering |
  // streaming | done | failed. What the worker side reports after the end changes nothing.
  describe('states', () => {
    const t = tempDir();
    after(() => t.cleanup());
    /** A request whose exchange is over, with what the client got and the access records it made. */
    const lateEvents = async (r: PoolRequest, stream: FakeStream): Promise<void> => {
      const calls = stream.calls.length;
      const recorded = records.length;
      const file = join(t.dir, 'late.txt');
      writeFileSync(file, 'late file');
      const handle = await open(file, 'r');
      r.onHead(head(200, [], 'late head'), true);
      r.onBody(Buffer.from('late body'), true);
      r.onFailure({ kind: 'lost', why: 'a late failure' });
      r.onFile({ handle, offset: 0, length: 9 });
      await tick();
      assert.deepEqual(stream.calls.slice(calls), ['fileDone refused'], 'after the end: no write, no credit, no second cancel; an offered file is refused');
      assert.equal(records.length, recorded, 'the request was counted once, when it ended');
      await assert.rejects(handle.stat(), 'the refused file was closed');
    };

    test('waiting → head-sent → streaming → done: the response ends whole once; what comes after is dropped', async () => {
      const c = await RawClient.open(url);
      c.write('GET /states HTTP/1.1\r\nHost: x\r\n\r\n');
      const { request: r, stream } = await port.next();
      const ex = r as Exchange;
      assert.equal(ex.over, false, 'waiting');
      r.onHead(head(200, ['Content-Length', '6'], 'ab', 6), false);
      r.onBody(Buffer.from('cd'), false);
      assert.equal(ex.over, false, 'head sent, then streaming');
      const recorded = records.length;
      r.onBody(Buffer.from('ef'), true);
      assert.equal(ex.over, true, 'done');
      assert.equal(ex.status, 200);
      assert.equal(records.length, recorded + 1);
      const res = await c.readFinal(5000);
      assert.equal(res?.status, 200);
      await lateEvents(r, stream);
      assert.equal(c.pending, '', 'nothing more reached the client after its response');
      assert.ok(!stream.calls.includes('cancel'), 'a request that ended whole is not cancelled');
      c.destroy();
    });

    test('waiting → broken (a failure before the head): an error page once; a head or body after it is dropped', async () => {
      const c = await RawClient.open(url);
      c.write('GET /states HTTP/1.1\r\nHost: x\r\n\r\n');
      const { request: r, stream } = await port.next();
      r.onFailure({ kind: 'lost', why: 'worker process 1 was killed by SIGKILL' });
      assert.equal((r as Exchange).over, true);
      assert.equal((r as Exchange).status, 502);
      assert.equal((await c.readFinal(5000))?.status, 502);
      assert.deepEqual(stream.calls, ['cancel']);
      await lateEvents(r, stream);
      assert.equal(c.pending, '', 'no second response');
      c.destroy();
    });

    test('head-sent → broken (a failure after the head): the response is cut short, the handle cancelled once', async () => {
      const c = await RawClient.open(url);
      c.write('GET /states HTTP/1.1\r\nHost: x\r\n\r\n');
      const { request: r, stream } = await port.next();
      r.onHead(head(200, ['Content-Length', '10'], 'abc', 10), false);
      r.onFailure({ kind: 'lost', why: 'worker process 1 was killed by SIGKILL' });
      assert.equal((r as Exchange).over, true);
      assert.ok(await c.waitClosed(5000), 'the connection closes: the client sees a response cut short');
      assert.match(c.pending, /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nabc$/);
      assert.deepEqual(stream.calls, ['credit 3', 'cancel']);
      await lateEvents(r, stream);
    });

    test('the client goes away (→ broken): 499 in the access log, and a response the worker side sends later is dropped', async () => {
      const c = await RawClient.open(url);
      c.write('GET /states HTTP/1.1\r\nHost: x\r\n\r\n');
      const { request: r, stream } = await port.next();
      c.socket.resetAndDestroy();
      await c.closed;
      await tick();
      assert.equal((r as Exchange).over, true);
      assert.equal((r as Exchange).status, 499);
      assert.deepEqual(stream.calls, ['cancel']);
      await lateEvents(r, stream);
    });

    test('request body pending → streaming → done: it is sent once, however often the worker side starts it', async () => {
      const answer = request(`${url}/upload`, { method: 'POST', body: 'abcdef' });
      const { request: r, stream } = await port.next();
      assert.ok(r.body !== undefined);
      r.body.start(stream as BodySink, 1024);
      r.body.start(stream as BodySink, 1024);
      assert.equal(stream.bodyBytes, 'abcdef', 'the body went once');
      assert.deepEqual(stream.calls, ['body end']);
      r.onHead(head(200, [], 'ok'), true);
      assert.equal((await answer).status, 200);
    });

    test('request body pending → done: a response that ends before the application read the body ends it; a later start sends nothing', async () => {
      const answer = request(`${url}/upload`, { method: 'POST', body: 'abcdef' });
      const { request: r, stream } = await port.next();
      r.onHead(head(200, [], 'ok'), true);
      assert.equal((await answer).status, 200);
      r.body?.start(stream as BodySink, 1024);
      await tick();
      assert.equal(stream.bodyBytes, '', 'the body is not sent after the response ended');
      assert.deepEqual(stream.calls, []);
    });
  });
});
