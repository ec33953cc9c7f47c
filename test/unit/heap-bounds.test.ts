import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { mayGrow, SEMI_SPACE_MB, YOUNG_GENERATION_MB } from '../../src/util/heap-bounds.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const MODULE = new URL('../../src/util/heap-bounds.js', import.meta.url).href;

/**
 * A fresh Node process churns objects that outlive a few young collections (as a loaded front end's
 * requests do), with the event loop turning between rounds, and prints the largest young
 * generation (new_space, both semi-spaces) it saw, and the heap-growing-percent flag's effect.
 */
async function churn(bounded: boolean): Promise<number> {
  const code = `
    import { getHeapSpaceStatistics } from 'node:v8';
    const bounds = await import(${JSON.stringify(MODULE)});
    if (${bounded}) { bounds.boundOldGeneration(); if (!bounds.boundMainYoungGeneration()) throw new Error('not bounded'); }
    const size = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    let max = size();
    let keep = [];
    for (let round = 0; round < 1000; round++) {
      for (let i = 0; i < 10000; i++) { keep.push({ a: i, b: 'x' + i }); if (keep.length > 4000) keep = []; }
      max = Math.max(max, size());
      await new Promise((r) => setImmediate(r));
    }
    console.log(JSON.stringify({ max }));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { timeout: 60_000 });
  return (JSON.parse(stdout) as { max: number }).max;
}

describe('heap bounds: the front end keeps its young generation at the bound under load', () => {
  test('the young generation may grow while both semi-spaces together are under the bound', () => {
    assert.equal(mayGrow(2 * MiB), true);
    assert.equal(mayGrow(2 * (SEMI_SPACE_MB / 2) * MiB), true, 'one doubling reaches the bound exactly');
    assert.equal(mayGrow(2 * SEMI_SPACE_MB * MiB), false, 'at the bound: no further growth');
    assert.equal(mayGrow(64 * MiB), false);
    assert.equal(YOUNG_GENERATION_MB, 3 * SEMI_SPACE_MB, "a loop thread's limit is V8's 3 semi-spaces");
  });

  test('on this Node, a churning main thread stays at the bound with it, and grows past it without', async () => {
    const [free, bounded] = await Promise.all([churn(false), churn(true)]);
    assert.ok(
      free > 2 * SEMI_SPACE_MB * MiB,
      `without bounds the churn grows the young generation past the bound (${(free / MiB).toFixed(1)} MiB): the test exercises growth`,
    );
    assert.ok(bounded <= 2 * SEMI_SPACE_MB * MiB, `with bounds: ${(bounded / MiB).toFixed(1)} MiB, at most ${2 * SEMI_SPACE_MB} MiB`);
    assert.ok(bounded > 2 * MiB, `with bounds it still grows from its start (${(bounded / MiB).toFixed(1)} MiB): a small young generation costs CPU`);
  });
});
