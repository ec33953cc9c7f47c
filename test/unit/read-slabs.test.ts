import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freeSlabs, MIN_READ, release, retain, SLAB_SIZE, SlabReader } from '../../src/util/read-slabs.js';

/** One read of n bytes (as net's onread does): into the memory next() gives, each byte `fill`. */
function read(r: SlabReader, n: number, fill: number): Buffer {
  const into = r.next();
  assert.ok(into.length >= Math.min(n, MIN_READ), `a read gets at least ${MIN_READ} bytes of room (got ${into.length})`);
  const got = Math.min(n, into.length);
  into.fill(fill, 0, got);
  r.filled(got);
  return into.subarray(0, got);
}

describe('read slabs: worker connections read into memory their response bytes are written from', () => {
  test('while nothing is retained, every read goes to the same memory (a reused buffer)', () => {
    const r = new SlabReader();
    const first = read(r, 1000, 1);
    for (let i = 0; i < 50; i++) {
      const again = read(r, 5000, 2);
      assert.equal(again.buffer, first.buffer);
      assert.equal(again.byteOffset, first.byteOffset, 'from the slab start each time');
    }
    r.close();
  });

  test('retained bytes are never read over until released (bounded fuzz: random reads, retains, releases)', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >>> 8) % n;
    };
    const readers = [new SlabReader(), new SlabReader(), new SlabReader()];
    const kept: { view: Buffer; fill: number }[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let fill = 0;
    for (let step = 0; step < 20_000; step++) {
      const r = readers[rand(readers.length)] as SlabReader;
      fill = (fill + 1) & 0xff;
      const got = read(r, 1 + rand(SLAB_SIZE), fill);
      buffers.add(got.buffer);
      // Keep part of what was read (a DATA payload after its frame header), sometimes.
      if (rand(3) === 0 && got.length > 16) kept.push({ view: retain(got.subarray(10 + rand(6))), fill });
      // Writes complete in any order.
      while (kept.length > 0 && rand(4) !== 0) {
        const [k] = kept.splice(rand(kept.length), 1);
        if (k === undefined) break;
        assert.ok(
          k.view.every((b) => b === k.fill),
          `step ${step}: retained bytes were read over`,
        );
        release(k.view);
      }
      for (const k of kept) assert.equal(k.view[0], k.fill, `step ${step}: a retained view's first byte changed`);
    }
    for (const k of kept) release(k.view);
    for (const r of readers) r.close();
    assert.ok(buffers.size < 40, `slabs are reused: ${buffers.size} slabs for 20,000 reads`);
    assert.ok(freeSlabs() > 0 && freeSlabs() <= 8, `released slabs return to a bounded pool (${freeSlabs()})`);
  });

  test('a slab with retained bytes, replaced by a fresh one, is reused once its bytes are released', () => {
    const r = new SlabReader();
    const kept = retain(read(r, SLAB_SIZE - MIN_READ + 1, 9));
    const next = read(r, 100, 8);
    assert.notEqual(next.buffer, kept.buffer, 'too little room left: another slab');
    assert.ok(kept.every((b) => b === 9));
    release(kept);
    const r2 = new SlabReader();
    const reused = read(r2, 100, 7);
    assert.equal(reused.buffer, kept.buffer, 'the released slab is the next one taken');
    r.close();
    r2.close();
  });

  test('memory that is not a slab (a frame assembled from several reads): retain and release do nothing', () => {
    const own = Buffer.from('assembled frame');
    assert.equal(retain(own), own);
    release(own);
    release(own);
    assert.equal(own.toString(), 'assembled frame');
  });
});
