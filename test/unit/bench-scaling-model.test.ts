import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LoopCosts, scalingModel } from '../../bench/scaling-model.js';

// hello-c64 2x1 as measured with one loop (docs/performance.md): front end 28 us, workers 17 us per request
const ONE: LoopCosts = { loops: 1, rps: 30_000, totalUs: 45, frontEndUs: 28, workersUs: 17, wrkUs: 8 };
const TWO: LoopCosts = { loops: 2, rps: 31_000, totalUs: 50, frontEndUs: 30, workersUs: 20, wrkUs: 8 };
const near = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) < 1e-6 * expected, `${what}: ${actual}, not ${expected}`);

test('scaling model: the CPU bound is cores / CPU per request, the loops ceiling loops / front-end CPU per request', () => {
  const m = scalingModel([ONE], [2, 16, 32], 8);
  assert.ok(m !== undefined);
  near(m.oneLoopCeiling, 1e6 / 28, 'one loop');
  near(m.wrkThreadCeiling, 1e6 / 8, 'one wrk thread');
  const [two, sixteen, thirtyTwo] = m.rows;
  assert.ok(two !== undefined && sixteen !== undefined && thirtyTwo !== undefined);
  // 2 cores: 2 loops could do 71k, the CPU only 44k; the front end has the larger share
  assert.equal(two.loops, 2);
  near(two.cpuBound, 2e6 / 45, '2 cores CPU');
  near(two.loopBound, 2e6 / 28, '2 loops');
  near(two.predicted, 2e6 / 45, '2 cores predicted');
  assert.equal(two.stop, 'front-end-cpu');
  near(two.harnessBound, 2e6 / (45 + 8), 'wrk on the same 2 cores');
  // 16 cores, loops capped at 8: 8 / 28 us = 286k < 16 / 45 us = 356k: the loops stop it
  assert.equal(sixteen.loops, 8);
  near(sixteen.predicted, 8e6 / 28, '16 cores predicted');
  assert.equal(sixteen.stop, 'loops');
  near(sixteen.loopCores, 8, 'the 8 loops all busy');
  assert.equal(sixteen.workerProcesses, Math.ceil(((8e6 / 28) * 17) / 1e6));
  // one wrk thread caps what the harness can measure at 125k, below the 16- and 32-core predictions
  near(thirtyTwo.harnessBound, 1e6 / 8, 'one wrk thread');
  assert.equal(thirtyTwo.loadGenerator, 'thread');
  // at 2 cores wrk (8 of 53 us, 15%) is neither below the prediction nor a comparable share
  assert.equal(two.loadGenerator, undefined);
});

test('scaling model: wrk is named a ceiling when its share of the shared cores is comparable', () => {
  const m = scalingModel([{ ...ONE, wrkUs: 15 }], [2], 8); // 15 of 60 us: 25%
  assert.equal(m?.rows[0]?.loadGenerator, 'share');
});

test('scaling model: without a loop cap the CPU binds, and the workers when theirs is the larger share', () => {
  const workersHeavy: LoopCosts = { loops: 1, rps: 10_000, totalUs: 100, frontEndUs: 30, workersUs: 70, wrkUs: 5 };
  const m = scalingModel([workersHeavy], [4, 32], Number.POSITIVE_INFINITY);
  assert.ok(m !== undefined);
  for (const row of m.rows) {
    assert.equal(row.loops, row.cores);
    assert.equal(row.stop, 'workers-cpu');
    near(row.predicted, (row.cores * 1e6) / 100, `${row.cores} cores`);
    assert.equal(row.workerProcesses, Math.ceil(row.cores * 0.7));
  }
});

test('scaling model: uses the most loops measured with usable figures; none usable gives no model', () => {
  const broken: LoopCosts = { loops: 3, rps: 0, totalUs: Number.NaN, frontEndUs: Number.NaN, workersUs: Number.NaN, wrkUs: Number.NaN };
  const m = scalingModel([TWO, ONE, broken], [2], 8);
  assert.equal(m?.basis, TWO);
  assert.equal(scalingModel([broken], [2], 8), undefined);
  assert.equal(scalingModel([], [2], 8), undefined);
});

test('scaling model: a wrk CPU below /proc resolution leaves the load generator unbounded', () => {
  const m = scalingModel([{ ...ONE, wrkUs: 0 }], [2], 8);
  assert.equal(m?.wrkThreadCeiling, Number.POSITIVE_INFINITY);
  near(m?.rows[0]?.harnessBound ?? 0, 2e6 / 45, 'the CPU bound alone');
});
