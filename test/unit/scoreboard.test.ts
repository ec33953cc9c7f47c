import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Scoreboard } from '../../src/workers/scoreboard.js';

describe('the scoreboard every front-end loop shares', () => {
  test('a process takes requests up to the limit a loop claims with, whichever loop counts them', () => {
    const first = new Scoreboard();
    const other = new Scoreboard(first.buffer);
    const slot = first.allocateSlot();
    const group = first.allocateGroup();
    assert.equal(other.tryAcquire(slot, 2), true);
    first.add(slot);
    assert.equal(other.busy(slot), 2);
    assert.equal(other.tryAcquire(slot, 2), false, 'full: no over-fill');
    assert.equal(other.tryAcquire(slot, 10), true, 'pipelining room');
    other.release(slot, group, true);
    first.release(slot, group, false);
    assert.equal(first.busy(slot), 1);
    assert.equal(first.served(slot), 1, 'only finished requests count as served');
  });

  test('a new slot starts at zero; requests queued in other loops are counted per group', () => {
    const b = new Scoreboard();
    const s = b.allocateSlot();
    b.add(s);
    const g = b.allocateGroup();
    assert.equal(b.queuedElsewhere(g, 3), 3);
    assert.equal(b.queuedElsewhere(g, -1), 2);
    assert.equal(b.queuedElsewhere(g), 2);
    const again = new Scoreboard(b.buffer);
    assert.equal(again.busy(s), 1);
  });

  test('a loop waiting for a free thread of a group is woken when another frees one, and only waits a bounded time', async () => {
    const a = new Scoreboard();
    const b = new Scoreboard(a.buffer);
    const slot = a.allocateSlot();
    const group = a.allocateGroup();
    a.add(slot);
    const started = Date.now();
    const woken = b.freed(group, 5000);
    a.release(slot, group, true);
    await woken;
    assert.ok(Date.now() - started < 1000, 'woken by the release, not the timeout');
    const t0 = Date.now();
    await b.freed(group, 50);
    assert.ok(Date.now() - t0 >= 40, 'nothing freed: the wait ends at its bound');
  });
});
