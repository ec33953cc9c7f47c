import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FrameDecoder } from '../src/protocol/frame-decoder.js';
import { frameHeader } from '../src/protocol/frame-encoder.js';
import { FrameType, MAX_WORKER_FRAME } from '../src/protocol/frame-types.js';
import { decodeResponseHead, encodeResponseHead, InvalidResponseError } from '../src/protocol/response-head.js';
import { decodeCredit, decodeFileOffer, decodeModules, decodeReady } from '../src/protocol/messages.js';

const head = (status: number, reason: string, headers: string[] = [], body?: string) =>
  decodeResponseHead(encodeResponseHead(status, reason, headers, body === undefined ? undefined : Buffer.from(body)));

const refused = (status: number, reason: string, headers: string[], why: RegExp) =>
  assert.throws(
    () => head(status, reason, headers),
    (err: unknown) => err instanceof InvalidResponseError && err.code === 'INVALID_RESPONSE' && why.test(err.message),
  );

describe('response heads: the one place where what a worker says about a response is checked', () => {
  test('a valid head passes unchanged', () => {
    const r = head(200, 'OK', ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'], 'body');
    assert.deepEqual(r.headers, ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
    assert.equal(r.reason, 'OK');
    assert.equal(r.contentLength, -1);
    assert.equal(r.close, false);
    assert.equal(r.dropped, undefined);
    assert.equal(r.body.toString(), 'body');
  });

  test('status: 200-599 only (1xx belong to the server)', () => {
    for (const s of [0, 99, 100, 101, 199, 600, 999, 65535]) refused(s, 'X', [], /status/);
    for (const s of [200, 204, 304, 404, 599]) assert.equal(head(s, 'X').status, s);
  });

  test('reason phrase and values: no CR, LF, NUL or other controls (HTAB and obs-text are fine)', () => {
    refused(200, 'OK\r\nX-Injected: 1', [], /reason phrase "OK\\r\\nX-Injected: 1" contains CR/);
    refused(200, 'O\x01K', [], /reason phrase .* control character 0x01/);
    refused(200, 'OK', ['X', 'a\nb'], /value of header "X" contains LF/);
    refused(200, 'OK', ['X', 'a\x7fb'], /contains DEL/);
    assert.equal(head(200, 'Fine\tThanks \u00e9').reason, 'Fine\tThanks \u00e9');
    assert.deepEqual(head(200, 'OK', ['X', 'caf\u00e9\tok']).headers, ['X', 'caf\u00e9\tok']);
  });

  test('names are tokens; a name needs a value', () => {
    for (const name of ['X Y', 'X:Y', '', 'X\u00e9', '(x)']) refused(200, 'OK', [name, 'v'], /not a token/);
    assert.throws(() => decodeResponseHead(encodeResponseHead(200, 'OK\0X-A', [])), /header name without a value/);
  });

  test('Content-Length: digits only; repeated equal values once; different values refused', () => {
    for (const v of ['+10', '1_0', '0x10', '-1', '1e3', '5, 5', '', '1234567890123456']) refused(200, 'OK', ['Content-Length', v], /Content-Length/);
    const r = head(200, 'OK', ['Content-Length', ' 5 ', 'content-length', '5']);
    assert.deepEqual(r.headers, ['Content-Length', '5']);
    assert.equal(r.contentLength, 5);
    refused(200, 'OK', ['Content-Length', '5', 'Content-Length', '6'], /two different Content-Length values/);
  });

  test('204 and 304 carry no Content-Length', () => {
    for (const s of [204, 304]) {
      const r = head(s, 'X', ['Content-Length', '5', 'ETag', '"e"']);
      assert.deepEqual(r.headers, ['ETag', '"e"']);
      assert.equal(r.contentLength, -1);
    }
  });

  test('hop-by-hop headers are dropped and named; Connection: close is kept as a flag', () => {
    const r = head(200, 'OK', [
      'Connection',
      'Keep-Alive, close',
      'Keep-Alive',
      '1',
      'Transfer-Encoding',
      'chunked',
      'TE',
      'x',
      'Trailer',
      'x',
      'Upgrade',
      'h2c',
      'Proxy-Connection',
      'x',
      'X-Kept',
      ' v ',
    ]);
    assert.deepEqual(r.headers, ['X-Kept', 'v']);
    assert.equal(r.close, true);
    assert.deepEqual(r.dropped, ['Keep-Alive', 'Transfer-Encoding', 'TE', 'Trailer', 'Upgrade', 'Proxy-Connection']);
    assert.equal(head(200, 'OK', ['Connection', 'keep-alive']).close, false);
  });

  test('truncated payloads are refused, never read past', () => {
    assert.throws(() => decodeResponseHead(Buffer.from([0, 200, 0])), InvalidResponseError);
    const p = encodeResponseHead(200, 'OK', []);
    p.writeUInt32BE(0xffffffff, 2);
    assert.throws(() => decodeResponseHead(p), /past its end/);
  });
});

describe("a worker's other payloads are decoded and checked", () => {
  test('CREDIT is 4 bytes; FILE is {fd, offset, length}; MODULES a list of names; READY has its fields', () => {
    assert.equal(decodeCredit(Buffer.from([0, 0, 1, 0])), 256);
    assert.throws(() => decodeCredit(Buffer.from([1])), /WORKER_PROTOCOL_ERROR|not 4/);
    assert.deepEqual(decodeFileOffer(Buffer.from('{"fd":5,"offset":0,"length":9}')), { fd: 5, offset: 0, length: 9 });
    for (const bad of [
      '{',
      '[]',
      '{"fd":-1,"offset":0,"length":1}',
      '{"fd":1.5,"offset":0,"length":1}',
      '{"fd":"5","offset":0,"length":1}',
      '{"path":"/etc/shadow","offset":0,"length":1}',
    ]) {
      assert.throws(
        () => decodeFileOffer(Buffer.from(bad)),
        (e: unknown) => (e as { code?: string }).code === 'WORKER_PROTOCOL_ERROR',
        bad,
      );
    }
    assert.deepEqual(decodeModules(Buffer.from('["/a.py"]')), ['/a.py']);
    assert.throws(() => decodeModules(Buffer.from('[1]')), /not a list of file names/);
    assert.throws(() => decodeReady(Buffer.from('{}')), /READY frame is malformed/);
  });

  test('a frame other than DATA over the size limit is a protocol error; DATA of any size streams', () => {
    const seen: number[] = [];
    const d = new FrameDecoder((_t, _id, _f, p) => seen.push(p.length));
    d.push(Buffer.concat([frameHeader(FrameType.DATA, 1, 1, MAX_WORKER_FRAME + 10), Buffer.alloc(1000)]));
    assert.deepEqual(seen, [1000]);
    const big = new FrameDecoder(() => {});
    assert.throws(() => big.push(Buffer.concat([frameHeader(FrameType.LOG, 0, 0, MAX_WORKER_FRAME + 1), Buffer.alloc(10)])), /over the limit/);
    const split = new FrameDecoder(() => {});
    split.push(frameHeader(FrameType.RESPONSE, 1, 0, MAX_WORKER_FRAME + 1).subarray(0, 4));
    assert.throws(
      () => split.push(Buffer.concat([frameHeader(FrameType.RESPONSE, 1, 0, MAX_WORKER_FRAME + 1).subarray(4), Buffer.alloc(5)])),
      /over the limit/,
    );
  });
});
