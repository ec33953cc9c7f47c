import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestQueue } from '../../src/workers/request-queue.js';

interface Item {
  name: string;
  queuedAt: number;
  cancelled: boolean;
}
const item = (name: string, queuedAt = 0, cancelled = false): Item => ({ name, queuedAt, cancelled });
const names = (xs: (Item | undefined)[]): (string | undefined)[] => xs.map((x) => x?.name);

describe('request queue: FIFO, held list, expiry', () => {
  test('first in, first out; a request cancelled while it waited is skipped', () => {
    const q = new RequestQueue<Item>();
    const b = item('b');
    for (const x of [item('a'), b, item('c')]) q.push(x);
    assert.equal(q.length, 3);
    b.cancelled = true;
    assert.deepEqual(names([q.shift(), q.shift(), q.shift()]), ['a', 'c', undefined]);
    assert.equal(q.length, 0);
  });
  test('a long queue compacts as it drains, and keeps its order', () => {
    const q = new RequestQueue<Item>();
    for (let i = 0; i < 5000; i++) q.push(item(String(i)));
    for (let i = 0; i < 3000; i++) assert.equal(q.shift()?.name, String(i));
    q.push(item('last'));
    assert.equal(q.length, 2001);
    assert.equal(q.shift()?.name, '3000');
  });
  test('held requests wait apart from the queue, and come back in order, without the cancelled', () => {
    const q = new RequestQueue<Item>();
    const gone = item('gone');
    q.hold(item('h1'));
    q.hold(gone);
    q.hold(item('h2'));
    q.push(item('w'));
    gone.cancelled = true;
    assert.equal(q.heldLength, 3);
    assert.equal(q.length, 1);
    assert.deepEqual(names(q.releaseHeld()), ['h1', 'h2']);
    assert.equal(q.heldLength, 0);
    assert.equal(q.shift()?.name, 'w');
  });
  test('queue-timeout takes out what waited since the limit, from the queue and the held list', () => {
    const q = new RequestQueue<Item>();
    q.push(item('old', 10));
    q.push(item('cancelled-old', 20, true));
    q.push(item('new', 100));
    q.hold(item('held-old', 5));
    q.hold(item('held-new', 200));
    const late = q.expire(50);
    assert.deepEqual(names(late.waiting), ['old']);
    assert.deepEqual(names(late.held), ['held-old']);
    assert.equal(q.length, 1);
    assert.deepEqual(names(q.takeAll()), ['new', 'held-new']);
    assert.equal(q.length, 0);
    assert.equal(q.heldLength, 0);
  });
  test('expiry stops at the first request that is still in time', () => {
    const q = new RequestQueue<Item>();
    q.push(item('a', 10));
    q.push(item('b', 100));
    q.push(item('c', 10)); // redispatched after a recall: keeps its first dispatch time
    assert.deepEqual(names(q.expire(50).waiting), ['a']);
    assert.deepEqual(names(q.takeAll()), ['b', 'c']);
  });
});
