import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BodySink, Failure, OfferedFile, PoolRequest, RequestHead, ResponseHead } from '../../src/contract/request-port.js';
import { createLogger } from '../../src/observability/logger.js';
import { Flag, FrameType, REQUEST_WINDOW, RESPONSE_WINDOW } from '../../src/protocol/frame-types.js';
import { encodeResponseHead } from '../../src/protocol/response-head.js';
import { ReplyPoller } from '../../src/workers/reply-poller.js';
import { type HandleHost, RequestHandle } from '../../src/workers/request-handle.js';
import type { WorkerChannel } from '../../src/workers/worker-channel.js';

/**
 * The worker side's handle of one request, without a process: a channel that records the frames
 * it would send, and a request that records what the HTTP side would hear.
 */
function setup(opts: { body?: boolean; expectContinue?: boolean } = {}) {
  const sent: string[] = [];
  const channel = {
    isClosed: false,
    request: (id: number, flags: number) => sent.push(`REQUEST ${id} flags=${flags}`),
    data: (id: number, chunk: Buffer, end: boolean) => sent.push(`DATA ${id} ${chunk.toString()}${end ? ' END' : ''}`),
    credit: (id: number, n: number) => sent.push(`CREDIT ${id} ${n}`),
    control: (type: number, id: number, result?: number) =>
      sent.push(`${type === FrameType.CANCEL ? 'CANCEL' : type === FrameType.FILE_DONE ? 'FILE_DONE' : type} ${id}${result === undefined ? '' : ` ${result}`}`),
  };
  const host: HandleHost = {
    channel: channel as unknown as WorkerChannel,
    poller: new ReplyPoller(0),
    pid: undefined,
    alive: false,
    log: createLogger({ level: 'error' }),
  };
  const heard: string[] = [];
  const failures: Failure[] = [];
  let bodySink: BodySink | undefined;
  const head = { method: 'GET', requestUri: '/', requestId: 'r1', headers: '' } as RequestHead;
  const request: PoolRequest = {
    head,
    expectContinue: opts.expectContinue ?? false,
    body: opts.body
      ? {
          start: (sink, credit) => {
            bodySink = sink;
            heard.push(`body.start ${credit}`);
          },
          credit: (n) => heard.push(`body.credit ${n}`),
        }
      : undefined,
    onHead: (h: ResponseHead, end) => heard.push(`head ${h.status} ${h.body.toString()}${end ? ' END' : ''}`),
    onBody: (chunk, end) => heard.push(`body ${chunk.length}${end ? ' END' : ''}`),
    onFile: (f: OfferedFile) => heard.push(`file ${f.length}`),
    onFailure: (f) => failures.push(f),
  };
  const handle = new RequestHandle(request);
  return { handle, host, sent, heard, failures, sink: () => bodySink };
}

const response = (status = 200, body = ''): Buffer => encodeResponseHead(status, 'OK', ['Content-Type', 'text/plain'], Buffer.from(body));
const credit = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

describe('request handle: the worker side checks what a worker sends about a request', () => {
  test('a request without a body goes out whole (END); its response reaches the HTTP side', () => {
    const { handle, host, sent, heard, failures } = setup();
    assert.equal(handle.recallable, false, 'not on a process yet');
    handle.sendTo(host, 7);
    assert.deepEqual(sent, [`REQUEST 7 flags=${Flag.END}`]);
    assert.equal(handle.recallable, true, 'sent, no response yet: it may run elsewhere');
    handle.frame(FrameType.RESPONSE, 0, response(200, 'hel'));
    assert.equal(handle.recallable, false);
    handle.frame(FrameType.DATA, Flag.END, Buffer.from('lo'));
    assert.deepEqual(heard, ['head 200 hel', 'body 2 END']);
    assert.deepEqual(failures, []);
  });
  test('a body streams at once within REQUEST_WINDOW; then as the worker grants CREDIT', () => {
    const { handle, host, sent, heard, sink } = setup({ body: true });
    handle.sendTo(host, 1);
    assert.deepEqual(sent, ['REQUEST 1 flags=0']);
    assert.deepEqual(heard, [`body.start ${REQUEST_WINDOW}`]);
    sink()?.body(Buffer.from('abc'), true);
    assert.deepEqual(sent.slice(1), ['DATA 1 abc END']);
    handle.frame(FrameType.CREDIT, 0, credit(100));
    assert.deepEqual(heard.slice(1), ['body.credit 100']);
    assert.equal(handle.recallable, false, 'a request with a body is never recalled');
  });
  test('Expect: 100-continue: the body starts with the first CREDIT (the application reads it)', () => {
    const { handle, host, sent, heard } = setup({ body: true, expectContinue: true });
    handle.sendTo(host, 1);
    assert.deepEqual(sent, [`REQUEST 1 flags=${Flag.CONTINUE}`]);
    assert.deepEqual(heard, []);
    handle.frame(FrameType.CREDIT, 0, credit(65536));
    handle.frame(FrameType.CREDIT, 0, credit(10));
    assert.deepEqual(heard, ['body.start 65536', 'body.credit 10']);
  });
  test('frames out of order fail the request: DATA or FILE before the RESPONSE, a second RESPONSE', () => {
    for (const [type, payload, why] of [
      [FrameType.DATA, Buffer.from('x'), /^DATA before the RESPONSE$/],
      [FrameType.FILE, Buffer.from('{"fd":3,"offset":0,"length":1}'), /^FILE before the RESPONSE$/],
    ] as const) {
      const { handle, host, failures } = setup();
      handle.sendTo(host, 1);
      handle.frame(type, 0, payload);
      assert.equal(failures[0]?.kind, 'protocol');
      assert.match(failures[0]?.why ?? '', why);
    }
    const { handle, host, heard, failures } = setup();
    handle.sendTo(host, 1);
    handle.frame(FrameType.RESPONSE, 0, response());
    handle.frame(FrameType.RESPONSE, 0, response());
    assert.deepEqual(heard, ['head 200 ']);
    assert.deepEqual(
      failures.map((f) => [f.kind, f.why]),
      [['protocol', 'a second RESPONSE frame']],
    );
  });
  test('a response head that cannot be sent is an invalid-head failure, never a head', () => {
    const { handle, host, heard, failures } = setup();
    handle.sendTo(host, 1);
    handle.frame(FrameType.RESPONSE, Flag.END, encodeResponseHead(1000, 'Big', []));
    assert.deepEqual(heard, []);
    assert.equal(failures[0]?.kind, 'invalid-head');
  });
  test('response bytes beyond the credit window fail the request; credit given back widens it, in batches', () => {
    const { handle, host, sent, failures } = setup();
    handle.sendTo(host, 3);
    handle.frame(FrameType.RESPONSE, 0, response());
    handle.frame(FrameType.DATA, 0, Buffer.alloc(RESPONSE_WINDOW));
    handle.credit(1000);
    assert.deepEqual(sent.slice(1), [], 'credit goes back in batches, not per chunk');
    handle.credit(RESPONSE_WINDOW / 4);
    assert.deepEqual(sent.slice(1), [`CREDIT 3 ${RESPONSE_WINDOW / 4 + 1000}`]);
    handle.frame(FrameType.DATA, 0, Buffer.alloc(RESPONSE_WINDOW / 4 + 1000));
    assert.equal(failures.length, 0, 'within the window granted');
    handle.frame(FrameType.DATA, 0, Buffer.alloc(1));
    assert.equal(failures[0]?.kind, 'protocol');
    assert.match(failures[0]?.why ?? '', /beyond the credit granted \(1 over\)/);
  });
  test('an application that fails after its response started: aborted', () => {
    const { handle, host, failures } = setup();
    handle.sendTo(host, 1);
    handle.frame(FrameType.RESPONSE, 0, response());
    handle.frame(FrameType.DATA, Flag.END | Flag.ABORT, Buffer.alloc(0));
    assert.equal(failures[0]?.kind, 'aborted');
  });
  test('cancel: one CANCEL to the worker; nothing more reaches the HTTP side', () => {
    const { handle, host, sent, heard, failures } = setup();
    handle.sendTo(host, 9);
    handle.cancel();
    handle.cancel();
    assert.deepEqual(sent, [`REQUEST 9 flags=${Flag.END}`, `CANCEL 9`]);
    handle.frame(FrameType.RESPONSE, Flag.END, response());
    handle.lost('worker process 1 was killed by SIGKILL');
    handle.timeout(5);
    assert.deepEqual(heard, []);
    assert.deepEqual(failures, []);
  });
  test('a cancelled request that never reached a process sends nothing; a rejected one hears why once', () => {
    const a = setup();
    a.handle.cancel();
    assert.deepEqual(a.sent, []);
    const b = setup();
    b.handle.reject("group 'g' is full", 1);
    b.handle.reject("group 'g' is full", 1);
    assert.deepEqual(b.failures, [{ kind: 'rejected', why: "group 'g' is full", retryAfter: 1 }]);
    assert.equal(b.handle.cancelled, true, 'the queue skips it');
  });
  test('its process died while it ran: lost; past request-timeout: timeout', () => {
    const a = setup();
    a.handle.sendTo(a.host, 1);
    a.handle.lost('worker process 42 exited with code 1');
    assert.deepEqual(a.failures, [{ kind: 'lost', why: 'worker process 42 exited with code 1' }]);
    const b = setup();
    b.handle.sendTo(b.host, 1);
    b.handle.timeout(2);
    assert.deepEqual(b.failures, [{ kind: 'timeout', why: 'request-timeout (2s)', limitSeconds: 2 }]);
    assert.equal(b.handle.timedOut, true);
  });
});
