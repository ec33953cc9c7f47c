import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { groupReadiness, probeAnswer, type ReadinessInput as PoolSnapshot, serverReadiness } from '../../src/admin/readiness.js';

const pool = (over: Partial<PoolSnapshot> = {}): PoolSnapshot => ({
  label: 'app',
  state: 'serving',
  workers: [{ state: 'ready' }],
  settings: {},
  ...over,
});

describe('readiness', () => {
  test('a group is ready with one process that can take a request', () => {
    assert.deepEqual(groupReadiness(pool({ workers: [{ state: 'ready' }, { state: 'starting' }] })), { label: 'app', ready: true, readyProcesses: 1 });
  });
  test('not ready: starting, failed (crash loop), every process dead and being replaced, only stuck or draining processes', () => {
    assert.equal(groupReadiness(pool({ state: 'starting', workers: [{ state: 'starting' }] })).ready, false);
    const failed = groupReadiness(pool({ state: 'failed', failure: 'crash loop: 5 processes in a row died', workers: [] }));
    assert.equal(failed.ready, false);
    assert.match(failed.reason ?? '', /^failed: crash loop/);
    assert.equal(groupReadiness(pool({ workers: [{ state: 'starting' }] })).ready, false);
    assert.equal(groupReadiness(pool({ workers: [{ state: 'ready', stuck: true }, { state: 'draining' }] })).ready, false);
    assert.equal(groupReadiness(pool({ state: 'stopping' })).ready, false);
  });
  test('a dynamic pool with a minimum of 0 is ready with no process (it starts one on demand); with a minimum of 1 it is not', () => {
    assert.equal(groupReadiness(pool({ workers: [], settings: { dynamic: { min: 0 } } })).ready, true);
    assert.equal(groupReadiness(pool({ workers: [], settings: { dynamic: { min: 1 } } })).ready, false);
  });
  test('the server: ready only while serving and every group is; the reason says which case, without names', () => {
    assert.deepEqual(serverReadiness('serving', [pool(), pool({ label: 'b' })]).ready, true);
    assert.equal(serverReadiness('starting', [pool()]).reason, 'starting');
    assert.equal(serverReadiness('draining', [pool()]).reason, 'draining');
    assert.equal(serverReadiness('stopped', []).reason, 'stopped');
    assert.equal(serverReadiness('serving', [pool(), pool({ state: 'failed', failure: 'x' })]).reason, 'a group failed');
    assert.equal(serverReadiness('serving', [pool(), pool({ workers: [] })]).reason, 'a group has no ready process');
  });
  test('probe answers: /healthz is 200 while the loop answers; /readyz 200 or 503 with the reason', () => {
    const notReady = serverReadiness('draining', [pool()]);
    assert.deepEqual(probeAnswer('alive', notReady), { status: 200, body: 'ok\n' });
    assert.deepEqual(probeAnswer('ready', notReady), { status: 503, body: 'not ready: draining\n' });
    assert.deepEqual(probeAnswer('ready', serverReadiness('serving', [pool()])), { status: 200, body: 'ready\n' });
  });
});
