import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from './helpers/node-test.js';
import { discoverInterpreters } from './helpers/python.js';
import { requirement } from './helpers/requirements.js';
import { ROOT } from './helpers/wsgi-host.js';

/** How to run flake8 here: its command, or a Python that has it as a module (Debian's python3-flake8). */
function findFlake8(): string[] | undefined {
  const works = (cmd: string[]): boolean => spawnSync(cmd[0] as string, [...cmd.slice(1), '--version'], { timeout: 30_000 }).status === 0;
  if (works(['flake8'])) return ['flake8'];
  for (const py of discoverInterpreters()) if (works([py.path, '-m', 'flake8'])) return [py.path, '-m', 'flake8'];
  return undefined;
}

// The worker's style is checked as part of the tests, as the TypeScript is by tsc (worker/.flake8).
const flake8 = findFlake8();
describe('the worker program passes flake8', { skip: requirement(flake8 ? undefined : 'flake8 is not installed: apt-get install -y python3-flake8') }, () => {
  test('flake8 worker/', () => {
    assert.ok(flake8, 'flake8 is installed (apt-get install -y python3-flake8)');
    const [cmd, ...args] = flake8;
    const r = spawnSync(cmd as string, [...args, '--config', join(ROOT, 'worker', '.flake8'), join(ROOT, 'worker')], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `flake8 found:\n${r.stdout}${r.stderr}`);
  });
});
