import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type GroupSettings, GroupSettingsSchema } from '../../src/config/schema.js';
import { firstFiring, type RecycleSubject, rulesWhen } from '../../src/workers/recycle-rules.js';
import { MAX_TIMER_MS, nextDue, type TimeCandidate, tickNeeded, wakeDelay } from '../../src/workers/tick-plan.js';

const settings = (over: Partial<GroupSettings> = {}): GroupSettings => ({ ...GroupSettingsSchema.parse({}), ...over });
const proc = (over: Partial<RecycleSubject> = {}): RecycleSubject => ({
  served: 3,
  exhausted: false,
  readyAt: 1_000_000,
  busy: 0,
  lastActive: 2_000_000,
  ...over,
});
const one = (over: Partial<RecycleSubject> = {}, recycleFailedAt?: number): TimeCandidate[] => [{ subject: proc(over), recycleFailedAt }];
const NOW = 2_000_500;
const RETRY = 30_000;

describe('tick plan: when a pool ticks, and when an idle pool wakes', () => {
  test('the tick runs while requests run, wait or are held, or the pool restarts or stops; not otherwise', () => {
    const idle = { busy: 0, queued: 0, restarting: false, stopping: false };
    assert.equal(tickNeeded(idle), false);
    assert.equal(tickNeeded({ ...idle, busy: 1 }), true, 'a request running (request-timeout, memory-limit)');
    assert.equal(tickNeeded({ ...idle, queued: 1 }), true, 'a request waiting (queue-timeout)');
    assert.equal(tickNeeded({ ...idle, restarting: true }), true);
    assert.equal(tickNeeded({ ...idle, stopping: true }), true);
  });

  test('settings of 0 (off), and a fixed pool: no wake-up at all', () => {
    assert.equal(nextDue(one(), settings(), NOW, false, RETRY), undefined);
    assert.equal(nextDue(one({ served: 0 }), settings({ restartInterval: 0, inactivityTimeout: 0 }), NOW, false, RETRY), undefined);
    assert.equal(nextDue([], settings({ restartInterval: 60 }), NOW, true, RETRY), undefined, 'no process, nothing due');
  });

  test('restart-interval: due just past its interval after the process was ready', () => {
    assert.equal(nextDue(one(), settings({ restartInterval: 3600 }), NOW, false, RETRY), 1_000_000 + 3_600_000 + 1);
    assert.equal(nextDue(one(), settings({ restartInterval: 0.25 }), NOW, false, RETRY), 1_000_251, 'a fraction of a second');
  });

  test('inactivity-timeout: due past its timeout after the last request; never for one that served nothing or is busy', () => {
    assert.equal(nextDue(one(), settings({ inactivityTimeout: 600 }), NOW, false, RETRY), 2_000_000 + 600_000 + 1);
    assert.equal(nextDue(one({ served: 0 }), settings({ inactivityTimeout: 600 }), NOW, false, RETRY), undefined);
    assert.equal(nextDue(one({ busy: 1 }), settings({ inactivityTimeout: 600 }), NOW, false, RETRY), undefined);
  });

  test("a dynamic pool's idle-timeout: only while the pool is above its minimum, and only for an idle process", () => {
    const dyn = settings({ dynamic: { min: 1, max: 3, idleTimeout: 60 } });
    assert.equal(nextDue(one(), dyn, NOW, true, RETRY), 2_000_000 + 60_000 + 1);
    assert.equal(nextDue(one(), dyn, NOW, false, RETRY), undefined, 'at its minimum');
    assert.equal(nextDue(one({ busy: 2 }), dyn, NOW, true, RETRY), undefined, 'busy');
    assert.equal(nextDue(one({ served: 0 }), dyn, NOW, true, RETRY), 2_060_001, 'one that served nothing stops too');
  });

  test('the earliest of every process and every rule', () => {
    const s = settings({ restartInterval: 3600, inactivityTimeout: 600, dynamic: { min: 0, max: 4, idleTimeout: 300 } });
    const candidates: TimeCandidate[] = [
      { subject: proc({ readyAt: 500_000, lastActive: 2_000_000, busy: 1 }), recycleFailedAt: undefined },
      { subject: proc({ readyAt: 1_500_000, lastActive: 1_900_000 }), recycleFailedAt: undefined },
    ];
    // restart-interval of the first 4_100_001, of the second 5_100_001; idle-timeout of the second 2_200_001.
    assert.equal(nextDue(candidates, s, NOW, true, RETRY), 2_200_001);
    assert.equal(nextDue(candidates, s, NOW, false, RETRY), 2_500_001, 'without idle-timeout: the second one inactive');
  });

  test('a process whose replacement failed is not recycled again before the retry wait; then looked at once more', () => {
    const s = settings({ restartInterval: 1 });
    assert.equal(nextDue(one({}, NOW - 1000), s, NOW, false, RETRY), NOW - 1000 + RETRY, 'the rule is due, the retry wait not over');
    const memory = settings({ memoryLimit: 100_000_000 });
    assert.equal(nextDue(one({}, NOW - 1000), memory, NOW, false, RETRY), NOW - 1000 + RETRY, 'memory-limit: looked at when the wait ends');
    assert.equal(nextDue(one({}, NOW - RETRY - 1), memory, NOW, false, RETRY), undefined, 'the wait is over: nothing more to look at');
    assert.equal(nextDue(one({ exhausted: true }, NOW - 1000), settings(), NOW, false, RETRY), NOW - 1000 + RETRY, 'maximum-requests reached');
    assert.equal(nextDue(one({}, NOW - 1000), settings(), NOW, false, RETRY), undefined, 'no rule to retry');
  });

  test('at the due moment the rule fires, a millisecond before it does not (every time-based rule has a due time)', () => {
    const s = settings({ restartInterval: 7.3, inactivityTimeout: 2.5 });
    for (const rule of rulesWhen('tick')) {
      assert.equal(typeof rule.dueAt, 'function', `${rule.key}: a time-based rule says when it is due, or an idle pool would never fire it`);
      const p = proc();
      const due = rule.dueAt?.(p, s) as number;
      assert.notEqual(rule.fires(p, s, due, 0), undefined, `${rule.key} fires at ${due}`);
      assert.equal(rule.fires(p, s, due - 1, 0), undefined, `${rule.key} does not fire at ${due - 1}`);
    }
    const p = proc();
    const due = nextDue([{ subject: p, recycleFailedAt: undefined }], s, NOW, false, RETRY) as number;
    assert.notEqual(firstFiring(rulesWhen('tick'), p, s, due), undefined);
    assert.equal(firstFiring(rulesWhen('tick'), p, s, due - 1), undefined);
  });

  test('the wake-up timer: until the due moment, never longer than a timer can wait, and at the tick period once overdue', () => {
    assert.equal(wakeDelay(NOW + 1234, NOW, 500), 1234);
    assert.equal(wakeDelay(NOW, NOW, 500), 500, 'due now but not fired: looked at again as often as the tick would');
    assert.equal(wakeDelay(NOW - 10, NOW, 500), 500);
    assert.equal(wakeDelay(NOW + 90 * 86_400_000, NOW, 500), MAX_TIMER_MS, 'a restart-interval of 90 days');
  });
});
