import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canTakeQueued, nextServiceMs, PIPELINE_DEPTH, PIPELINE_YOUNG_MS, pickProcess, type Schedulable } from '../../src/workers/scheduler.js';

/** A process as the scheduler sees it: plain data, no Python. */
const proc = (
  over: { state?: string; generation?: number; busy?: number; threads?: number; oldest?: number; stuck?: boolean; name?: string } = {},
): Schedulable & { name: string } => ({
  name: over.name ?? 'p',
  stuck: over.stuck ?? false,
  process: {
    state: over.state ?? 'ready',
    generation: over.generation ?? 1,
    busy: over.busy ?? 0,
    threads: over.threads ?? 2,
    oldestStart: () => over.oldest ?? 0,
  },
});

const NOW = 1_000_000;
const FAST = 0.5; // ms: a group whose requests have been fast (pipelining allowed)
const SLOW = Number.POSITIVE_INFINITY; // unknown service time counts as slow

describe('scheduler: which process gets a request', () => {
  test('the least busy ready process of the current generation with a free thread', () => {
    const ps = [proc({ name: 'a', busy: 1 }), proc({ name: 'b', busy: 0 }), proc({ name: 'c', busy: 1 })];
    assert.equal(pickProcess(ps, 1, SLOW, NOW)?.name, 'b');
  });
  test('never a starting, draining, stuck or older-generation process', () => {
    const ps = [
      proc({ name: 'starting', state: 'starting' }),
      proc({ name: 'draining', state: 'draining' }),
      proc({ name: 'stuck', stuck: true }),
      proc({ name: 'old', generation: 1 }),
      proc({ name: 'new', generation: 2, busy: 1 }),
    ];
    assert.equal(pickProcess(ps, 2, SLOW, NOW)?.name, 'new');
    assert.equal(pickProcess(ps.slice(0, 4), 2, FAST, NOW), undefined, 'nothing of generation 2 may take it: it waits');
  });
  test('every thread busy and the group slow (or unknown): no pipelining, the request waits', () => {
    const ps = [proc({ busy: 2, oldest: NOW })];
    assert.equal(pickProcess(ps, 1, SLOW, NOW), undefined);
    assert.equal(pickProcess(ps, 1, 1, NOW), undefined, 'PIPELINE_SERVICE_MS is a strict bound');
  });
  test('every thread busy, the group fast, the oldest request young: pipelined to the least busy', () => {
    const ps = [proc({ name: 'a', busy: 4, oldest: NOW - 1 }), proc({ name: 'b', busy: 3, oldest: NOW - 1 })];
    assert.equal(pickProcess(ps, 1, FAST, NOW)?.name, 'b');
  });
  test('no pipelining behind a request that is not young, nor past the depth, nor into a stuck process', () => {
    assert.equal(pickProcess([proc({ busy: 2, oldest: NOW - PIPELINE_YOUNG_MS - 1 })], 1, FAST, NOW), undefined, 'a slow request holds that process');
    assert.equal(pickProcess([proc({ busy: 2 + PIPELINE_DEPTH, oldest: NOW })], 1, FAST, NOW), undefined, 'the pipeline is full');
    assert.equal(pickProcess([proc({ busy: 2, oldest: NOW, stuck: true })], 1, FAST, NOW), undefined);
    assert.equal(pickProcess([proc({ busy: 2, oldest: NOW, generation: 1 })], 2, FAST, NOW), undefined);
  });
  test('the queue drains to a process while it has a free thread, or may pipeline', () => {
    assert.equal(canTakeQueued(proc({ busy: 1 }), 1, SLOW, NOW), true);
    assert.equal(canTakeQueued(proc({ busy: 2 }), 1, SLOW, NOW), false);
    assert.equal(canTakeQueued(proc({ busy: 2, oldest: NOW }), 1, FAST, NOW), true);
    assert.equal(canTakeQueued(proc({ busy: 0, state: 'starting' }), 1, FAST, NOW), false);
    assert.equal(canTakeQueued(proc({ busy: 0, stuck: true }), 1, FAST, NOW), false);
    assert.equal(canTakeQueued(proc({ busy: 0, generation: 1 }), 2, FAST, NOW), false);
  });
  test('the service time: unknown until the first request, then a moving average', () => {
    assert.equal(nextServiceMs(Number.POSITIVE_INFINITY, 4), 4);
    assert.equal(nextServiceMs(4, 14), 5);
  });
});
