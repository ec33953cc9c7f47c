import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { testEnvironment, testFiles } from '../run.js';
import { tempDir } from '../helpers/tmp.js';
import { ROOT } from '../helpers/wsgi-host.js';

describe('npm test (test/run.ts)', () => {
  const t = tempDir();
  after(() => t.cleanup());

  test('runs *.test.js files only, in test/ and its subfolders, never helpers, fixtures or stale output', () => {
    const src = join(t.dir, 'test');
    const dist = join(t.dir, 'dist', 'test');
    for (const f of ['a.test', 'unit/b.test', 'unit/deeper/c.test', 'helpers/http', 'fixtures/real-apps', 'run']) {
      t.file(`test/${f}.ts`, '');
      t.file(`dist/test/${f}.js`, '');
    }
    t.file('dist/test/removed.test.js', ''); // its source is gone: not run
    t.file('dist/test/a.test.js.map', '');
    assert.deepEqual(
      testFiles(dist, src).map((f) => relative(dist, f)),
      ['a.test.js', 'unit/b.test.js', 'unit/deeper/c.test.js'],
    );
  });

  test('the real tree: every test/**/*.test.ts is run, and no helper', () => {
    const files = testFiles().map((f) => relative(join(ROOT, 'dist', 'test'), f));
    assert.ok(files.includes('unit/test-runner.test.js'), files.join(' '));
    assert.ok(files.includes('cli.test.js'));
    assert.ok(
      files.every((f) => f.endsWith('.test.js') && !f.startsWith('helpers/') && !f.startsWith('fixtures/')),
      files.join(' '),
    );
  });

  test('the tests see what users see: PYTHONDONTWRITEBYTECODE is removed', () => {
    const env = testEnvironment({ PATH: '/usr/bin', PYTHONDONTWRITEBYTECODE: '1', KEEP: 'x' });
    assert.equal(env.PYTHONDONTWRITEBYTECODE, undefined);
    assert.equal(env.KEEP, 'x');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts.test as string, /node dist\/test\/run\.js$/);
  });

  test('a suite skipped for a missing requirement lists each test as skipped, with the reason, and runs no setup', () => {
    const helper = join(ROOT, 'dist', 'test', 'helpers', 'node-test.js');
    const file = t.file(
      'suite-skip.test.mjs',
      `import { describe, test, before, after } from ${JSON.stringify(helper)};
describe('needs a browser', { skip: 'no browser: apt-get install -y chromium' }, () => {
  before(() => { throw new Error('setup ran'); });
  after(() => { console.log('cleanup ran'); });
  test('one', () => { throw new Error('test ran'); });
  describe('inner', () => { test('two', () => {}); });
});
describe('runs', () => { test('three', () => {}); });
`,
    );
    let out = '';
    try {
      // Without NODE_TEST_CONTEXT the inner run reports in TAP, as a top-level run does.
      const { NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
      out = execFileSync(process.execPath, ['--test', '--test-reporter=tap', file], { encoding: 'utf8', stdio: 'pipe', env });
    } catch (err) {
      assert.fail(`node --test failed:\n${(err as { stdout: string }).stdout}`);
    }
    assert.match(out, /ok \d+ - one # SKIP no browser: apt-get install -y chromium/);
    assert.match(out, /ok \d+ - two # SKIP no browser: apt-get install -y chromium/);
    assert.match(out, /^# skipped 2$/m);
    assert.match(out, /^# pass 1$/m);
    assert.match(out, /cleanup ran/);
  });

  test('a filter that matches nothing is an error (exit 2), not a silent pass', () => {
    let code = 0;
    try {
      execFileSync(process.execPath, [join(ROOT, 'dist', 'test', 'run.js'), 'no-such-test-file'], { stdio: 'pipe' });
    } catch (err) {
      code = (err as { status: number }).status;
    }
    assert.equal(code, 2);
  });
});
