import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { discoverInterpreters } from './helpers/python.js';
import { ROOT } from './helpers/wsgi-host.js';

// The worker program has its own unittest suite; it must pass under every Python 3.8+ found here.
describe('the worker program under every Python on this machine', () => {
  const interpreters = discoverInterpreters();
  test('at least one interpreter was found', () => assert.ok(interpreters.length > 0));
  for (const py of interpreters) {
    test(`worker/tests under Python ${py.version} (${py.path})`, () => {
      const r = spawnSync(py.path, ['-m', 'unittest', 'discover', '-s', join(ROOT, 'worker', 'tests')], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /^OK/m);
    });
  }
});
