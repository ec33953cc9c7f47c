import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { BodyClock } from '../../src/http/body-clock.js';
import { BufferBudget } from '../../src/http/buffer-budget.js';
import { ConnectionQueue } from '../../src/http/connection-queue.js';
import type { RequestRefusal } from '../../src/http/http-refusal.js';
import { type BodySettings, type BodySink, RequestBody } from '../../src/http/request-body.js';

describe('a connection serves its requests one at a time, in order', () => {
  const make = (max = 3) => {
    const log: string[] = [];
    const q = new ConnectionQueue<string>(max, {
      start: (r) => log.push(`start ${r}`),
      hold: () => log.push('hold'),
      release: () => log.push('release'),
      final: (s, why) => log.push(`final ${s} ${why}`),
    });
    return { q, log };
  };
  test('the next starts when the previous is done', () => {
    const { q, log } = make();
    q.push('a');
    q.push('b');
    assert.deepEqual(log, ['start a']);
    q.done('b'); // not the current one: ignored
    q.done('a');
    assert.deepEqual(log, ['start a', 'start b']);
    q.done('a'); // twice: ignored
    assert.deepEqual(log, ['start a', 'start b']);
  });
  test('reading is held while too many wait, released when they drain', () => {
    const { q, log } = make(2);
    for (const r of ['a', 'b', 'c', 'd']) q.push(r);
    assert.deepEqual(log, ['start a', 'hold']);
    assert.equal(q.waitingCount, 3);
    q.done('a');
    q.done('b');
    assert.deepEqual(log, ['start a', 'hold', 'start b', 'release', 'start c']);
  });
  test('a failure is answered after the requests before it, and nothing after it is served', () => {
    const { q, log } = make();
    q.push('a');
    q.push('b');
    q.fail(400, 'bad');
    q.push('c');
    assert.deepEqual(log, ['start a', 'hold']);
    q.done('a');
    q.done('b');
    assert.deepEqual(log, ['start a', 'hold', 'start b', 'final 400 bad']);
  });
  test('an idle connection answers a failure at once', () => {
    const { q, log } = make();
    q.fail(408, 'slow');
    q.fail(400, 'again'); // once only
    assert.deepEqual(log, ['hold', 'final 408 slow']);
  });
  test('when the client goes away, what never started is dropped', () => {
    const { q, log } = make(10);
    for (const r of ['a', 'b', 'c']) q.push(r);
    assert.deepEqual(q.close(), ['b', 'c']);
    q.done('a');
    assert.deepEqual(log, ['start a']);
  });
});

describe('body deadlines (mod_reqtimeout body=grace,MinRate=rate; body-timeout gaps)', () => {
  test('the minimum rate: grace, then one second per minRate bytes', () => {
    const c = new BodyClock({ gapMs: 0, minRate: 500, graceMs: 20_000 }, 0);
    assert.deepEqual(c.check(0), { waitMs: 20_000 });
    c.data(1000, 5000);
    assert.deepEqual(c.check(5000), { waitMs: 17_000 });
    assert.deepEqual(c.check(22_000), { expired: 'rate' });
  });
  test('time held back does not count', () => {
    const c = new BodyClock({ gapMs: 10_000, minRate: 500, graceMs: 20_000 }, 0);
    c.pause(1000);
    assert.deepEqual(c.check(50_000), { paused: true });
    c.resume(60_000);
    assert.deepEqual(c.check(60_000), { waitMs: 10_000 }, 'the gap starts anew');
    assert.deepEqual(c.check(70_000), { expired: 'gap' });
    assert.equal(c.rateDeadline(), 79_000);
  });
  test('no limits: unbounded', () => {
    assert.deepEqual(new BodyClock({ gapMs: 0, minRate: 0, graceMs: 0 }, 0).check(1e9), { unbounded: true });
  });
});

describe('request bodies: buffered within a budget, else streamed with credit', () => {
  const settings = (over: Partial<BodySettings> = {}): BodySettings => ({
    maxBodySize: 0,
    pace: { gapMs: 0, minRate: 0, graceMs: 0 },
    bufferLimit: 100,
    budget: new BufferBudget(150),
    ...over,
  });
  const collect = (): { sink: BodySink; got: string[]; ended: () => boolean } => {
    const got: string[] = [];
    let ended = false;
    const body = (c: Buffer, end: boolean): void => {
      if (end) ended = true;
      else got.push(c.toString());
    };
    return { sink: { body }, got, ended: () => ended };
  };
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

  test('a body with a Content-Length within the limit is read whole, then forwarded within credit', async () => {
    const s = new PassThrough();
    const st = settings();
    const b = new RequestBody(s, 10, st, () => assert.fail('no failure'));
    let ready: boolean | undefined;
    assert.equal(
      b.buffer((complete) => (ready = complete)),
      true,
    );
    assert.equal(st.budget.inUse, 10);
    s.write('hello');
    s.end('world');
    await tick();
    assert.equal(ready, true);
    const c = collect();
    b.forward(c.sink, 5);
    assert.deepEqual(c.got, ['hello']);
    assert.equal(c.ended(), false);
    b.credit(5);
    assert.deepEqual(c.got, ['hello', 'world']);
    assert.equal(c.ended(), true);
    assert.equal(st.budget.inUse, 0, 'the budget is given back');
  });
  test('too large for the buffer, or the budget spent: not buffered (streamed)', () => {
    const st = settings({ budget: new BufferBudget(50) });
    assert.equal(
      new RequestBody(new PassThrough(), 101, st, () => {}).buffer(() => {}),
      false,
    );
    assert.equal(
      new RequestBody(new PassThrough(), 60, st, () => {}).buffer(() => {}),
      false,
    );
    assert.equal(
      new RequestBody(new PassThrough(), 10, settings({ bufferLimit: 0 }), () => {}).buffer(() => {}),
      false,
    );
  });
  test('a chunked body that outgrows the buffer is streamed from where it is', async () => {
    const s = new PassThrough();
    const st = settings({ bufferLimit: 8 });
    const b = new RequestBody(s, -1, st, () => assert.fail('no failure'));
    let ready: boolean | undefined;
    assert.equal(
      b.buffer((complete) => (ready = complete)),
      true,
    );
    s.write('12345');
    await tick();
    s.write('67890');
    await tick();
    assert.equal(ready, false);
    const c = collect();
    b.forward(c.sink, 1000);
    s.end('abc');
    await tick();
    await tick();
    assert.equal(c.got.join(''), '1234567890abc');
    assert.equal(c.ended(), true);
    assert.equal(st.budget.inUse, 0);
  });
  test('over max-body-size: 413, once', async () => {
    const s = new PassThrough();
    const fails: RequestRefusal[] = [];
    const b = new RequestBody(s, -1, settings({ maxBodySize: 4 }), (w) => fails.push(w));
    b.buffer(() => {});
    s.write('12345');
    s.write('6');
    await tick();
    assert.deepEqual(
      fails.map((f) => [f.status, f.code]),
      [[413, 'HTTP_BODY_TOO_LARGE']],
    );
  });
  test('below the minimum rate: 408', async () => {
    const s = new PassThrough();
    const fails: RequestRefusal[] = [];
    const b = new RequestBody(s, 100, settings({ pace: { gapMs: 0, minRate: 1000, graceMs: 50 } }), (w) => fails.push(w));
    b.buffer(() => assert.fail('never complete'));
    s.write('x');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      fails.map((f) => [f.status, f.code]),
      [[408, 'HTTP_BODY_TOO_SLOW']],
    );
  });
  test('stop() gives the budget back and no failure follows', async () => {
    const s = new PassThrough();
    const st = settings({ pace: { gapMs: 20, minRate: 0, graceMs: 0 } });
    const b = new RequestBody(s, 50, st, () => assert.fail('stopped'));
    b.buffer(() => {});
    b.stop();
    assert.equal(st.budget.inUse, 0);
    await new Promise((r) => setTimeout(r, 60));
  });
});
