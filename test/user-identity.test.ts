import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from './helpers/node-test.js';
import { getJson, request } from './helpers/http.js';
import { makeVenv, sitePackages, systemPython } from './helpers/python.js';
import { needsRoot } from './helpers/requirements.js';
import { tempDir } from './helpers/tmp.js';
import { ROOT, runCli, WsgiHost } from './helpers/wsgi-host.js';

/**
 * user= as mod_wsgi applies it: the process gets the user's supplementary groups (initgroups), HOME,
 * USER and LOGNAME of the user, and nothing the application controls (its venv's .pth files, the
 * app) ever runs as root, neither in the workers nor in the probes before them.
 * A real user and group are made for the test (useradd, groupadd) and removed after it.
 */
const USERADD = ['/usr/sbin/useradd', '/usr/sbin/groupadd', '/usr/sbin/userdel', '/usr/sbin/groupdel'];
const missingTools = USERADD.filter((p) => !existsSync(p));
const system = systemPython();
const skip =
  needsRoot() ||
  (missingTools.length ? `needs ${missingTools.join(', ')} to make a test user (apt-get install -y passwd)` : false) ||
  (system === undefined
    ? "needs Debian's /usr/bin/python3 (apt-get install -y python3 python3-venv): a user= process cannot run an interpreter under /root"
    : false);

const APP = `import json, os
def application(environ, start_response):
    with open(os.environ['WSGI_HOST_TEST_UIDS'], 'a') as f:
        f.write('app %d %d\\n' % (os.getuid(), os.geteuid()))
    try:
        with open(os.environ['WSGI_HOST_TEST_SECRET']) as f:
            secret = f.read()
    except OSError as e:
        secret = 'unreadable: %s' % e
    path = os.environ.get('PATH', '')
    body = {
        'uid': os.getuid(), 'gid': os.getgid(), 'groups': sorted(os.getgroups()),
        'HOME': os.environ.get('HOME'), 'USER': os.environ.get('USER'), 'LOGNAME': os.environ.get('LOGNAME'),
        'unsearchable_path': [d for d in path.split(os.pathsep) if d and not os.access(d, os.X_OK)],
        'secret': secret, 'cwd': os.getcwd(),
    }
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [json.dumps(body).encode()]
`;

describe("user= processes get the user's groups and home, and no application code runs as root", { skip }, () => {
  const t = tempDir('wsgi-host-identity-');
  const n = String(process.pid % 100000);
  const user = `wsgihost${n}`;
  const group = `wsgihostg${n}`;
  const home = join(t.dir, 'home');
  const uids = join(t.dir, 'uids.log');
  const secret = join(t.dir, 'secret.key');
  let made = { user: false, group: false };
  let uid = -1;
  let gid = -1;
  let sgid = -1;
  let config = '';

  before(() => {
    chmodSync(t.dir, 0o755);
    execFileSync('/usr/sbin/groupadd', [group], { stdio: 'pipe' });
    made.group = true;
    mkdirSync(home);
    execFileSync('/usr/sbin/useradd', ['-M', '-d', home, '-s', '/usr/sbin/nologin', '-G', group, user], { stdio: 'pipe' });
    made.user = true;
    const pw = (
      readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${user}:`)) as string
    ).split(':');
    uid = Number(pw[2]);
    gid = Number(pw[3]);
    sgid = Number(
      (
        readFileSync('/etc/group', 'utf8')
          .split('\n')
          .find((l) => l.startsWith(`${group}:`)) as string
      ).split(':')[2],
    );
    chownSync(home, uid, gid);
    // A key only the supplementary group may read, as /etc/ssl/private with ssl-cert.
    writeFileSync(secret, 'the key');
    chownSync(secret, 0, sgid);
    chmodSync(secret, 0o640);
    writeFileSync(uids, '');
    chmodSync(uids, 0o666);
    const venv = makeVenv(join(t.dir, 'venv'), { python: (system as { path: string }).path });
    const site = sitePackages(venv);
    // Code the application's environment controls, run by every interpreter start of that venv.
    writeFileSync(join(site, 'record-uid.pth'), `import os; open(${JSON.stringify(uids)}, 'a').write('pth %d %d\\n' % (os.getuid(), os.geteuid()))\n`);
    execFileSync('chmod', ['-R', 'a+rX', t.dir]);
    chmodSync(secret, 0o640);
    t.file('app.wsgi', APP);
    chmodSync(join(t.dir, 'app.wsgi'), 0o644);
    config = t.file(
      'site.toml',
      `listen = ["127.0.0.1:0"]\n[[group]]\nname = "web"\npython-home = "venv"\nuser = "${user}"\nenv = { WSGI_HOST_TEST_UIDS = "${uids}", WSGI_HOST_TEST_SECRET = "${secret}" }\n[[mount]]\nscript = "app.wsgi"\ngroup = "web"\n`,
    );
  });

  after(() => {
    if (made.user) execFileSync('/usr/sbin/userdel', [user], { stdio: 'pipe' });
    if (made.group) execFileSync('/usr/sbin/groupdel', [group], { stdio: 'pipe' });
    made = { user: false, group: false };
    t.cleanup();
  });

  test("the workers have the user's supplementary groups (initgroups), HOME, USER and LOGNAME, and a PATH they can search", async () => {
    const host = await WsgiHost.serve(['-c', config], { cwd: t.dir });
    try {
      const r = await getJson<{
        uid: number;
        gid: number;
        groups: number[];
        HOME: string;
        USER: string;
        LOGNAME: string;
        unsearchable_path: string[];
        secret: string;
      }>(`${host.url}/`);
      assert.equal(r.uid, uid);
      assert.equal(r.gid, gid);
      assert.ok(r.groups.includes(sgid), `supplementary group ${group} (${sgid}) in ${JSON.stringify(r.groups)}`);
      assert.ok(!r.groups.includes(0), `root's group is not kept: ${JSON.stringify(r.groups)}`);
      assert.equal(r.secret, 'the key', 'a file of the supplementary group is readable');
      assert.equal(r.HOME, home);
      assert.equal(r.USER, user);
      assert.equal(r.LOGNAME, user);
      assert.deepEqual(r.unsearchable_path, [], "no PATH entry the user cannot search (root's own folders)");
    } finally {
      await host.stop();
    }
  });

  test("nothing of the application's environment runs as root: its .pth files, in serve and in check", async () => {
    writeFileSync(uids, '');
    const host = await WsgiHost.serve(['-c', config], { cwd: t.dir });
    try {
      assert.equal((await request(`${host.url}/`)).status, 200);
    } finally {
      await host.stop();
    }
    const c = await runCli(['check', '-c', config], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(c.code, 0, c.stdout + c.stderr);
    const lines = readFileSync(uids, 'utf8').trim().split('\n');
    const kinds = new Set(lines.map((l) => l.split(' ')[0]));
    assert.deepEqual([...kinds].sort(), ['app', 'pth'], lines.join('\n'));
    assert.ok(
      lines.filter((l) => l.startsWith('pth')).length >= 3,
      `the probe of serve, the worker and the probe of check each ran the .pth:\n${lines.join('\n')}`,
    );
    for (const l of lines) assert.match(l, new RegExp(`^\\w+ ${uid} ${uid}$`), `ran as ${user} (uid ${uid}), never as root:\n${lines.join('\n')}`);
  });

  test('the group starts when its user cannot read the wsgi-host package (a clone under a private folder)', async () => {
    const pkg = join(t.dir, 'private', 'wsgi-host');
    mkdirSync(pkg, { recursive: true });
    chmodSync(join(t.dir, 'private'), 0o700);
    for (const part of ['package.json', 'dist/src', 'worker/boot.py', 'worker/wsgi_host_worker', 'status-page'])
      cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const host = await WsgiHost.serve(['-c', config], { cwd: t.dir, cli: join(pkg, 'dist', 'src', 'cli', 'main.js') });
    try {
      const r = await getJson<{ uid: number }>(`${host.url}/`);
      assert.equal(r.uid, uid);
      assert.doesNotMatch(host.logText(), /PermissionError|Traceback/);
    } finally {
      await host.stop();
    }
  });
});
