import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { autoFrontEnds } from '../../src/loops/front-end-loops.js';

describe('front-ends = "auto"', () => {
  test('one loop below 4 CPUs, then half the CPUs, at most 16', () => {
    assert.deepEqual([1, 2, 3, 4, 6, 8, 16, 32, 64].map(autoFrontEnds), [1, 1, 1, 2, 3, 4, 8, 16, 16]);
  });
});
