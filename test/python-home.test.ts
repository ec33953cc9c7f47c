import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeVenv, oldInterpreters, sitePackages } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { runCli } from './helpers/wsgi-host.js';

// Each wrong kind of python-home is refused before serving, with its own code, what was given,
// why it is wrong, and the value to use instead.
describe('wrong python-home values are refused before serving', () => {
  const t = tempDir();
  let venv: string;
  let app: string;

  before(() => {
    venv = makeVenv(join(t.dir, 'venv'));
    app = t.file('app.wsgi', 'def application(e, s):\n    s("200 OK", [])\n    return [b"ok"]\n');
  });
  after(() => t.cleanup());

  const serve = (home: string) => runCli(['serve', app, '--python-home', home, '--port', '0'], { timeoutMs: 30_000 });

  const refused = (r: { code: number | null; stderr: string }, code: string): void => {
    assert.notEqual(r.code, 0, 'the server must not start');
    assert.doesNotMatch(r.stderr, /serving http/);
    assert.match(r.stderr, new RegExp(`\\[${code}\\]`));
  };

  test('the python executable (the seed post\'s "all too common mistake")', async () => {
    const r = await serve(join(venv, 'bin', 'python'));
    refused(r, 'PYTHON_HOME_IS_EXECUTABLE');
    assert.ok(r.stderr.includes(join(venv, 'bin', 'python')), 'names what was given');
    assert.ok(
      r.stderr.includes(`[PYTHON_HOME_IS_EXECUTABLE]: --python-home '${join(venv, 'bin', 'python')}' is the Python executable`),
      `names the flag once:\n${r.stderr}`,
    );
    assert.ok(r.stderr.includes(`fix: Use --python-home ${venv}`), `suggests the venv itself:\n${r.stderr}`);
  });

  test('a site-packages folder', async () => {
    const sp = sitePackages(venv);
    const r = await serve(sp);
    refused(r, 'PYTHON_HOME_IS_SITE_PACKAGES');
    assert.ok(r.stderr.includes(`fix: Use --python-home ${venv}`), r.stderr);
    assert.match(r.stderr, /ties the setting to one Python version/);
  });

  test('a folder with no interpreter', async () => {
    const empty = join(t.dir, 'project');
    mkdirSync(empty);
    const r = await serve(empty);
    refused(r, 'PYTHON_HOME_NO_INTERPRETER');
    assert.match(r.stderr, /no Python interpreter/);
    assert.match(r.stderr, /python3 -m venv/);
  });

  test('a folder that holds a venv is pointed out', async () => {
    const project = join(t.dir, 'proj2');
    mkdirSync(project);
    makeVenv(join(project, '.venv'));
    const r = await serve(project);
    refused(r, 'PYTHON_HOME_NO_INTERPRETER');
    assert.ok(r.stderr.includes(`Did you mean ${join(project, '.venv')}?`), r.stderr);
  });

  test('a path that does not exist', async () => {
    const r = await serve(join(t.dir, 'nope'));
    refused(r, 'PYTHON_HOME_NOT_FOUND');
    assert.ok(r.stderr.includes(join(t.dir, 'nope')));
  });

  test('a venv whose base interpreter is gone', async () => {
    const broken = makeVenv(join(t.dir, 'broken'));
    const cfgPath = join(broken, 'pyvenv.cfg');
    const cfg = readFileSync(cfgPath, 'utf8').replace(/^home\s*=.*$/m, `home = ${join(t.dir, 'removed-python', 'bin')}`);
    writeFileSync(cfgPath, cfg);
    for (const name of readdirSync(join(broken, 'bin'))) {
      if (!name.startsWith('python')) continue;
      rmSync(join(broken, 'bin', name));
      symlinkSync(join(t.dir, 'removed-python', 'bin', 'python3'), join(broken, 'bin', name));
    }
    const r = await serve(broken);
    refused(r, 'PYTHON_HOME_BROKEN_VENV');
    assert.match(r.stderr, /base interpreter is gone/);
    assert.ok(r.stderr.includes(`-m venv --clear ${broken}`), r.stderr);
  });

  test('a folder whose interpreter belongs to another prefix (not an environment)', async () => {
    const fake = join(t.dir, 'fake');
    mkdirSync(join(fake, 'bin'), { recursive: true });
    symlinkSync(join(venv, 'bin', 'python'), join(fake, 'bin', 'python'));
    const r = await serve(fake);
    refused(r, 'PYTHON_HOME_PREFIX_MISMATCH');
    assert.match(r.stderr, /runs with sys\.prefix \S+, so \S+ is not a Python environment of its own/);
    assert.match(r.stderr, /fix: Use --python-home \S+, or make \S+ a virtual environment: python3 -m venv/);
  });

  test('a folder inside the environment (bin, lib, lib/python3.X): use the environment itself', async () => {
    const inside = [join(venv, 'bin'), join(venv, 'lib'), join(venv, 'include')];
    const lib = readdirSync(join(venv, 'lib')).find((n) => n.startsWith('python'));
    if (lib) inside.push(join(venv, 'lib', lib));
    for (const home of inside) {
      if (!existsSync(home)) continue;
      const r = await serve(home);
      refused(r, 'PYTHON_HOME_INSIDE_ENVIRONMENT');
      assert.ok(r.stderr.includes(`inside the Python environment ${venv}, not the environment's top directory`), r.stderr);
      assert.ok(r.stderr.includes(`fix: Use --python-home ${venv}\n`), `suggests the venv itself:\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /python3 -m venv/, 'never advises making a venv inside the venv');
    }
  });

  const old = oldInterpreters();
  test(`a Python older than 3.8 is PYTHON_TOO_OLD, named by its version (found: ${old.map((i) => i.version).join(', ') || 'none'})`, {
    skip: old.length ? false : 'no Python older than 3.8 on this machine (pyenv install 2.7.18 3.7.16 to test it)',
  }, async () => {
    for (const py of old) {
      const r = await serve(py.home);
      refused(r, 'PYTHON_TOO_OLD');
      assert.ok(r.stderr.includes(`runs Python ${py.version}`), r.stderr);
      assert.doesNotMatch(r.stderr, /Traceback|PYTHON_PROBE_FAILED/, r.stderr);
      const c = await runCli(['check', app, '--python-home', py.home], { timeoutMs: 30_000 });
      assert.equal(c.code, 1);
      assert.match(c.stdout, /\[PYTHON_TOO_OLD\]/);
    }
  });
});
