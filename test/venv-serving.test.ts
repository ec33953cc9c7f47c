import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getJson } from './helpers/http.js';
import { installModule, makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { ROOT, runCli, WsgiHost } from './helpers/wsgi-host.js';

const REPORT_APP = `
import json, sys
try:
    import onlyina
    value = onlyina.VALUE
except ImportError:
    value = None

def application(environ, start_response):
    body = json.dumps({"prefix": sys.prefix, "value": value, "executable": sys.executable,
                       "version": "%d.%d" % sys.version_info[:2], "path": sys.path}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
`;

const NEEDS_A_APP = `
import json, sys
import onlyina

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"value": onlyina.VALUE}).encode()]
`;

describe('each application runs from its own virtual environment', () => {
  const t = tempDir();
  let venvA: string;
  let venvB: string;
  let report: string;
  let needsA: string;

  before(() => {
    venvA = makeVenv(join(t.dir, 'venv-a'));
    venvB = makeVenv(join(t.dir, 'venv-b'));
    installModule(venvA, 'onlyina', 'VALUE = "installed only in venv A"\n');
    report = t.file('report.wsgi', REPORT_APP);
    needsA = t.file('needs_a.wsgi', NEEDS_A_APP);
  });
  after(() => t.cleanup());

  test('a package installed only in venv A is importable under --python-home A', async () => {
    const host = await WsgiHost.serve([needsA, '--python-home', venvA]);
    try {
      const r = await getJson(`${host.url}/`);
      assert.equal(r.value, 'installed only in venv A');
    } finally {
      await host.stop();
    }
  });

  test('two venvs give two different sys.prefix values, each the venv itself', async () => {
    const a = await WsgiHost.serve([report, '--python-home', venvA]);
    const b = await WsgiHost.serve([report, '--python-home', venvB]);
    try {
      const ra = await getJson(`${a.url}/`);
      const rb = await getJson(`${b.url}/`);
      assert.equal(ra.prefix, venvA);
      assert.equal(rb.prefix, venvB);
      assert.equal(ra.value, 'installed only in venv A');
      assert.equal(rb.value, null);
      assert.equal(ra.executable, join(venvA, 'bin', 'python'));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  test('without --python-home, $VIRTUAL_ENV is the default', async () => {
    const host = await WsgiHost.serve([report], { env: { VIRTUAL_ENV: venvA } });
    try {
      const r = await getJson(`${host.url}/`);
      assert.equal(r.prefix, venvA);
    } finally {
      await host.stop();
    }
  });

  test('the worker program never puts its own folder (or the current directory) on sys.path', async () => {
    const host = await WsgiHost.serve([report, '--python-home', venvB]);
    try {
      const r = await getJson<{ path: string[] }>(`${host.url}/`);
      // Our folder (worker/, or anything in it), not any path that happens to contain "/worker":
      // the current directory is on sys.path here (command-line mode) and may be such a path.
      const ours = join(ROOT, 'worker');
      assert.ok(!r.path.some((p) => p === ours || p.startsWith(`${ours}/`)), r.path.join('\n'));
      assert.ok(!r.path.includes(''), 'no empty entry (the current directory)');
    } finally {
      await host.stop();
    }
  });

  test('an application that fails to import is refused, with the traceback, interpreter, sys.prefix and sys.path', async () => {
    const r = await runCli(['serve', needsA, '--python-home', venvB, '--port', '0'], { timeoutMs: 30_000 });
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stderr, /serving http/);
    assert.match(r.stderr, /\[APP_LOAD_FAILED\]/);
    assert.match(r.stderr, /Traceback \(most recent call last\)/);
    assert.match(r.stderr, /ModuleNotFoundError: No module named 'onlyina'/);
    assert.ok(r.stderr.includes(`interpreter:       ${join(venvB, 'bin', 'python')}`), r.stderr);
    assert.ok(r.stderr.includes(`sys.prefix:        ${venvB}`), r.stderr);
    assert.match(r.stderr, /sys\.path:\n {4}\S/);
    assert.match(r.stderr, /fix: 'onlyina' is not importable/);
  });

  test('--python-path entries go to the front of sys.path, with their .pth files processed', async () => {
    const extra = join(t.dir, 'extra');
    const deep = join(t.dir, 'deep');
    mkdirSync(extra);
    mkdirSync(join(deep, 'viapth'), { recursive: true });
    writeFileSync(join(deep, 'viapth', '__init__.py'), 'WHERE = "found through a .pth file"\n');
    writeFileSync(join(extra, 'more.pth'), `${deep}\n`);
    const app = t.file(
      'pth.wsgi',
      'import json, sys, viapth\ndef application(e, s):\n    s("200 OK", [])\n    return [json.dumps({"where": viapth.WHERE, "path": sys.path}).encode()]\n',
    );
    const host = await WsgiHost.serve([app, '--python-home', venvB, '--python-path', extra]);
    try {
      const r = await getJson<{ where: string; path: string[] }>(`${host.url}/`);
      assert.equal(r.where, 'found through a .pth file');
      assert.deepEqual(r.path.slice(0, 2), [extra, deep]);
    } finally {
      await host.stop();
    }
  });

  test('package.module:callable is imported as gunicorn does, from the working directory', async () => {
    const proj = join(t.dir, 'proj');
    mkdirSync(join(proj, 'mysite'), { recursive: true });
    writeFileSync(join(proj, 'mysite', '__init__.py'), '');
    writeFileSync(
      join(proj, 'mysite', 'wsgi.py'),
      'def make(greeting):\n    def app(e, s):\n        s("200 OK", [("Content-Type", "text/plain")])\n        return [greeting.encode()]\n    return app\nsite = make("module form")\n',
    );
    const host = await WsgiHost.serve(['mysite.wsgi:site', '--python-home', venvB, '--working-directory', proj]);
    try {
      const res = await fetch(`${host.url}/`);
      assert.equal(await res.text(), 'module form');
    } finally {
      await host.stop();
    }
    const factory = await WsgiHost.serve(['mysite.wsgi:make("factory form")', '--python-home', venvB, '--working-directory', proj]);
    try {
      const res = await fetch(`${factory.url}/`);
      assert.equal(await res.text(), 'factory form');
    } finally {
      await factory.stop();
    }
  });

  test('--setenv reaches os.environ (before the app loads) and each request environ', async () => {
    const app = t.file(
      'env.wsgi',
      'import json, os\nAT_LOAD = os.environ.get("GREETING")\ndef application(e, s):\n    s("200 OK", [])\n    return [json.dumps([AT_LOAD, e.get("GREETING")]).encode()]\n',
    );
    const host = await WsgiHost.serve([app, '--python-home', venvB, '--setenv', 'GREETING=hi there']);
    try {
      assert.deepEqual(await getJson(`${host.url}/`), ['hi there', 'hi there']);
    } finally {
      await host.stop();
    }
  });

  /** A Django-style project: mysite/wsgi.py imports the package mysite (settings), as startproject makes it. */
  const djangoLayout = (): { project: string; script: string } => {
    const project = join(t.dir, 'djproject');
    mkdirSync(join(project, 'mysite'), { recursive: true });
    writeFileSync(join(project, 'mysite', '__init__.py'), '');
    writeFileSync(join(project, 'mysite', 'settings.py'), 'GREETING = "hello from mysite.settings"\n');
    writeFileSync(
      join(project, 'mysite', 'wsgi.py'),
      'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")\nimport mysite.settings\n' +
        'def application(e, s):\n    s("200 OK", [("Content-Type", "text/plain")])\n    return [mysite.settings.GREETING.encode()]\n',
    );
    return { project, script: join(project, 'mysite', 'wsgi.py') };
  };

  test("serve mysite/wsgi.py from the project folder (Django's layout): the working directory is on sys.path, as mod_wsgi-express's home", async () => {
    const { project } = djangoLayout();
    const host = await WsgiHost.serve(['mysite/wsgi.py', '--python-home', venvB], { cwd: project });
    try {
      assert.equal(await fetch(`${host.url}/`).then((r) => r.text()), 'hello from mysite.settings');
    } finally {
      await host.stop();
    }
  });

  test('a missing module that is a folder next to the script: the fix names --python-path DIR (not pip), and the traceback starts in the application', async () => {
    const { project, script } = djangoLayout();
    // Served from elsewhere: the project folder is not the working directory, so not on sys.path.
    const r = await runCli(['serve', script, '--python-home', venvB, '--port', '0'], { cwd: t.dir, timeoutMs: 30_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /\[APP_LOAD_FAILED\]/);
    assert.ok(r.stderr.includes(`fix: 'mysite' is in ${project}, which is not on sys.path: add it with --python-path ${project}\n`), r.stderr);
    assert.doesNotMatch(r.stderr, /pip install/);
    const frames = [...r.stderr.matchAll(/^\s+File "([^"]+)", line \d+/gm)].map((m) => m[1]);
    assert.deepEqual(frames, [script], `only the application's frames, none of the worker's or importlib's:\n${r.stderr}`);
    const c = await runCli(['check', script, '--python-home', venvB], { cwd: t.dir, timeoutMs: 30_000 });
    assert.equal(c.code, 1);
    assert.ok(c.stdout.includes(`fix: 'mysite' is in ${project}, which is not on sys.path: add it with --python-path ${project}\n`), c.stdout);
    // With the folder on python-path, it serves.
    const host = await WsgiHost.serve([script, '--python-home', venvB, '--python-path', project], { cwd: t.dir });
    try {
      assert.equal(await fetch(`${host.url}/`).then((x) => x.text()), 'hello from mysite.settings');
    } finally {
      await host.stop();
    }
  });

  test('a module missing everywhere still says how to install it, and an error while serving starts at the application too', async () => {
    const r = await runCli(['serve', needsA, '--python-home', venvB, '--port', '0'], { cwd: t.dir, timeoutMs: 30_000 });
    const frames = [...r.stderr.matchAll(/^\s+File "([^"]+)", line \d+/gm)].map((m) => m[1]);
    assert.deepEqual(frames, [needsA], r.stderr);
    assert.match(
      r.stderr,
      /fix: 'onlyina' is not importable with this interpreter and sys\.path\. Install it into the group's environment \(\S+ -m pip install \.\.\.\), point python-home at the environment that has it, or add its folder with --python-path DIR\./,
    );
    const boom = t.file('boom.wsgi', 'def application(e, s):\n    raise RuntimeError("boom at request time")\n');
    const host = await WsgiHost.serve([boom, '--python-home', venvB]);
    try {
      assert.equal((await fetch(`${host.url}/`)).status, 500);
      const m = await host.waitForLog(/Exception while serving GET \/ [\s\S]*boom at request time/);
      const logged = [...m[0].matchAll(/^\s+File "([^"]+)", line \d+/gm)].map((x) => x[1]);
      assert.deepEqual(logged, [boom], m[0]);
    } finally {
      await host.stop();
    }
  });
});
