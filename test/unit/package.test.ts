import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { ROOT } from '../helpers/wsgi-host.js';

interface Pkg {
  files: string[];
  scripts: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Pkg;

describe('the npm package', () => {
  const t = tempDir();
  after(() => t.cleanup());

  test('npm pack ships no virtual environment, bytecode or example database, even after the examples were set up', () => {
    // A copy of what "files" names, with what the walkthroughs make inside the examples.
    const dir = join(t.dir, 'pkg');
    mkdirSync(dir);
    for (const part of ['package.json', 'README.md', 'dist/src', 'worker/boot.py', 'worker/wsgi_host_worker', 'status-page', 'docs', 'examples']) {
      cpSync(join(ROOT, part), join(dir, part), { recursive: true, filter: (p) => !/(^|\/)(venvs?|__pycache__)(\/|$)/.test(p) });
    }
    execFileSync('sh', [join(dir, 'examples', 'multi-app', 'setup.sh')], { stdio: 'pipe', timeout: 120_000 });
    for (const f of [
      'examples/django/venv/bin/python',
      'examples/django/.venv/pyvenv.cfg',
      'examples/django/db.sqlite3',
      'examples/django/staticfiles/a.css',
      'examples/django/media/up.txt',
      'examples/hello/__pycache__/hello.cpython-311.pyc',
      'worker/wsgi_host_worker/__pycache__/wsgi.cpython-311.pyc',
      'examples/flask/app.pyc',
    ]) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), '');
    }
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path) ?? [];
    const unwanted = files.filter((f) => /(^|\/)(venvs?|\.venv|__pycache__|staticfiles|media)\/|\.pyc$|db\.sqlite3$/.test(f));
    assert.deepEqual(unwanted, [], 'nothing generated is shipped');
    for (const f of [
      'dist/src/cli/main.js',
      'worker/boot.py',
      'worker/wsgi_host_worker/main.py',
      'worker/wsgi_host_worker/wire.py',
      'status-page/index.html',
      'examples/hello/hello.wsgi',
      'examples/multi-app/setup.sh',
      'examples/django/mysite/settings.py',
      'README.md',
    ]) {
      assert.ok(files.includes(f), `${f} is shipped`);
    }
  });

  test('no install-time script: npm 11 lists none as "not covered by allowScripts" when installed from git, a folder or npm link', () => {
    // npm 11 flags preinstall, install, postinstall, and prepare for non-registry sources. The
    // build runs before packing (prepack: npm pack, npm publish, a git dependency) and in npm start/test.
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(pkg.scripts[script], undefined, `no ${script} script`);
    assert.match(pkg.scripts.prepack ?? '', /tsc -p tsconfig\.json/);
    assert.match(pkg.scripts.start ?? '', /^tsc -p tsconfig\.json && node dist\/src\/cli\/main\.js serve /);
    assert.match(pkg.scripts.test ?? '', /^tsc -p tsconfig\.json && /);
  });
});
