import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type InflightEntry, InflightTable } from '../../src/workers/inflight.js';

interface Req extends InflightEntry {
  name: string;
  recalling: boolean;
  recallable: boolean;
}
const req = (name: string, recallable = true): Req => ({ name, startedAt: 0, recalling: false, recallable });
const names = (xs: Req[]): string[] => xs.map((x) => x.name);

describe('inflight table: the requests one worker process holds', () => {
  test('ids are distinct and non-zero; the first `threads` requests run at once, the others wait', () => {
    const t = new InflightTable<Req>(2);
    const [a, b, c] = [req('a'), req('b'), req('c')];
    const ids = [t.add(a, 10), t.add(b, 11), t.add(c, 12)];
    assert.equal(new Set(ids).size, 3);
    assert.ok(ids.every((id) => id > 0));
    assert.deepEqual([a.startedAt, b.startedAt, c.startedAt], [10, 11, 0]);
    assert.equal(t.size, 3);
    assert.equal(t.get(ids[1] as number), b);
    assert.equal(t.get(999), undefined);
    assert.equal(t.oldestStart(), 10);
  });

  test('a finished request frees its thread: the oldest waiting one starts, in the order sent', () => {
    const t = new InflightTable<Req>(1);
    const [a, b, c] = [req('a'), req('b'), req('c')];
    const ia = t.add(a, 10);
    const ib = t.add(b, 10);
    const ic = t.add(c, 10);
    assert.equal(t.release(ia, 25), 15);
    assert.deepEqual([b.startedAt, c.startedAt], [25, 0]);
    assert.equal(t.get(ia), undefined);
    assert.equal(t.release(ib, 30), 5);
    assert.equal(c.startedAt, 30);
    assert.equal(t.release(ic, 31), 1);
    assert.equal(t.size, 0);
    assert.equal(t.oldestStart(), 0);
  });

  test('out-of-order ends keep the order of the rest; a released id is unknown after', () => {
    const t = new InflightTable<Req>(2);
    const rs = ['a', 'b', 'c', 'd'].map((n) => req(n));
    const ids = rs.map((r) => t.add(r, 1));
    t.release(ids[1] as number, 5); // b ends: c (the oldest waiting) starts
    assert.deepEqual(
      rs.map((r) => r.startedAt),
      [1, 1, 5, 0],
    );
    assert.deepEqual(names(t.runningSince(100)), ['a', 'c']);
    assert.deepEqual(names(t.recallable()), ['d']);
    t.forget(ids[3] as number);
    assert.equal(t.get(ids[3] as number), undefined);
    assert.equal(t.size, 2);
    assert.equal(t.release(12345, 9), 0, 'an unknown id changes nothing');
    assert.equal(t.size, 2);
    const e = req('e');
    const ie = t.add(e, 7);
    assert.ok(!ids.slice(0, 3).includes(ie));
    assert.equal(t.get(ie), e);
  });

  test('runningSince, recallable and clear sort the requests as a lost process needs', () => {
    const t = new InflightTable<Req>(1);
    const [a, b, c, d] = [req('a'), req('b'), req('c', false), req('d')];
    for (const r of [a, b, c, d]) t.add(r, 100);
    d.recalling = true;
    assert.deepEqual(names(t.runningSince(101)), ['a']);
    assert.deepEqual(names(t.runningSince(100)), []);
    assert.deepEqual(names(t.recallable()), ['b']);
    const { lost, waiting } = t.clear();
    assert.deepEqual(names(lost), ['a', 'c']);
    assert.deepEqual(names(waiting), ['b', 'd']);
    assert.equal(t.size, 0);
    assert.equal(t.get(1), undefined);
  });

  test('thousands of requests through a table keep its size and ids right', () => {
    const t = new InflightTable<Req>(3);
    const live: { id: number; r: Req }[] = [];
    for (let i = 0; i < 5000; i++) {
      const r = req(String(i));
      live.push({ id: t.add(r, i + 1), r });
      if (live.length > 6) {
        const out = live.splice(i % 3, 1)[0] as { id: number; r: Req };
        t.release(out.id, i + 1);
      }
    }
    assert.equal(t.size, live.length);
    for (const { id, r } of live) assert.equal(t.get(id), r);
    assert.equal(new Set(live.map((x) => x.id)).size, live.length);
  });

  test('requests it no longer holds are not kept alive into the old generation (no Map: V8 chains its discarded tables)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void;
    const oldUsed = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
    const t = new InflightTable<Req & { payload: object[] }>(1);
    const mk = (i: number): Req & { payload: object[] } => ({ ...req(String(i)), payload: Array.from({ length: 100 }, (_, k) => ({ k })) });
    for (let i = 0; i < 50; i++) t.release(t.add(mk(i), 1), 2);
    // The table has been through full collections: it is in the old generation, as in a server.
    gc();
    gc();
    const before = oldUsed();
    let prev = t.add(mk(-1), 1);
    for (let i = 0; i < 3000; i++) {
      const id = t.add(mk(i), 1);
      t.release(prev, 2);
      prev = id;
    }
    gc({ type: 'minor' });
    gc({ type: 'minor' });
    // With a Map this promoted ~6 MB (every request of the run); what is promoted here is the live one.
    const grew = oldUsed() - before;
    assert.ok(grew < 1024 * 1024, `old generation grew by ${Math.round(grew / 1024)} KB`);
  });
});
