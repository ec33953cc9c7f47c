import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { runCli, WsgiHost } from './helpers/wsgi-host.js';

const REPORT = (name: string): string => `
import json, sys
def application(environ, start_response):
    body = json.dumps({"app": "${name}", "prefix": sys.prefix, "script_name": environ["SCRIPT_NAME"],
                       "path_info": environ["PATH_INFO"], "group": environ["mod_wsgi.process_group"],
                       "app_group": environ["mod_wsgi.application_group"],
                       "authorization": environ.get("HTTP_AUTHORIZATION")}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
`;

const SITE_CONF = `# A site as it would be deployed with mod_wsgi.
ServerName localhost
<IfModule mod_wsgi.c>
    WSGIPythonHome venv-default
    WSGIDaemonProcess site python-home=venv-site processes=2 threads=2 \\
        display-name=%{GROUP} maximum-requests=1000
    WSGIDaemonProcess api python-home=venv-api python-path=api/src \\
        processes=1 threads=4 home=api
</IfModule>
IncludeOptional conf.d/*.conf

<VirtualHost *:80>
    ServerName www.example.test
    ServerAlias example.test
    WSGIScriptAlias / site/site.wsgi
    <Directory site>
        WSGIProcessGroup site
        WSGIApplicationGroup %{GLOBAL}
        Require all granted
    </Directory>
    Alias /static/ static/
    <Directory static>
        Require all granted
    </Directory>
    WSGIScriptAlias /api api/api.wsgi process-group=api application-group=%{GLOBAL}
    WSGIPassAuthorization On
</VirtualHost>

<VirtualHost *:80>
    ServerName other.test
    WSGIScriptAlias /legacy "legacy dir/legacy.wsgi"
    <Location /legacy>
        WSGIApplicationGroup %{GLOBAL}
    </Location>
</VirtualHost>
`;

interface Seen {
  status: number;
  type: string | undefined;
  body: string;
}

function get(url: string, host: string, path: string, headers: Record<string, string> = {}): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { headers: { Host: host, 'X-Request-Id': 'compare', ...headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('an Apache mod_wsgi site serves the same as its TOML translation', () => {
  const t = tempDir();
  let apache: WsgiHost;
  let toml: WsgiHost;
  let translated: string;
  let fromApacheOutput: string;

  before(async () => {
    for (const v of ['venv-default', 'venv-site', 'venv-api']) makeVenv(join(t.dir, v));
    t.file('site/site.wsgi', REPORT('site'));
    t.file('api/api.wsgi', `import apihelpers\n${REPORT('api')}`);
    t.file('api/src/apihelpers.py', 'X = 1\n');
    t.file('legacy dir/legacy.wsgi', REPORT('legacy'));
    t.file('static/style.css', 'body { color: black }\n');
    t.file('conf.d/logging.conf', 'LogLevel warn\n');
    const conf = t.file('site.conf', SITE_CONF);
    const r = await runCli(['config', 'from-apache', conf], { cwd: t.dir });
    assert.equal(r.code, 0, r.stderr);
    translated = t.file('translated.toml', r.stdout);
    fromApacheOutput = r.stdout;
    apache = await WsgiHost.serve(['--apache', conf], { cwd: t.dir });
    toml = await WsgiHost.serve(['-c', translated], { cwd: t.dir });
  });
  after(async () => {
    await Promise.all([apache?.stop(), toml?.stop()]);
    t.cleanup();
  });

  const cases: [string, string, Record<string, string>?][] = [
    ['www.example.test', '/'],
    ['www.example.test', '/some/page'],
    ['example.test', '/api/v1/items', { Authorization: 'Bearer secret' }],
    ['www.example.test', '/api'],
    ['www.example.test', '/apiary'],
    ['www.example.test', '/static/style.css'],
    ['other.test', '/legacy/x', { Authorization: 'Basic abc' }],
    ['other.test', '/nothing-here'],
  ];

  test('every request gets the same answer from both', async () => {
    for (const [host, path, headers] of cases) {
      const a = await get(apache.url, host, path, headers);
      const b = await get(toml.url, host, path, headers);
      assert.deepEqual(b, a, `${host}${path}`);
    }
  });

  test('and the answers are the ones mod_wsgi would give', async () => {
    const root = JSON.parse((await get(apache.url, 'www.example.test', '/some/page')).body) as Record<string, string>;
    // Issue 14: mod_wsgi names the %{GLOBAL} application group "" in the environ.
    assert.deepEqual([root.app, root.group, root.app_group, root.prefix, root.path_info], ['site', 'site', '', join(t.dir, 'venv-site'), '/some/page']);
    const api = JSON.parse((await get(apache.url, 'example.test', '/api/v1', { Authorization: 'Bearer secret' })).body) as Record<string, string>;
    assert.deepEqual([api.app, api.group, api.prefix, api.script_name, api.authorization], ['api', 'api', join(t.dir, 'venv-api'), '/api', 'Bearer secret']);
    const legacy = JSON.parse((await get(apache.url, 'other.test', '/legacy/x', { Authorization: 'Basic abc' })).body) as Record<string, string>;
    assert.equal(legacy.group, '', 'embedded mode: the default group');
    assert.equal(legacy.prefix, join(t.dir, 'venv-default'), 'WSGIPythonHome applies to it');
    assert.equal(legacy.authorization, null, 'WSGIPassAuthorization is Off by default in that host');
    const css = await get(apache.url, 'www.example.test', '/static/style.css');
    assert.equal(css.body, 'body { color: black }\n');
    assert.match(css.type ?? '', /^text\/css/);
    assert.equal((await get(apache.url, 'other.test', '/nothing-here')).status, 404);
  });

  test('the directives wsgi-host does not use are named once, with file and line', () => {
    assert.match(fromApacheOutput, /# ignored: .*conf\.d\/logging\.conf:1: LogLevel/);
    assert.equal(fromApacheOutput.match(/^# ignored: .*: LogLevel/gm)?.length, 1, fromApacheOutput);
  });

  // Issue 14 changed this: never a silent 127.0.0.1:8000; the VirtualHosts' addresses, said in a note.
  test('without a Listen directive, wsgi-host listens on the addresses of the VirtualHosts, and says so', () => {
    assert.match(
      fromApacheOutput,
      /^# info: .*site\.conf:1: The configuration has no Listen directive \(Debian keeps them in ports\.conf.*wsgi-host listens on the addresses its VirtualHosts name, 0\.0\.0\.0:80;/m,
    );
    assert.match(fromApacheOutput, /^\[\[listen\]\]\nhost = "0\.0\.0\.0"\nport = 80$/m);
    assert.doesNotMatch(fromApacheOutput, /8000/);
  });
});
