import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from './helpers/node-test.js';
import { getJson } from './helpers/http.js';
import { defaultPython, makeVenv, systemPython } from './helpers/python.js';
import { needsRoot } from './helpers/requirements.js';
import { tempDir } from './helpers/tmp.js';
import { childPids, runCli, WsgiHost } from './helpers/wsgi-host.js';

describe("a group's user= and display-name= (when wsgi-host runs as root)", { skip: needsRoot() }, () => {
  test('an interpreter the user cannot run fails fast and says why, in serve and in check', async () => {
    const u = tempDir();
    try {
      chmodSync(u.dir, 0o755);
      // The venv sits in a folder only root can enter, wherever the machine's python3 lives.
      mkdirSync(join(u.dir, 'private'), { mode: 0o700 });
      makeVenv(join(u.dir, 'private', 'venv'), { python: defaultPython().path });
      u.file('app.wsgi', 'def application(e, s):\n    s("200 OK", [])\n    return [b""]\n');
      chmodSync(join(u.dir, 'app.wsgi'), 0o644);
      const config = u.file(
        'c.toml',
        `listen = ["127.0.0.1:0"]\n[[group]]\nname = "web"\npython-home = "private/venv"\nuser = "nobody"\n[[mount]]\nscript = "app.wsgi"\ngroup = "web"\n`,
      );
      const started = Date.now();
      const r = await runCli(['serve', '-c', config], { cwd: u.dir, timeoutMs: 20_000 });
      assert.notEqual(r.code, 0);
      assert.ok(Date.now() - started < 10_000, 'refused at once, not after startup-timeout');
      assert.match(r.stderr, /could not be started \(EACCES/);
      assert.doesNotMatch(r.stderr, /Traceback|internal error/);
      const c = await runCli(['check', '-c', config], { cwd: u.dir, timeoutMs: 30_000 });
      assert.match(c.stdout, /CHECK_UNREADABLE.*cannot be run by user nobody/);
    } finally {
      u.cleanup();
    }
  });

  const t = tempDir();
  after(() => t.cleanup());

  test('the workers run as that user, named by display-name', async () => {
    chmodSync(t.dir, 0o755);
    // Debian's interpreter: one under root's home (pyenv's) could not be run by nobody.
    makeVenv(join(t.dir, 'venv'), { python: (systemPython() ?? defaultPython()).path });
    t.file('app.wsgi', 'import json, os\ndef application(e, s):\n    s("200 OK", [])\n    return [json.dumps([os.getuid(), os.getgid()]).encode()]\n');
    chmodSync(join(t.dir, 'app.wsgi'), 0o644);
    const nobody =
      readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('nobody:'))
        ?.split(':') ?? [];
    const config = t.file(
      'site.toml',
      `listen = ["127.0.0.1:0"]\n[[group]]\nname = "web"\npython-home = "venv"\nuser = "nobody"\ndisplay-name = "%{GROUP}"\n[[mount]]\nscript = "app.wsgi"\ngroup = "web"\n`,
    );
    const host = await WsgiHost.serve(['-c', config], { cwd: t.dir });
    try {
      const [uid, gid] = await getJson<[number, number]>(`${host.url}/`);
      assert.equal(uid, Number(nobody[2]));
      assert.equal(gid, Number(nobody[3]));
      const [worker] = (await childPids(host.pid)) as [number];
      assert.equal(readFileSync(`/proc/${worker}/comm`, 'utf8').trim(), '(wsgi:web)');
    } finally {
      await host.stop();
    }
  });

  test('a WSGI script the user cannot read is refused at start with SCRIPT_UNREADABLE, not a traceback', async () => {
    const u = tempDir();
    try {
      chmodSync(u.dir, 0o755);
      makeVenv(join(u.dir, 'venv'), { python: (systemPython() ?? defaultPython()).path });
      u.file('secret.wsgi', 'def application(e, s):\n    s("200 OK", [])\n    return [b""]\n');
      chmodSync(join(u.dir, 'secret.wsgi'), 0o600);
      const config = u.file(
        'c.toml',
        `listen = ["127.0.0.1:0"]\n[[group]]\nname = "web"\npython-home = "venv"\nuser = "nobody"\n[[mount]]\nscript = "secret.wsgi"\ngroup = "web"\n`,
      );
      const r = await runCli(['serve', '-c', config], { cwd: u.dir, timeoutMs: 20_000 });
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /\[SCRIPT_UNREADABLE\]: .*secret\.wsgi of group web cannot be read by its user nobody: .*secret\.wsgi is not readable by user nobody/,
      );
      assert.doesNotMatch(r.stderr, /Traceback|PermissionError/);
    } finally {
      u.cleanup();
    }
  });
});
