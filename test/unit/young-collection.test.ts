import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { BODY_BYTES_PER_COLLECTION, minorCollector, YoungCollection } from '../../src/util/young-collection.js';

describe('young collection: request-body buffers freed by a young collection every few megabytes', () => {
  test('one collection per BODY_BYTES_PER_COLLECTION bytes noted, whatever the read sizes', () => {
    let runs = 0;
    const c = new YoungCollection(() => runs++);
    assert.equal(c.active, true);
    for (let i = 0; i < 63; i++) c.note(64 * 1024);
    assert.equal(runs, 0, 'under 4 MiB: no collection');
    c.note(64 * 1024);
    assert.equal(runs, 1, 'at 4 MiB: one');
    c.note(3 * BODY_BYTES_PER_COLLECTION - 1);
    assert.equal(runs, 2, 'one large read counts once: the count starts again after each collection');
    const none = new YoungCollection(undefined);
    none.note(10 * BODY_BYTES_PER_COLLECTION);
    assert.equal(none.active, false, 'without a collector, bytes are only counted');
  });

  test("on this Node the collector is V8's young collection: the dropped chunks' memory is freed, no full collection runs", async () => {
    const collect = minorCollector();
    assert.ok(collect !== undefined, "V8's gc({ type: 'minor' }) could not be had on this Node");
    const kinds: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) kinds.push((e as unknown as { detail: { kind: number } }).detail.kind);
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      const source = Buffer.alloc(64 * 1024, 7);
      const young = new YoungCollection(collect);
      let live = 0;
      // 16 MiB of chunks read and dropped, as the body reader does: each a new buffer outside the heap.
      for (let i = 0; i < 256; i++) {
        const chunk = Buffer.from(source);
        live += chunk.length;
        young.note(chunk.length);
      }
      assert.ok(live === 16 * 1024 * 1024);
      await new Promise((r) => setTimeout(r, 50));
      const minor = kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MINOR).length;
      const major = kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MAJOR).length;
      assert.ok(minor >= 4, `4 young collections for 16 MiB, saw ${minor} (kinds ${kinds.join(',')})`);
      assert.equal(major, 0, 'no full collection');
      assert.ok(
        process.memoryUsage().arrayBuffers < 8 * 1024 * 1024,
        `the dropped chunks were freed: ${process.memoryUsage().arrayBuffers} bytes of buffers still live`,
      );
    } finally {
      observer.disconnect();
    }
  });
});
