import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type ApacheNote, ApacheErrorCode, translateApacheConfig } from '../src/config/apache/index.js';
import { ConfigError, ConfigErrorCode } from '../src/config/errors.js';
import type { ServerConfigInput } from '../src/config/schema.js';
import { validateConfig } from '../src/config/validate.js';
import { planServer } from '../src/config/plan.js';
import { tempDir } from './helpers/tmp.js';

const tmp = tempDir('wsgi-host-apache-');
after(() => tmp.cleanup());

let counter = 0;
/** A fresh folder inside the temp dir with these files (a '/' in a name makes folders). */
function fixture(files: Record<string, string>): string {
  const dir = join(tmp.dir, `case${++counter}`);
  for (const [name, text] of Object.entries(files)) tmp.file(join(`case${counter}`, name), text);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The 1-based line of the first line of `text` containing `marker`. */
function lineOf(text: string, marker: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(marker));
  assert.ok(i >= 0, `fixture has no line with ${marker}`);
  return i + 1;
}

function translateError(file: string, options?: { defines?: string[]; serverRoot?: string }): ConfigError {
  try {
    translateApacheConfig(file, options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected translateApacheConfig to throw');
}

const WSGI = 'def application(environ, start_response):\n    start_response("200 OK", [])\n    return [b"ok"]\n';

describe('a realistic mod_wsgi site configuration', () => {
  const main = [
    '# Main configuration of www.example.com and api.example.com',
    'Listen 80',
    'Listen 127.0.0.1:8080',
    'Listen [::1]:8081',
    'LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so',
    'ServerAdmin webmaster@example.com',
    'LogLevel warn',
    'ErrorLog ${APACHE_LOG_DIR}/error.log',
    'WSGIPythonHome venvs/default',
    'WSGIPythonPath /srv/shared/lib:/srv/shared/vendor',
    '',
    '<IfModule mod_wsgi.c>',
    '    # The blog runs from its own virtual environment.',
    '    WSGIDaemonProcess blog \\',
    '        python-home=venvs/blog \\',
    '        python-path=/srv/blog/src:/srv/blog/lib \\',
    '        processes=2 threads=8 home=/srv/blog \\',
    '        display-name=%{GROUP} maximum-requests=1000 request-timeout=30 queue-timeout=20',
    '    WSGIDaemonProcess api python-home="venvs/api env" processes=4 threads=4 display-name=\'api workers\' request-timeout=10 queue-timeout=5 listen-backlog=500',
    '</IfModule>',
    '<IfModule !mod_wsgi.c>',
    '    Bogus directive that must be skipped',
    '    <VirtualHost *:9999>',
    '    </VirtualHost>',
    '</IfModule>',
    '',
    '<VirtualHost *:80>',
    '    ServerName www.example.com:80',
    '    ServerAlias example.com *.example.org',
    '    DocumentRoot /var/www/html',
    '    LogLevel info',
    '    CustomLog ${APACHE_LOG_DIR}/access.log combined',
    '',
    '    WSGIScriptAlias /blog site/blog.wsgi process-group=blog',
    '    WSGIScriptAlias / site/site.wsgi',
    '',
    '    Alias /static/ "site/static files/"',
    '    <Directory "site/static files">',
    '        Require all granted',
    '    </Directory>',
    '',
    '    <Location /blog>',
    '        WSGIApplicationGroup %{GLOBAL}',
    '    </Location>',
    '    <Directory site>',
    '        WSGIProcessGroup api',
    '        WSGIPassAuthorization On',
    '        <Files site.wsgi>',
    '            Require all granted',
    '        </Files>',
    '    </Directory>',
    '</VirtualHost>',
    '',
    '<VirtualHost *:8080>',
    '    ServerName api.example.com',
    '    WSGIProcessGroup api',
    '    WSGIApplicationGroup %{GLOBAL}',
    '    WSGIScriptAlias /v1 "api/api v1.wsgi" callable-object=app pass-authorization=On',
    '    Include conf.d/*.conf',
    '</VirtualHost>',
    '',
    'IncludeOptional sites-enabled/*.conf',
    '',
  ].join('\n');
  const v2 = [
    '# Version 2 of the API',
    'WSGIScriptAlias /v2 api/v2.wsgi',
    '<Location /v2>',
    '    WSGIApplicationGroup api-v2',
    '    SetEnv API_VERSION 2',
    '</Location>',
    '',
  ].join('\n');
  const headers = 'Header always set X-Frame-Options DENY\nLogLevel debug\n';
  const dir = fixture({
    'apache2.conf': main,
    'conf.d/10-v2.conf': v2,
    'conf.d/20-headers.conf': headers,
    'site/blog.wsgi': WSGI,
    'site/site.wsgi': WSGI,
    'site/static files/style.css': 'body {}\n',
    'api/api v1.wsgi': WSGI,
    'api/v2.wsgi': WSGI,
  });
  const file = join(dir, 'apache2.conf');
  const v2File = join(dir, 'conf.d', '10-v2.conf');
  const result = translateApacheConfig(file);

  const expected: ServerConfigInput = {
    listen: [
      { host: '0.0.0.0', port: 80 },
      { host: '127.0.0.1', port: 8080 },
      { host: '::1', port: 8081 },
    ],
    pythonHome: `${dir}/venvs/default`,
    pythonPath: ['/srv/shared/lib', '/srv/shared/vendor'],
    host: [
      {
        serverName: 'www.example.com',
        aliases: ['example.com', '*.example.org'],
        default: true,
        // Issue 14: a connection to :8080 reaches api.example.com only, and :80 www.example.com only.
        addresses: ['*:80'],
        mount: [
          { path: '/blog', script: `${dir}/site/blog.wsgi`, callable: 'application', applicationGroup: '%{GLOBAL}', passAuthorization: true, group: 'blog' },
          { path: '/', script: `${dir}/site/site.wsgi`, callable: 'application', applicationGroup: 'www.example.com|', passAuthorization: true, group: 'api' },
        ],
        // Issue 14: Alias /static/ (trailing slash) does not take /static, as in Apache.
        static: [{ path: '/static/', directory: `${dir}/site/static files` }],
      },
      {
        serverName: 'api.example.com',
        addresses: ['*:8080'],
        mount: [
          { path: '/v1', script: `${dir}/api/api v1.wsgi`, callable: 'app', applicationGroup: '%{GLOBAL}', passAuthorization: true, group: 'api' },
          {
            path: '/v2',
            script: `${dir}/api/v2.wsgi`,
            callable: 'application',
            applicationGroup: 'api-v2',
            passAuthorization: false,
            group: 'api',
            environ: { API_VERSION: '2' },
          },
        ],
      },
    ],
    group: [
      {
        name: 'blog',
        pythonHome: `${dir}/venvs/blog`,
        pythonPath: ['/srv/blog/src', '/srv/blog/lib'],
        processes: 2,
        threads: 8,
        workingDirectory: '/srv/blog',
        displayName: '(wsgi:blog)',
        maximumRequests: 1000,
        requestTimeout: 30,
        queueTimeout: 20,
      },
      { name: 'api', pythonHome: `${dir}/venvs/api env`, processes: 4, threads: 4, displayName: 'api workers', requestTimeout: 10, queueTimeout: 5 },
    ],
  };

  test('translates into exactly the expected model, which validates and plans', () => {
    assert.deepEqual(result.config, expected);
    const model = validateConfig(result.config);
    assert.deepEqual(model, validateConfig(expected));
    assert.equal(model.host[0]?.mount[1]?.passAuthorization, true);
    assert.equal(model.group[1]?.threads, 4);
    const plan = planServer(model, dir);
    assert.deepEqual(plan.pools.map((p) => p.label).sort(), ['api', 'api/api-v2', 'api/www.example.com|', 'blog']);
    assert.equal(plan.mounts.length, 4);
    assert.equal(plan.defaultHost, 0);
  });

  test('records where values came from, through continuation lines and includes', () => {
    const s = result.sources;
    assert.deepEqual(s['group[0].pythonHome'], { file, line: lineOf(main, 'WSGIDaemonProcess blog') });
    assert.deepEqual(s['group[1].queueTimeout'], { file, line: lineOf(main, 'WSGIDaemonProcess api') });
    assert.deepEqual(s.pythonHome, { file, line: lineOf(main, 'WSGIPythonHome') });
    assert.deepEqual(s['listen[2]'], { file, line: lineOf(main, 'Listen [::1]') });
    assert.deepEqual(s['host[0].mount[1].group'], { file, line: lineOf(main, 'WSGIProcessGroup api') });
    assert.deepEqual(s['host[0].mount[0].group'], { file, line: lineOf(main, 'WSGIScriptAlias /blog') });
    assert.deepEqual(s['host[0].mount[0].applicationGroup'], { file, line: lineOf(main, 'WSGIApplicationGroup %{GLOBAL}') });
    assert.deepEqual(s['host[0].mount[1].passAuthorization'], { file, line: lineOf(main, 'WSGIPassAuthorization On') });
    assert.deepEqual(s['host[1].mount[1]'], { file: v2File, line: lineOf(v2, 'WSGIScriptAlias /v2') });
    assert.deepEqual(s['host[1].mount[1].applicationGroup'], { file: v2File, line: lineOf(v2, 'api-v2') });
    assert.deepEqual(s['host[1].mount[1].environ.API_VERSION'], { file: v2File, line: lineOf(v2, 'SetEnv') });
    assert.deepEqual(s['host[0].static[0].directory'], { file, line: lineOf(main, 'Alias /static/') });
    assert.deepEqual(s['host[1].serverName'], { file, line: lineOf(main, 'ServerName api.example.com') });
  });

  test('names what it ignores once, what it cannot honour, and its advice', () => {
    const n = (kind: ApacheNote['kind'], message: string, f: string, line: number): ApacheNote => ({ kind, message, file: f, line });
    const logging = 'wsgi-host has its own logging (log.error, log.access and log.level in its configuration).';
    assert.deepEqual(result.notes, [
      n('ignored', 'LoadModule ignored: wsgi-host loads no Apache modules; what mod_wsgi does is built in.', file, lineOf(main, 'LoadModule')),
      n('ignored', 'ServerAdmin ignored: it has no equivalent in wsgi-host.', file, lineOf(main, 'ServerAdmin')),
      n('ignored', `LogLevel (and 2 more) ignored: ${logging}`, file, lineOf(main, 'LogLevel warn')),
      n('ignored', `ErrorLog ignored: ${logging}`, file, lineOf(main, 'ErrorLog')),
      n(
        'not-honoured',
        "WSGIDaemonProcess api listen-backlog=500 is not honoured: wsgi-host's processes do not listen on a socket: waiting requests queue in the front end, bounded by queueSize.",
        file,
        lineOf(main, 'WSGIDaemonProcess api'),
      ),
      n(
        'ignored',
        'DocumentRoot ignored: wsgi-host serves files only from Alias directories: add Alias / /path/to/root if the document root must be served.',
        file,
        lineOf(main, 'DocumentRoot'),
      ),
      n('ignored', `CustomLog ignored: ${logging}`, file, lineOf(main, 'CustomLog')),
      // Issue 14: a header Apache would add (here X-Frame-Options) is refused, not ignored: serve stops unless --accept-apache-differences.
      {
        ...n(
          'not-honoured',
          'Header always set X-Frame-Options DENY in <VirtualHost *:8080> is not honoured: wsgi-host does not add, edit or remove headers: set them in the application or a front proxy.',
          join(dir, 'conf.d', '20-headers.conf'),
          1,
        ),
        refused: true,
      },
      n(
        'info',
        "mod_wsgi's default application group is %{RESOURCE}, one sub-interpreter per application named after the server and URL, so WSGIScriptAlias / runs in application group 'www.example.com|'; wsgi-host keeps these names and gives each application group processes of its own. Add WSGIApplicationGroup %{GLOBAL} (or application-group=%{GLOBAL}) to let the applications of a process group share its processes, which is also what C extensions such as numpy need.",
        file,
        lineOf(main, 'WSGIScriptAlias / '),
      ),
    ]);
    assert.ok(!result.notes.some((x) => x.message.includes('Bogus')), 'a false <IfModule> is skipped without notes');
  });
});

describe('errors name the file, the line and the fix', () => {
  test('CONFIG_APACHE_SYNTAX: a section never closed', () => {
    const dir = fixture({ 'a.conf': 'Listen 80\n<VirtualHost *:80>\n    ServerName a.example\n' });
    const e = translateError(join(dir, 'a.conf'));
    assert.equal(e.code, ApacheErrorCode.SYNTAX);
    assert.deepEqual(e.source, { file: join(dir, 'a.conf'), line: 2, key: '<VirtualHost>' });
    assert.match(e.message, /never closed/);
    assert.match(e.hint ?? '', /Add <\/VirtualHost>/);
  });

  test('CONFIG_APACHE_SYNTAX: mismatched sections, and a section left open in an included file', () => {
    const dir = fixture({
      'a.conf': '<VirtualHost *:80>\n<Directory /srv>\n</VirtualHost>\n</Directory>\n',
      'b.conf': '<VirtualHost *:80>\nInclude inner.conf\n</VirtualHost>\n',
      'inner.conf': '<Location />\n',
    });
    const e = translateError(join(dir, 'a.conf'));
    assert.equal(e.code, 'CONFIG_APACHE_SYNTAX');
    assert.deepEqual(e.source, { file: join(dir, 'a.conf'), line: 3, key: '</VirtualHost>' });
    assert.match(e.message, /does not match <Directory> opened at .*a\.conf:2/);
    const inner = translateError(join(dir, 'b.conf'));
    assert.equal(inner.code, 'CONFIG_APACHE_SYNTAX');
    assert.deepEqual(inner.source, { file: join(dir, 'inner.conf'), line: 1, key: '<Location>' });
  });

  test('CONFIG_APACHE_SYNTAX: a trailing comment, which Apache does not allow', () => {
    const dir = fixture({ 'a.conf': 'Listen 80\nServerName www.example.com # the main name\n' });
    const e = translateError(join(dir, 'a.conf'));
    assert.equal(e.code, 'CONFIG_APACHE_SYNTAX');
    assert.equal(e.source?.line, 2);
    assert.match(e.hint ?? '', /no comments after a directive/);
  });

  test('CONFIG_APACHE_INCLUDE: Include of a missing file (IncludeOptional is fine)', () => {
    const dir = fixture({ 'a.conf': 'Listen 80\nIncludeOptional optional/*.conf\nIncludeOptional missing.conf\nInclude mods-enabled/wsgi.conf\n' });
    const e = translateError(join(dir, 'a.conf'));
    assert.equal(e.code, ApacheErrorCode.INCLUDE);
    assert.deepEqual(e.source, { file: join(dir, 'a.conf'), line: 4, key: 'Include' });
    assert.match(e.message, new RegExp(`${join(dir, 'mods-enabled', 'wsgi.conf')} does not exist`));
    assert.match(e.hint ?? '', /IncludeOptional/);
  });

  test('CONFIG_APACHE_BAD_OPTION: an option mod_wsgi does not have', () => {
    const dir = fixture({ 'a.conf': 'WSGIDaemonProcess site procesess=2 threads=4\n', 'b.conf': 'WSGIScriptAlias / /srv/site.wsgi proces-group=site\n' });
    const e = translateError(join(dir, 'a.conf'));
    assert.equal(e.code, ApacheErrorCode.BAD_OPTION);
    assert.deepEqual(e.source, { file: join(dir, 'a.conf'), line: 1, key: 'WSGIDaemonProcess procesess=' });
    assert.equal(e.hint, 'Did you mean processes=?');
    const alias = translateError(join(dir, 'b.conf'));
    assert.equal(alias.code, 'CONFIG_APACHE_BAD_OPTION');
    assert.equal(alias.hint, 'Did you mean process-group=?');
  });

  test('CONFIG_APACHE_BAD_VALUE: processes=abc', () => {
    const dir = fixture({ 'a.conf': '# comment\nWSGIDaemonProcess site processes=abc\n' });
    const e = translateError(join(dir, 'a.conf'));
    assert.equal(e.code, ApacheErrorCode.BAD_VALUE);
    assert.deepEqual(e.source, { file: join(dir, 'a.conf'), line: 2, key: 'WSGIDaemonProcess processes=' });
    assert.match(e.message, /processes takes a whole number from 1 to 1024/);
    assert.equal(e.hint, 'Write e.g. processes=2');
  });

  test('CONFIG_DUPLICATE_GROUP: a WSGIDaemonProcess name defined twice', () => {
    const dir = fixture({ 'a.conf': 'WSGIDaemonProcess site threads=4\n<VirtualHost *:80>\nServerName a\nWSGIDaemonProcess site\n</VirtualHost>\n' });
    const e = translateError(join(dir, 'a.conf'));
    assert.equal(e.code, ConfigErrorCode.DUPLICATE_GROUP);
    assert.deepEqual(e.source, { file: join(dir, 'a.conf'), line: 4, key: 'WSGIDaemonProcess' });
    assert.match(e.message, /defined twice: here and at .*a\.conf:1/);
  });

  test('an undefined process-group= is left to planServer, with its source recorded', () => {
    const dir = fixture({ 'a.conf': 'Listen 80\nWSGIScriptAlias / app.wsgi process-group=nowhere\n', 'app.wsgi': WSGI });
    const r = translateApacheConfig(join(dir, 'a.conf'));
    assert.equal(r.config.mount?.[0]?.group, 'nowhere');
    assert.deepEqual(r.sources['mount[0].group'], { file: join(dir, 'a.conf'), line: 2 });
    assert.throws(
      () => planServer(validateConfig(r.config), dir),
      (err: unknown) => err instanceof ConfigError && err.code === ConfigErrorCode.UNKNOWN_GROUP,
    );
  });
});

describe('WSGIScriptAliasMatch', () => {
  test('a literal prefix and one segment group is expanded into a mount per script', () => {
    const text = [
      'Listen 8000',
      'ServerName apps.example.com',
      'WSGIDaemonProcess apps threads=2',
      'WSGIScriptAliasMatch ^/apps/([^/]+) scripts/$1.wsgi process-group=apps application-group=%{GLOBAL}',
      'WSGIScriptAliasMatch ^/(.*)\\.py$ /srv/py/$1.py',
      'WSGIScriptAliasMatch ^/none/(\\w+) empty/$1.wsgi',
    ].join('\n');
    const dir = fixture({
      'a.conf': text,
      'scripts/alpha.wsgi': WSGI,
      'scripts/beta.wsgi': WSGI,
      'scripts/.hidden.wsgi': WSGI,
      'scripts/notes.txt': '',
      'empty/readme': '',
    });
    const file = join(dir, 'a.conf');
    const r = translateApacheConfig(file);
    assert.deepEqual(r.config.mount, [
      {
        path: '/apps/alpha',
        script: `${dir}/scripts/alpha.wsgi`,
        callable: 'application',
        applicationGroup: '%{GLOBAL}',
        passAuthorization: false,
        group: 'apps',
      },
      {
        path: '/apps/beta',
        script: `${dir}/scripts/beta.wsgi`,
        callable: 'application',
        applicationGroup: '%{GLOBAL}',
        passAuthorization: false,
        group: 'apps',
      },
    ]);
    assert.deepEqual(r.config.group, [{ name: 'apps', threads: 2 }]);
    assert.deepEqual(r.sources['mount[1].script'], { file, line: 4 });
    const notes = r.notes.filter((n) => n.message.startsWith('WSGIScriptAliasMatch'));
    assert.deepEqual(
      notes.map((n) => [n.kind, n.line]),
      [
        ['info', 4],
        ['not-honoured', 5],
        ['not-honoured', 6],
      ],
    );
    assert.equal(
      notes[0]?.message,
      `WSGIScriptAliasMatch ^/apps/([^/]+) ${dir}/scripts/$1.wsgi was expanded at translation time into 2 mounts (/apps/alpha, /apps/beta), one per script matching ${dir}/scripts/*.wsgi: wsgi-host has prefix mounts only, so translate again (or add a WSGIScriptAlias) when a script is added.`,
    );
    assert.match(notes[1]?.message ?? '', /is not honoured: .*write one WSGIScriptAlias \/prefix \/path\/to\/script\.wsgi per application instead\.$/);
    assert.match(notes[2]?.message ?? '', /matched no script file/);
    validateConfig(r.config);
    assert.equal(planServer(validateConfig(r.config), dir).mounts.length, 2);
  });
});

describe('mod_wsgi semantics', () => {
  test('%{RESOURCE} is the default application group, and declaration order is reported', () => {
    const text = [
      'Listen 8080',
      '<VirtualHost *:8080>',
      '    ServerName www.example.com',
      '    WSGIScriptAlias / /SITE/site.wsgi',
      '    WSGIScriptAlias /app /SITE/app.wsgi',
      '    WSGIScriptAlias /shared /SITE/app.wsgi',
      '    <Location /shared>',
      '        SetEnv GROUP_NAME common',
      '        WSGIApplicationGroup %{ENV:GROUP_NAME}',
      '    </Location>',
      '</VirtualHost>',
    ].join('\n');
    const dir = fixture({ 'a.conf': '', 'site.wsgi': WSGI, 'app.wsgi': WSGI });
    const file = tmp.file(join(`case${counter}`, 'a.conf'), text.replaceAll('/SITE', dir));
    const r = translateApacheConfig(file);
    assert.deepEqual(
      r.config.host?.[0]?.mount?.map((m) => [m.path, m.applicationGroup]),
      [
        ['/', 'www.example.com:8080|'],
        ['/app', 'www.example.com:8080|/app'],
        ['/shared', 'common'],
      ],
    );
    assert.ok(
      r.config.host?.[0]?.mount?.every((m) => m.group === undefined),
      'embedded mode: the default group',
    );
    const order = r.notes.filter((n) => n.kind === 'order');
    assert.deepEqual(
      order.map((n) => n.line),
      [5, 6],
    );
    assert.equal(
      order[0]?.message,
      `WSGIScriptAlias /app (${dir}/app.wsgi) gets /app and the URLs below it in wsgi-host, which picks the longest matching prefix, but Apache would send them to WSGIScriptAlias / (${dir}/site.wsgi) at ${file}:4, because mod_wsgi tries the aliases of a context in the order they are declared and the first that matches wins. Declare WSGIScriptAlias /app before WSGIScriptAlias / so that Apache agrees, or remove it to keep Apache's behaviour.`,
    );
    const info = r.notes.find((n) => n.kind === 'info' && n.message.includes('%{RESOURCE}'));
    assert.deepEqual([info?.file, info?.line], [file, 4]);
    assert.match(info?.message ?? '', /Add WSGIApplicationGroup %\{GLOBAL\}/);
  });

  test('WSGIPassAuthorization defaults to Off; WSGIScriptReloading Off reaches every group', () => {
    const dir = fixture({
      'a.conf': 'Listen 80\nWSGIScriptReloading Off\nWSGIDaemonProcess one\nWSGIScriptAlias /a a.wsgi process-group=one\nWSGIScriptAlias /b b.wsgi\n',
      'a.wsgi': WSGI,
      'b.wsgi': WSGI,
    });
    const r = translateApacheConfig(join(dir, 'a.conf'));
    assert.deepEqual(
      r.config.mount?.map((m) => m.passAuthorization),
      [false, false],
    );
    assert.equal(r.config.group?.[0]?.scriptReloading, false);
    assert.equal(r.config.group?.[0]?.threads, 15, "mod_wsgi's default threads");
    assert.equal(r.config.defaultGroup?.scriptReloading, false);
    assert.deepEqual(r.sources['defaultGroup.scriptReloading'], { file: join(dir, 'a.conf'), line: 2 });
  });

  test('<IfDefine> follows the defines option; ServerRoot sets where relative paths start', () => {
    const dir = fixture({
      'a.conf':
        'ServerRoot /etc/elsewhere\nListen 80\n<IfDefine PRODUCTION>\nWSGIDaemonProcess prod processes=8\n</IfDefine>\n<IfDefine !PRODUCTION>\nWSGIDaemonProcess dev\n</IfDefine>\nWSGIPythonHome venv\n',
    });
    const file = join(dir, 'a.conf');
    const prod = translateApacheConfig(file, { defines: ['PRODUCTION'] });
    assert.deepEqual(
      prod.config.group?.map((g) => g.name),
      ['prod'],
    );
    assert.equal(prod.config.pythonHome, '/etc/elsewhere/venv');
    const dev = translateApacheConfig(file, { serverRoot: '/opt/site' });
    assert.deepEqual(
      dev.config.group?.map((g) => g.name),
      ['dev'],
    );
    assert.equal(dev.config.pythonHome, '/opt/site/venv');
    assert.ok(dev.notes.some((n) => n.kind === 'info' && n.line === 1 && n.message.includes('replaced by the serverRoot option')));
  });

  test('quoting, escapes, case-insensitive names and an Alias to a WSGI script', () => {
    const text = [
      'listen 80',
      'AddHandler wsgi-script .wsgi',
      'Alias /legacy LEGACY',
      'wsgiscriptalias "/my app" \'APP\'',
      'SetEnv GREETING "say \\"hi\\" there"',
      '<location "/my app">',
      '  WSGICallableObject app',
      '</Location>',
    ].join('\n');
    const dir = fixture({ 'legacy.wsgi': WSGI, 'my app.wsgi': WSGI });
    const file = tmp.file(join(`case${counter}`, 'a.conf'), text.replace('LEGACY', join(dir, 'legacy.wsgi')).replace('APP', join(dir, 'my app.wsgi')));
    const r = translateApacheConfig(file);
    // No ServerName and Listen 80: %{RESOURCE} is the machine's name, then '|' and the SCRIPT_NAME.
    assert.deepEqual(r.config.mount, [
      {
        path: '/legacy',
        script: join(dir, 'legacy.wsgi'),
        callable: 'application',
        applicationGroup: `${hostname()}|/legacy`,
        passAuthorization: false,
        environ: { GREETING: 'say "hi" there' },
      },
      {
        path: '/my app',
        script: join(dir, 'my app.wsgi'),
        callable: 'app',
        applicationGroup: `${hostname()}|/my app`,
        passAuthorization: false,
        environ: { GREETING: 'say "hi" there' },
      },
    ]);
    assert.equal(r.config.static, undefined, 'an Alias to a WSGI script is not a static folder');
    assert.ok(r.notes.some((n) => n.kind === 'info' && n.line === 3 && n.message.includes('translated as WSGIScriptAlias /legacy')));
  });

  // Issue 14 changed this: VirtualHosts of one ServerName stay apart (Apache tells them apart by
  // port first, so what one maps is never reached through the other's port).
  test('VirtualHosts of one ServerName (:80 and :443) stay two hosts, told apart by port', () => {
    const text = [
      'Listen 80',
      'Listen 443',
      '<VirtualHost *:80>',
      '    ServerName www.example.com',
      '    Redirect permanent / https://www.example.com/',
      '</VirtualHost>',
      '<VirtualHost *:443>',
      '    ServerName www.example.com',
      '    ServerAlias example.com',
      '    SSLEngine on',
      '    SSLCertificateFile /etc/ssl/site.pem',
      '    WSGIScriptAlias / SITE application-group=%{GLOBAL}',
      '</VirtualHost>',
    ].join('\n');
    const dir = fixture({ 'site.wsgi': WSGI });
    const file = tmp.file(join(`case${counter}`, 'a.conf'), text.replace('SITE', join(dir, 'site.wsgi')));
    const r = translateApacheConfig(file);
    assert.equal(r.config.host?.length, 2);
    assert.deepEqual(
      r.config.host?.map((h) => [h.serverName, h.addresses, h.mount?.length ?? 0]),
      [
        ['www.example.com', ['*:80'], 0],
        ['www.example.com', ['*:443'], 1],
      ],
    );
    assert.deepEqual(r.config.host?.[1]?.aliases, ['example.com']);
    assert.equal(r.config.host?.[1]?.mount?.[0]?.path, '/');
    const kinds = r.notes.map((n) => [n.kind, n.line]);
    assert.deepEqual(kinds, [
      ['not-honoured', 5],
      ['ignored', 10],
      ['ignored', 11],
    ]);
    assert.equal(r.notes[0]?.refused, true, 'the redirect is refused: serve stops unless the difference is accepted');
    assert.match(r.notes[1]?.message ?? '', /^SSLEngine ignored: wsgi-host does not terminate TLS/);
  });
});

describe('issue 14: access control, refusals, addresses', () => {
  test('Require, blocks, <Limit> and Order/Allow/Deny become access rules of the routes they cover, in Apache merge order', () => {
    const dir = fixture({ 'app/site.wsgi': WSGI, 'static/a.css': '', 'static/private/secret.txt': '' });
    const text = [
      'Listen 8080', // 1
      'WSGIScriptAlias / DIR/app/site.wsgi', // 2
      'Alias /static/ DIR/static/', // 3
      '<Directory />', // 4
      '    Require all denied', // 5
      '</Directory>', // 6
      '<Directory DIR/app>', // 7
      '    Require all granted', // 8
      '</Directory>', // 9
      '<Location /admin>', // 10
      '    <RequireAll>', // 11
      '        Require ip 10.0.0.0/8', // 12
      '        Require not ip 10.9.0.0/16', // 13
      '    </RequireAll>', // 14
      '</Location>', // 15
      '<Directory DIR/static>', // 16
      '    Require all granted', // 17
      '    <LimitExcept GET>', // 18
      '        Require all denied', // 19
      '    </LimitExcept>', // 20
      '</Directory>', // 21
      '<Directory DIR/static/private>', // 22
      '    Order deny,allow', // 23
      '    Deny from all', // 24
      '    Allow from 127.0.0.1 ::1', // 25
      '</Directory>', // 26
      '<FilesMatch "\\.css$">', // 27
      '    AuthMerging And', // 28
      '    Require method GET', // 29
      '</FilesMatch>', // 30
    ]
      .join('\n')
      .replaceAll('DIR', dir);
    const file = tmp.file(join(`case${counter}`, 'a.conf'), text);
    const r = translateApacheConfig(file);
    assert.deepEqual(r.config.mount?.[0]?.access, [
      { require: 'all denied' },
      { require: 'all granted' },
      { path: '/admin', require: [{ all: ['ip 10.0.0.0/8', 'not ip 10.9.0.0/16'] }] },
    ]);
    assert.deepEqual(r.config.static?.[0], {
      path: '/static/',
      directory: join(dir, 'static'),
      access: [
        { require: 'all denied' },
        { require: ['all granted', { limitExcept: ['GET'], require: ['all denied'] }] },
        { directory: join(dir, 'static', 'private'), compat: ['Order deny,allow', 'Deny from all', 'Allow from 127.0.0.1', 'Allow from ::1'] },
        { filesMatch: '\\.css$', require: 'method GET', merge: 'and' },
      ],
    });
    assert.deepEqual(r.sources['mount[0].access[2]'], { file, line: 10 });
    assert.deepEqual(
      r.notes.filter((n) => n.refused),
      [],
    );
    validateConfig(r.config);
  });

  test('what cannot be decided or done is refused, each at its file:line, and kept to be decided against the request', () => {
    const dir = fixture({ 'site.wsgi': WSGI });
    const text = [
      'Listen 80', // 1
      'SetEnvIf User-Agent bot IS_BOT', // 2
      'WSGIScriptAlias / DIR/site.wsgi', // 3
      '<Location /private>', // 4
      '    AuthType Basic', // 5
      '    Require valid-user', // 6
      '</Location>', // 7
      '<Location /internal>', // 8
      '    Require host .example.com', // 9
      '    Require env IS_BOT', // 10
      '</Location>', // 11
      'Redirect /old /new', // 12
      'RewriteRule ^/x /y', // 13
      'WSGIMadeUp on', // 14
      '<If "%{HTTP_HOST} == \'a\'">', // 15
      '    Require all denied', // 16
      '</If>', // 17
    ]
      .join('\n')
      .replaceAll('DIR', dir);
    const file = tmp.file(join(`case${counter}`, 'a.conf'), text);
    const r = translateApacheConfig(file);
    assert.deepEqual(
      r.notes.filter((n) => n.refused).map((n) => n.line),
      [12, 13, 14, 16, 6, 9, 10],
    );
    assert.match(r.notes.find((n) => n.line === 6)?.message ?? '', /needs an authenticated user/);
    assert.match(r.notes.find((n) => n.line === 10)?.message ?? '', /IS_BOT is set by SetEnvIf/);
    assert.deepEqual(r.config.mount?.[0]?.access, [
      { path: '/private', require: 'valid-user' },
      { path: '/internal', require: ['host .example.com', 'setenvif IS_BOT'] },
    ]);
    assert.ok(
      r.notes.some((n) => n.line === 16 && n.refused),
      'Require inside <If> is refused',
    );
  });

  test('serve refuses them all at once (CONFIG_APACHE_REFUSED); --accept-apache-differences serves, check lists them', async () => {
    const dir = fixture({ 'site.wsgi': WSGI, 'a.conf': 'Listen 80\nWSGIScriptAlias / site.wsgi\nHeader set X-A 1\nRedirect /a /b\n' });
    const { loadApacheConfig } = await import('../src/config/apache-file.js');
    const file = join(dir, 'a.conf');
    assert.throws(
      () => loadApacheConfig(file),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, ApacheErrorCode.REFUSED);
        assert.deepEqual(err.source, { file, line: 3 });
        assert.match(err.message, new RegExp(`2 directives restrict access[^]*${file}:3: Header set X-A 1[^]*${file}:4: Redirect /a /b`));
        assert.match(err.hint ?? '', /--accept-apache-differences/);
        return true;
      },
    );
    const accepted = loadApacheConfig(file, [], { acceptDifferences: true });
    assert.equal(accepted.notes.filter((n) => n.refused).length, 2);
    assert.equal(loadApacheConfig(file, [], { refuse: false }).notes.filter((n) => n.refused).length, 2);
  });

  test('Apache refuses bad access lines when it starts, and so does the translation, naming file:line', () => {
    const cases: [string, number, RegExp][] = [
      ['<Location />\nRequire ip 10.0.0.300\n</Location>\n', 2, /over 255/],
      ['<Location />\nRequire not ip 10.0.0.1\n</Location>\n', 2, /no effect among alternatives/],
      ['<Location />\n<RequireAll>\nRequire not ip 10.0.0.1\n</RequireAll>\n</Location>\n', 1, /all negative/],
      ['Require all granted\n', 1, /not allowed in the server configuration/],
      ['<VirtualHost *:80>\n<RequireAll>\nRequire all granted\n</RequireAll>\n</VirtualHost>\n', 2, /<RequireAll> is not allowed/],
      ['<Location />\nAuthMerging Sometimes\n</Location>\n', 2, /Off, And or Or/],
    ];
    for (const [text, line, message] of cases) {
      const dir = fixture({ 'a.conf': `Listen 80\n${text}` });
      const e = translateError(join(dir, 'a.conf'));
      assert.equal(e.source?.line, line + 1, text);
      assert.match(e.message, message, text);
    }
  });

  test('virtual hosts keep their addresses; without Listen, the VirtualHost addresses are listened on; with neither, an error', async () => {
    const dir = fixture({
      'site.wsgi': WSGI,
      'two.conf':
        '<VirtualHost 127.0.0.1:8080>\nServerName internal\nWSGIScriptAlias / site.wsgi\n</VirtualHost>\n<VirtualHost *:80>\nServerName www\n</VirtualHost>\n',
      'same.conf':
        'Listen 80\n<VirtualHost *:80>\nServerName a\n</VirtualHost>\n<VirtualHost *:80>\nServerName b\nWSGIScriptAlias / site.wsgi\n</VirtualHost>\n',
      'none.conf': 'WSGIScriptAlias / site.wsgi\n',
      'name.conf': 'Listen 80\n<VirtualHost www.example.com:80>\nServerName www\n</VirtualHost>\n',
    });
    const two = translateApacheConfig(join(dir, 'two.conf'));
    assert.deepEqual(two.config.listen, [
      { host: '127.0.0.1', port: 8080 },
      { host: '0.0.0.0', port: 80 },
    ]);
    assert.deepEqual(
      two.config.host?.map((h) => h.addresses),
      [['127.0.0.1:8080'], ['*:80']],
    );
    assert.match(two.notes.find((n) => n.kind === 'info' && n.line === 1)?.message ?? '', /no Listen directive \(Debian keeps them in ports\.conf/);
    const same = translateApacheConfig(join(dir, 'same.conf'));
    assert.deepEqual(
      same.config.host?.map((h) => h.addresses),
      [undefined, undefined],
      'every connection reaches both: names alone tell them apart',
    );
    const none = translateApacheConfig(join(dir, 'none.conf'));
    assert.equal(none.config.listen, undefined);
    const { loadApacheConfig } = await import('../src/config/apache-file.js');
    assert.throws(
      () => loadApacheConfig(join(dir, 'none.conf')),
      (err: unknown) => err instanceof ConfigError && err.code === ApacheErrorCode.NO_LISTEN && /ports\.conf/.test(err.message),
    );
    assert.deepEqual(loadApacheConfig(join(dir, 'none.conf'), [], { listenGiven: true }).config.listen.length, 1);
    const named = translateError(join(dir, 'name.conf'));
    assert.equal(named.code, ApacheErrorCode.BAD_VALUE);
    assert.equal(named.source?.line, 2);
  });

  test('what Apache reads from the folders served: .htaccess files (AllowOverride) and symbolic links (Options) are refused where they exist', () => {
    const dir = fixture({ 'site/a.txt': '', 'site/guarded/.htaccess': 'Require all denied\n', 'plain/a.txt': '' });
    symlinkSync(join(dir, 'site', 'a.txt'), join(dir, 'site', 'link.txt'));
    const text = [
      'Listen 80',
      'Alias /site/ DIR/site/',
      'Alias /plain/ DIR/plain/',
      '<Directory DIR/site>',
      '    Options -FollowSymLinks',
      '    AllowOverride AuthConfig',
      '    Require all granted',
      '</Directory>',
      '<Directory DIR/plain>',
      '    Options None',
      '    AllowOverride All',
      '    Require all granted',
      '</Directory>',
    ]
      .join('\n')
      .replaceAll('DIR', dir);
    const file = tmp.file(join(`case${counter}`, 'a.conf'), text);
    const r = translateApacheConfig(file);
    const refused = r.notes.filter((n) => n.refused);
    assert.deepEqual(
      refused.map((n) => n.line),
      [6, 5],
    );
    assert.match(refused[0]?.message ?? '', /guarded\/\.htaccess change how Apache serves Alias \/site/);
    assert.match(refused[1]?.message ?? '', /refuse symbolic links such as .*link\.txt/);
  });
});
