import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from './helpers/node-test.js';
import { getJson, request } from './helpers/http.js';
import { describeFailures, steadyLoad } from './helpers/load.js';
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

  test("front-ends = 2 with a user= group: its socket is bound by root in the front end's folder, which its application cannot change; both loops serve it", async () => {
    const u = tempDir();
    try {
      chmodSync(u.dir, 0o755);
      makeVenv(join(u.dir, 'venv'), { python: (systemPython() ?? defaultPython()).path });
      // The attack: find the unix socket this process listens on (its descriptor, then
      // /proc/net/unix), and try to put another socket in its place for the other loop to reach.
      u.file(
        'app.wsgi',
        String.raw`
import errno, json, os, socket, sys
def listening_paths():
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    paths = []
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) >= 8 and parts[6] in inodes and parts[7].startswith("/"):
                paths.append(parts[7])
    return paths
def attempt(fn):
    try:
        fn()
        return "done"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def application(environ, start_response):
    if environ["PATH_INFO"] == "/attack":
        out = {}
        for p in listening_paths():
            d = os.path.dirname(p)
            out[p] = {
                "unlink": attempt(lambda: os.unlink(p)),
                "rename": attempt(lambda: os.rename(p, p + ".old")),
                "list": attempt(lambda: os.listdir(d)),
                "bind": attempt(lambda: socket.socket(socket.AF_UNIX).bind(os.path.join(d, "evil.sock"))),
            }
        body = json.dumps(out)
    else:
        sys.stderr.write("served by %d\n" % os.getuid())
        sys.stderr.flush()
        body = json.dumps([os.getuid(), os.getpid()])
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]
`,
      );
      chmodSync(join(u.dir, 'app.wsgi'), 0o644);
      const nobodyUid = Number(
        readFileSync('/etc/passwd', 'utf8')
          .split('\n')
          .find((l) => l.startsWith('nobody:'))
          ?.split(':')[2],
      );
      const config = u.file(
        'c.toml',
        `listen = ["127.0.0.1:0"]\nfront-ends = 2\n[[group]]\nname = "web"\npython-home = "venv"\nuser = "nobody"\nprocesses = 1\nthreads = 2\n[[mount]]\nscript = "app.wsgi"\ngroup = "web"\n`,
      );
      const host = await WsgiHost.serve(['-c', config], { cwd: u.dir });
      try {
        assert.ok(
          host.logs.some((l) => /^2 front-end loops serve HTTP/.test(String(l.msg))),
          host.logText(),
        );
        // The front end's folder: root's, 0700, the worker's socket bound in it by root.
        const [folder] = readdirSync(tmpdir()).filter((n) => n.startsWith(`wsgi-host-${host.pid}-`));
        assert.ok(folder, 'the front end has its socket folder');
        const st = statSync(join(tmpdir(), folder));
        assert.equal(st.uid, 0);
        assert.equal(st.mode & 0o777, 0o700);
        const attack = JSON.parse((await request(`${host.url}/attack`)).text) as Record<string, Record<string, string>>;
        const paths = Object.keys(attack);
        assert.equal(paths.length, 1, `the worker listens on one unix socket path: ${JSON.stringify(attack)}`);
        const [path] = paths as [string];
        assert.ok(path.startsWith(join(tmpdir(), folder)), `${path} is in the front end's folder`);
        assert.equal(statSync(path).uid, 0, 'bound by root');
        assert.deepEqual(attack[path], { unlink: 'EACCES', rename: 'EACCES', list: 'EACCES', bind: 'EACCES' });
        // Both loops reach the worker, on the socket root bound; it runs as nobody. The connections
        // open one by one (on Node 20 the loops accept on one descriptor, and the first one awake
        // takes a burst whole: all 16 in one loop in 2 of 18 runs).
        const load = steadyLoad(`${host.url}/`, { concurrency: 16, durationMs: 2000, rampMs: 400 });
        const result = await load.done;
        assert.equal(result.failed, 0, describeFailures(result));
        for (const b of result.bodies) assert.equal((JSON.parse(b) as number[])[0], nobodyUid);
        const served = host.logs.filter((l) => /served by/.test(String(l.msg)));
        const bySecond = served.filter((l) => l.loop === 1).length;
        assert.ok(bySecond > 0 && bySecond < served.length, `lines by the second loop: ${bySecond} of ${served.length}`);
        assert.ok(!host.logs.some((l) => /one front-end loop serves/.test(String(l.msg))), host.logText());
      } finally {
        await host.stop();
      }
    } finally {
      u.cleanup();
    }
  });
});
