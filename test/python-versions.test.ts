import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getJson } from './helpers/http.js';
import { discoverInterpreters, type Interpreter, makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { runCli, WsgiHost } from './helpers/wsgi-host.js';

/**
 * One application, one WSGI script file, hosted from the venvs of two different Python versions
 * found on this machine (the oldest and the newest discoverInterpreters() finds), by one wsgi-host,
 * both at once. mod_wsgi cannot do this: one Apache has one libpython.
 */
const APP = String.raw`
import json, os, sys, threading, time
from urllib.parse import parse_qs

def application(environ, start_response):
    started = time.time()
    q = parse_qs(environ.get("QUERY_STRING", ""))
    time.sleep(float(q.get("sleep", ["0"])[0]))
    body = json.dumps({
        "version": "%d.%d.%d" % sys.version_info[:3],
        "hexversion": sys.hexversion,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "pid": os.getpid(),
        "thread": threading.get_ident(),
        "group": environ["mod_wsgi.process_group"],
        "script_name": environ["SCRIPT_NAME"],
        "started": started,
        "ended": time.time(),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
`;

interface Report {
  version: string;
  executable: string;
  prefix: string;
  base_prefix: string;
  pid: number;
  group: string;
  script_name: string;
  started: number;
  ended: number;
}

describe('one application from venvs of two Python versions, served at once by one wsgi-host', () => {
  const t = tempDir('wsgi-host-versions-');
  const found = discoverInterpreters();
  // The oldest and the newest: two different versions whenever the machine has two.
  const chosen: Interpreter[] = found.length > 1 ? [found[0] as Interpreter, found[found.length - 1] as Interpreter] : found.slice(0, 1);
  const groupName = (i: Interpreter): string => `py${i.mm[0]}${i.mm[1]}`;
  let host: WsgiHost | undefined;
  let checkOutput = '';

  before(async () => {
    assert.ok(chosen.length > 0, 'at least one CPython 3.8+ on this machine');
    t.file('app/version.wsgi', APP);
    let toml = 'listen = ["127.0.0.1:8000"]\n';
    for (const i of chosen) {
      makeVenv(join(t.dir, 'venvs', groupName(i)), { python: i.path });
      toml += `
[[group]]
name = "${groupName(i)}"
python-home = "venvs/${groupName(i)}"
processes = 1
threads = 4

[[mount]]
path = "/${groupName(i)}"
script = "app/version.wsgi"
group = "${groupName(i)}"
`;
    }
    t.file('wsgi-host.toml', toml);
    const check = await runCli(['check', '-c', 'wsgi-host.toml'], { cwd: t.dir, timeoutMs: 90_000 });
    checkOutput = check.stdout + check.stderr;
    assert.equal(check.code, 0, checkOutput);
    host = await WsgiHost.serve(['-c', 'wsgi-host.toml'], { cwd: t.dir, timeoutMs: 90_000 });
  });

  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  test('the machine has two Python versions to host (else only one is checked)', (ctx) => {
    ctx.diagnostic(`interpreters found: ${found.map((i) => `${i.version} (${i.path})`).join(', ')}`);
    ctx.diagnostic(`hosted: ${chosen.map((i) => `${groupName(i)} = ${i.version}`).join(', ')}`);
    if (found.length < 2) {
      ctx.diagnostic(
        `only one Python 3.8+ on this machine (${found[0]?.version}): two versions at once cannot be shown here; install another (e.g. apt-get install python3.N, or pyenv) to test it`,
      );
      ctx.skip('only one Python 3.8+ version on this machine: install another (pyenv install 3.12; Debian 12 packages only 3.11)');
      return;
    }
    assert.notDeepEqual(chosen[0]?.mm, chosen[1]?.mm, 'two different minor versions');
  });

  test('wsgi-host check shows each group with its own interpreter and version', () => {
    for (const i of chosen) {
      assert.match(checkOutput, new RegExp(`Group ${groupName(i)}:`));
      assert.ok(
        checkOutput.includes(`${join(t.dir, 'venvs', groupName(i), 'bin', 'python')} (Python ${i.version}, cpython)`),
        `group ${groupName(i)}: Python ${i.version}\n${checkOutput}`,
      );
    }
  });

  test('each mount answers from its own venv with its own Python version', async () => {
    const seen = new Map<string, Report>();
    for (const i of chosen) {
      const r = await getJson<Report>(`${host?.url}/${groupName(i)}/x`);
      assert.equal(r.version, i.version, `/${groupName(i)} runs Python ${i.version}`);
      assert.equal(r.prefix, join(t.dir, 'venvs', groupName(i)), 'sys.prefix is the group’s venv');
      assert.equal(r.executable, join(t.dir, 'venvs', groupName(i), 'bin', 'python'));
      assert.notEqual(r.base_prefix, r.prefix, 'a virtual environment');
      assert.equal(r.group, groupName(i));
      assert.equal(r.script_name, `/${groupName(i)}`);
      seen.set(groupName(i), r);
    }
    if (chosen.length === 2) {
      const [a, b] = [...seen.values()] as [Report, Report];
      assert.notEqual(a.version, b.version, 'two different Python versions from one server');
      assert.notEqual(a.pid, b.pid);
    }
  });

  test('both versions serve at the same time: concurrent requests to each overlap in time', async () => {
    const perGroup = 3;
    const sleep = 1;
    const started = performance.now();
    const results = await Promise.all(
      chosen.flatMap((i) =>
        Array.from({ length: perGroup }, () => getJson<Report>(`${host?.url}/${groupName(i)}/?sleep=${sleep}`, { timeoutMs: 30_000 }).then((r) => ({ i, r }))),
      ),
    );
    const elapsed = performance.now() - started;
    for (const { i, r } of results) assert.equal(r.version, i.version);
    // Every request of every group was running at one moment: the latest start is before the
    // earliest end. Served one after another, they would take chosen.length * perGroup * sleep.
    const latestStart = Math.max(...results.map(({ r }) => r.started));
    const earliestEnd = Math.min(...results.map(({ r }) => r.ended));
    assert.ok(
      latestStart < earliestEnd,
      `all ${results.length} requests overlap (latest start ${latestStart}, earliest end ${earliestEnd}); took ${elapsed.toFixed(0)} ms`,
    );
  });
});
