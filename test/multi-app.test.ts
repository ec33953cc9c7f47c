import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { discoverInterpreters, makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { WsgiHost } from './helpers/wsgi-host.js';

const REPORT = (name: string): string => `
import json, os, sys
def application(environ, start_response):
    body = json.dumps({"app": "${name}", "prefix": sys.prefix, "version": "%d.%d" % sys.version_info[:2],
                       "script_name": environ["SCRIPT_NAME"], "path_info": environ["PATH_INFO"], "pid": os.getpid(),
                       "group": environ["mod_wsgi.process_group"], "app_group": environ["mod_wsgi.application_group"]}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
`;

interface Seen {
  app: string;
  prefix: string;
  version: string;
  script_name: string;
  path_info: string;
  pid: number;
  group: string;
  app_group: string;
}

function get(url: string, host: string, path: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { headers: { Host: host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as Seen) : reject(new Error(`${host}${path}: ${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('several applications, each in its own venv and Python version, behind one server', () => {
  const t = tempDir();
  const interpreters = discoverInterpreters();
  const pyA = interpreters[0];
  const pyB = interpreters[interpreters.length - 1];
  let host: WsgiHost;
  const venvs: Record<string, string> = {};

  before(async () => {
    assert.ok(pyA && pyB, 'at least one Python 3.8+ on this machine');
    venvs.root = makeVenv(join(t.dir, 'venv-root'), { python: pyA.path });
    venvs.a = makeVenv(join(t.dir, 'venv-a'), { python: pyB.path });
    venvs.b = makeVenv(join(t.dir, 'venv-b'), { python: pyA.path });
    for (const n of ['root', 'a', 'b']) t.file(`${n}.wsgi`, REPORT(n));
    const config = t.file(
      'wsgi-host.toml',
      `
listen = ["127.0.0.1:8000"]

[[group]]
name = "root"
python-home = "venv-root"
processes = 2
threads = 2

[[group]]
name = "a"
python-home = "venv-a"

[[group]]
name = "b"
python-home = "venv-b"

[[host]]
server-name = "one.test"
aliases = ["www.one.test"]

  [[host.mount]]
  path = "/"
  script = "root.wsgi"
  group = "root"

  [[host.mount]]
  path = "/a"
  script = "a.wsgi"
  group = "a"

  [[host.mount]]
  path = "/isolated"
  script = "root.wsgi"
  group = "root"
  application-group = "isolated"

[[host]]
server-name = "two.test"

  [[host.mount]]
  path = "/b"
  script = "b.wsgi"
  group = "b"

  [[host.mount]]
  path = "/"
  script = "root.wsgi"
  group = "root"
`,
    );
    host = await WsgiHost.serve(['-c', config], { cwd: t.dir });
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  test('each request reaches the right application, venv and Python version, with SCRIPT_NAME and PATH_INFO split at its mount', async () => {
    const cases: [string, string, string, string, string, string][] = [
      // host, path, app, venv, script_name, path_info
      ['one.test', '/', 'root', 'root', '', '/'],
      ['one.test', '/a', 'a', 'a', '/a', ''],
      ['one.test', '/a/x/y', 'a', 'a', '/a', '/x/y'],
      ['one.test', '/apple', 'root', 'root', '', '/apple'],
      ['www.one.test:8000', '/a/', 'a', 'a', '/a', '/'],
      ['two.test', '/b/z', 'b', 'b', '/b', '/z'],
      ['two.test', '/a', 'root', 'root', '', '/a'],
      ['unknown.test', '/a/1', 'a', 'a', '/a', '/1'],
    ];
    for (const [h, path, app, venv, scriptName, pathInfo] of cases) {
      const r = await get(host.url, h, path);
      assert.equal(r.app, app, `${h}${path}`);
      assert.equal(r.prefix, venvs[venv], `${h}${path} runs from venv ${venv}`);
      assert.equal(r.script_name, scriptName, `${h}${path} SCRIPT_NAME`);
      assert.equal(r.path_info, pathInfo, `${h}${path} PATH_INFO`);
      assert.equal(r.group, app === 'root' ? 'root' : app);
    }
    const a = await get(host.url, 'one.test', '/a');
    const root = await get(host.url, 'one.test', '/');
    assert.equal(a.version, `${pyB?.mm[0]}.${pyB?.mm[1]}`);
    assert.equal(root.version, `${pyA?.mm[0]}.${pyA?.mm[1]}`);
    if (interpreters.length > 1) assert.notEqual(a.version, root.version, 'two Python versions at once');
  });

  test('an application group other than %{GLOBAL} gets processes of its own within its group', async () => {
    const shared = new Set<number>();
    for (let i = 0; i < 6; i++) shared.add((await get(host.url, 'one.test', '/x')).pid);
    const iso = await get(host.url, 'one.test', '/isolated/x');
    assert.equal(iso.app_group, 'isolated');
    assert.equal(iso.group, 'root');
    assert.equal(iso.prefix, venvs.root);
    assert.ok(!shared.has(iso.pid), 'served by a process that the %{GLOBAL} mounts never use');
  });
});
