import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ObjectRegistry } from '../../src/util/object-registry.js';

describe('object registry: live connections by key, listed for a reload or a stop', () => {
  test('set, get, has, delete, size; a key set again takes the new value', () => {
    const r = new ObjectRegistry<object, string>();
    const [a, b, c] = [{}, {}, {}];
    r.set(a, 'a');
    r.set(b, 'b');
    r.set(c, 'c');
    r.set(b, 'B');
    assert.equal(r.size, 3);
    assert.equal(r.get(b), 'B');
    assert.ok(r.has(c));
    assert.equal(r.delete(a), true);
    assert.equal(r.delete(a), false, 'a key deleted twice is not there the second time');
    assert.equal(r.get(a), undefined);
    assert.equal(r.has(a), false);
    assert.deepEqual(r.values().sort(), ['B', 'c']);
    assert.equal(r.delete({}), false);
  });

  test('values() is a copy: deleting every entry while going through it reaches each once', () => {
    const r = new ObjectRegistry<{ n: number }, number>();
    const keys = Array.from({ length: 10 }, (_, n) => ({ n }));
    for (const k of keys) r.set(k, k.n);
    const seen: number[] = [];
    for (const v of r.values()) {
      seen.push(v);
      r.delete(keys[v] as { n: number });
    }
    assert.deepEqual(
      seen.sort((x, y) => x - y),
      keys.map((k) => k.n),
    );
    assert.equal(r.size, 0);
    assert.deepEqual(r.values(), []);
  });

  test('churn: entries deleted in any order leave exactly the others', () => {
    const r = new ObjectRegistry<object, number>();
    const live = new Map<object, number>();
    for (let i = 0; i < 2000; i++) {
      const k = {};
      r.set(k, i);
      live.set(k, i);
      if (live.size > 20) {
        const victim = [...live.keys()][(i * 7) % live.size] as object;
        assert.ok(r.delete(victim));
        live.delete(victim);
      }
    }
    assert.equal(r.size, live.size);
    for (const [k, v] of live) assert.equal(r.get(k), v);
    assert.deepEqual(
      r.values().sort((x, y) => x - y),
      [...live.values()].sort((x, y) => x - y),
    );
  });

  test('what left it is not kept alive into the old generation (a Map is: V8 chains its discarded tables)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void;
    const oldUsed = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
    const r = new ObjectRegistry<object, object[]>();
    const mk = (): object[] => Array.from({ length: 100 }, (_, k) => ({ k }));
    const keys: object[] = [];
    for (let i = 0; i < 50; i++) {
      const k = {};
      r.set(k, mk());
      keys.push(k);
    }
    for (const k of keys.splice(0, 45)) r.delete(k);
    // The registry has been through full collections: it is in the old generation, as in a server.
    gc();
    gc();
    const before = oldUsed();
    for (let i = 0; i < 3000; i++) {
      const k = {};
      r.set(k, mk());
      keys.push(k);
      r.delete(keys.shift() as object);
    }
    gc({ type: 'minor' });
    gc({ type: 'minor' });
    // A Map in its place promoted ~5.7 MB here.
    const grew = oldUsed() - before;
    assert.ok(grew < 1024 * 1024, `old generation grew by ${Math.round(grew / 1024)} KB`);
  });
});
