import assert from 'node:assert/strict';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeVenv, sitePackages } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { runCli } from './helpers/wsgi-host.js';

const OK_APP = 'def application(e, s):\n    s("200 OK", [])\n    return [b"ok"]\n';

interface Report {
  groups: {
    label: string;
    interpreter: string | null;
    python: { version: string; prefix: string; base_prefix: string; site_packages: string[]; path: string[] } | null;
    apps: { target: string; imports?: boolean; error?: string }[];
  }[];
  problems: { severity: string; code: string; message: string; where?: string; hint?: string }[];
}

describe('wsgi-host check finds the traps mod_wsgi users fall into', () => {
  const t = tempDir();
  let venv: string;
  let report: Report;
  let exitCode: number | null;
  let human: string;

  before(async () => {
    venv = makeVenv(join(t.dir, 'venv'));
    const sp = sitePackages(venv);
    t.file('ok.wsgi', OK_APP);
    t.file('afile.txt', 'not a venv');
    t.file(
      'activate.wsgi',
      `activate_this = "/srv/old-venv/bin/activate_this.py"\ntry:\n    exec(open(activate_this).read(), dict(__file__=activate_this))\nexcept IOError:\n    pass\n${OK_APP}`,
    );
    t.file('sitedir.wsgi', `import site, sys\nprev_sys_path = list(sys.path)\nsite.addsitedir("/srv/old-venv/lib/python3.5/site-packages")\n${OK_APP}`);
    t.file('broken.wsgi', `import not_installed_anywhere\n${OK_APP}`);
    mkdirSync(join(t.dir, 'locked'));
    t.file('locked/app.wsgi', OK_APP);
    chmodSync(join(t.dir, 'locked'), 0o700);
    const config = t.file(
      'traps.toml',
      `
listen = ["127.0.0.1:0"]
python-path = ["${sp}"]

[[group]]
name = "exe"
python-home = "venv/bin/python"

[[group]]
name = "sp"
python-home = "${sp}"

[[group]]
name = "file"
python-home = "afile.txt"

[[group]]
name = "unused"
python-home = "venv"

[[group]]
name = "hacks"
python-home = "venv"

[[group]]
name = "locked"
python-home = "venv"
user = "nobody"

[[group]]
name = "broken"
python-home = "venv"

[[mount]]
path = "/"
script = "ok.wsgi"

[[mount]]
path = "/exe"
script = "ok.wsgi"
group = "exe"

[[mount]]
path = "/sp"
script = "ok.wsgi"
group = "sp"

[[mount]]
path = "/file"
script = "ok.wsgi"
group = "file"

[[mount]]
path = "/activate"
script = "activate.wsgi"
group = "hacks"

[[mount]]
path = "/sitedir"
script = "sitedir.wsgi"
group = "hacks"

[[mount]]
path = "/locked"
script = "locked/app.wsgi"
group = "locked"

[[mount]]
path = "/broken"
script = "broken.wsgi"
group = "broken"

[[mount]]
path = "/shadow"
script = "ok.wsgi"

[[host]]
server-name = "h.test"

  [[host.mount]]
  path = "/shadow"
  script = "ok.wsgi"
  group = "hacks"
`,
    );
    const r = await runCli(['check', '-c', config, '--json'], { cwd: t.dir, timeoutMs: 60_000 });
    exitCode = r.code;
    report = JSON.parse(r.stdout) as Report;
    human = (await runCli(['check', '-c', config], { cwd: t.dir, timeoutMs: 60_000 })).stdout;
  });
  after(() => t.cleanup());

  const find = (code: string, text?: RegExp) => {
    const p = report.problems.find((x) => x.code === code && (text === undefined || text.test(`${x.where ?? ''} ${x.message}`)));
    assert.ok(
      p,
      `expected ${code}${text ? ` matching ${text}` : ''}; got:\n${report.problems.map((x) => `${x.code} ${x.where ?? ''} ${x.message}`).join('\n')}`,
    );
    return p;
  };

  test('python-home that is bin/python, a site-packages folder, not a directory', () => {
    assert.match(find('PYTHON_HOME_IS_EXECUTABLE').where ?? '', /traps\.toml:7 \(group\[0\]\.python-home\)/);
    assert.equal(find('PYTHON_HOME_IS_EXECUTABLE').hint, `Use python-home = "${venv}"`);
    assert.equal(find('PYTHON_HOME_IS_SITE_PACKAGES').hint, `Use python-home = "${venv}"`);
    assert.match(find('PYTHON_HOME_NOT_A_DIRECTORY').where ?? '', /traps\.toml:15 \(group\[2\]\.python-home\)/);
  });

  test('python-path naming a version-bound site-packages (suggests python-home)', () => {
    const p = find('CHECK_PYTHON_PATH_SITE_PACKAGES');
    assert.equal(p.hint, `Use python-home = "${venv}" (the environment's top directory) instead`);
    assert.match(p.where ?? '', /traps\.toml:3/);
  });

  test('a script that runs activate_this.py, and one that re-sorts sys.path with site.addsitedir', () => {
    assert.match(find('CHECK_ACTIVATE_THIS').hint ?? '', /set python-home/);
    assert.match(find('CHECK_SYS_PATH_HACK').message, /sitedir\.wsgi/);
  });

  test('a group no mount uses; a mount in the default group although groups exist', () => {
    assert.match(find('CHECK_UNUSED_GROUP').message, /'unused'/);
    assert.match(find('CHECK_UNUSED_GROUP').where ?? '', /traps\.toml:17 \(group\[3\]\)/);
    assert.match(find('CHECK_DEFAULT_GROUP_MOUNT', /mount '\/'/).message, /python-home does not apply/);
  });

  test("files the group's user cannot read", () => {
    assert.match(find('CHECK_UNREADABLE').message, /locked\/app\.wsgi cannot be read by the workers of group locked \(user nobody\)/);
  });

  test('overlapping or shadowed mounts', () => {
    assert.match(find('CHECK_SHADOWED_MOUNT').message, /'\/shadow' is never used in host h\.test/);
    const nested = find('CHECK_NESTED_MOUNT', /'\/exe' is served by group exe and the rest of '\/'/);
    assert.equal(nested.severity, 'info');
    assert.match(nested.where ?? '', /traps\.toml:\d+ \(mount\[1\]\)/);
  });

  test("an application that does not import; each group's interpreter facts", () => {
    assert.match(find('CHECK_APP_IMPORT_FAILED').message, /No module named 'not_installed_anywhere'/);
    const hacks = report.groups.find((g) => g.label === 'hacks');
    assert.equal(hacks?.interpreter, join(venv, 'bin', 'python'));
    assert.equal(hacks?.python?.prefix, venv);
    assert.notEqual(hacks?.python?.base_prefix, venv);
    assert.ok(hacks?.python?.site_packages.some((p) => p.startsWith(venv)));
    assert.ok(hacks?.python?.path.length);
    assert.deepEqual(
      hacks?.apps.map((a) => a.imports),
      [true, true, true],
      'the three scripts of group hacks import',
    );
    assert.equal(exitCode, 1, 'errors make the exit status non-zero');
    assert.match(human, /Group hacks: 1 process\(es\)/);
    assert.match(human, /sys\.base_prefix: .*\(a virtual environment\)/);
    assert.match(human, /-> .*broken\.wsgi .*FAILS: ModuleNotFoundError/);
  });

  test('a clean configuration checks with exit status 0', async () => {
    const clean = t.file(
      'clean.toml',
      `listen = ["127.0.0.1:0"]\n\n[[group]]\nname = "g"\npython-home = "venv"\n\n[[mount]]\npath = "/"\nscript = "ok.wsgi"\ngroup = "g"\n`,
    );
    const r = await runCli(['check', '-c', clean], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\*\/ -> .*ok\.wsgi \(callable application\): imports, callable found/);
    assert.match(r.stdout, /0 error\(s\), 0 warning\(s\)/);
  });

  test('an Apache configuration whose WSGIScriptAlias order makes mod_wsgi choose another mount', async () => {
    const conf = t.file(
      'order.conf',
      `WSGIPythonHome ${venv}\nWSGIApplicationGroup %{GLOBAL}\nWSGIScriptAlias / ${join(t.dir, 'ok.wsgi')}\nWSGIScriptAlias /app ${join(t.dir, 'ok.wsgi')}\n`,
    );
    const r = await runCli(['check', '--apache', conf, '--json'], { cwd: t.dir, timeoutMs: 60_000 });
    const order = (JSON.parse(r.stdout) as Report).problems.find((p) => p.code === 'CHECK_MOUNT_ORDER');
    assert.ok(order, r.stdout);
    assert.equal(order.severity, 'warning');
    assert.match(order.where ?? '', /order\.conf:\d/);
    assert.match(order.message, /\/app/);
  });

  test('Apache directives wsgi-host cannot honour: check lists them all as errors, serve refuses naming each file:line, --accept-apache-differences serves', async () => {
    const conf = t.file(
      'refused.conf',
      [
        'Listen 127.0.0.1:0',
        `WSGIPythonHome ${venv}`,
        `WSGIScriptAlias / ${join(t.dir, 'ok.wsgi')}`,
        '<Location /admin>',
        '    AuthType Basic',
        '    Require valid-user',
        '</Location>',
        'Redirect /old /new',
        'Header set X-Frame-Options DENY',
        '',
      ].join('\n'),
    );
    const r = await runCli(['check', '--apache', conf, '--json'], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stdout);
    const refused = (JSON.parse(r.stdout) as Report).problems.filter((p) => p.code === 'CHECK_APACHE_REFUSED');
    assert.deepEqual(
      refused.map((p) => [p.severity, p.where]),
      [8, 9, 6].map((line) => ['error', `${conf}:${line}`]),
    );
    assert.match(refused[2]?.message ?? '', /Require valid-user .* needs an authenticated user/);
    assert.match(refused[0]?.hint ?? '', /--accept-apache-differences/);
    const serve = await runCli(['serve', '--apache', conf], { cwd: t.dir, timeoutMs: 60_000 });
    assert.notEqual(serve.code, 0);
    assert.match(serve.stderr, /CONFIG_APACHE_REFUSED/);
    for (const line of [6, 8, 9]) assert.match(serve.stderr, new RegExp(`${conf}:${line}: `));
    const accepted = await runCli(['check', '--apache', conf, '--accept-apache-differences', '--json'], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(accepted.code, 0, accepted.stdout);
    const warnings = (JSON.parse(accepted.stdout) as Report).problems.filter(
      (p) => p.code === 'CHECK_APACHE_NOT_HONOURED' && /^(Require valid-user|Redirect|Header) /.test(p.message),
    );
    assert.equal(warnings.length, 3);
  });
});

describe('wsgi-host check reports every error at once, with exit codes as documented', () => {
  const t = tempDir();
  let venv: string;
  before(() => {
    venv = makeVenv(join(t.dir, 'venv'));
    t.file('ok.wsgi', OK_APP);
  });
  after(() => t.cleanup());

  test('three mistakes in one file (a wrong type, a misspelt key, an unknown group) are three findings of one run (exit 1)', async () => {
    const file = t.file(
      'three.toml',
      `listen = ["127.0.0.1:0"]\n\n[[group]]\nname = "web"\npython-home = "venv"\nprocesses = "two"\nthredas = 4\n\n[[mount]]\npath = "/"\nscript = "ok.wsgi"\ngroup = "wbe"\n\n[log]\nlevel = "loud"\n`,
    );
    const r = await runCli(['check', '-c', file, '--json'], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    const problems = (JSON.parse(r.stdout) as Report).problems.filter((p) => p.severity === 'error');
    const found = problems.map((p) => `${p.code} ${(p.where ?? '').replace(`${t.dir}/`, '')}`);
    assert.deepEqual(found.sort(), [
      'CONFIG_BAD_NUMBER three.toml:6 (group[0].processes)',
      'CONFIG_INVALID_VALUE three.toml:15 (log.level)',
      'CONFIG_UNKNOWN_GROUP three.toml:12 (mount[0].group)',
      'CONFIG_UNKNOWN_KEY three.toml:7 (group[0].thredas)',
    ]);
    assert.match(problems.find((p) => p.code === 'CONFIG_UNKNOWN_KEY')?.hint ?? '', /Did you mean 'group\[0\]\.threads'\?/);
    // serve still refuses at the first (exit 2: the configuration given cannot be served).
    const s = await runCli(['serve', '-c', file], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(s.code, 2);
    assert.match(s.stderr, /\[CONFIG_/);
  });

  test('an Apache configuration: every mistake is a finding of one run (a bad option of a WSGIDaemonProcess, a section where Apache refuses it, a missing script, a refused Require); serve refuses at the first', async () => {
    const conf = t.file(
      'mistakes.conf',
      `Listen 127.0.0.1:0\n` +
        `WSGIDaemonProcess one python-home=${venv} processes=abc threads=2\n` +
        `WSGIScriptAlias / ${join(t.dir, 'ok.wsgi')} process-group=one application-group=%{GLOBAL}\n` +
        `WSGIDaemonProcess two python-home=${venv} threads=-4\n` +
        `WSGIScriptAlias /x ${join(t.dir, 'missing.wsgi')} process-group=two application-group=%{GLOBAL}\n` +
        `<Location /private>\n  <VirtualHost *:80>\n  </VirtualHost>\n  Require user bob\n</Location>\n`,
    );
    const r = await runCli(['check', '--apache', conf, '--json'], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    const problems = (JSON.parse(r.stdout) as Report).problems.filter((p) => p.severity === 'error');
    const found = problems.map((p) => `${p.code} ${(p.where ?? '').replace(`${t.dir}/`, '').replace(/ \(.*\)$/, '')}`);
    assert.deepEqual(found.sort(), [
      'CHECK_APACHE_REFUSED mistakes.conf:9',
      'CONFIG_APACHE_BAD_VALUE mistakes.conf:2',
      'CONFIG_APACHE_BAD_VALUE mistakes.conf:4',
      'CONFIG_APACHE_SYNTAX mistakes.conf:7',
      'CONFIG_SCRIPT_NOT_FOUND mistakes.conf:5',
    ]);
    // The group with a bad option still exists (no follow-on 'not defined' error), and its application is checked.
    assert.ok(!problems.some((p) => p.code === 'CONFIG_UNKNOWN_GROUP'), r.stdout);
    const s = await runCli(['serve', '--apache', conf], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(s.code, 2);
    assert.match(s.stderr, /mistakes\.conf:2 .*processes/);
  });

  test('a dropped mount does not shift the lines of the errors after it', async () => {
    const file = t.file(
      'shift.toml',
      `listen = ["127.0.0.1:0"]\n\n[[mount]]\npath = 7\nscript = "ok.wsgi"\n\n[[mount]]\npath = "/b"\nscript = "missing.wsgi"\n`,
    );
    const r = await runCli(['check', '-c', file, '--json'], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    const problems = (JSON.parse(r.stdout) as Report).problems;
    const missing = problems.find((p) => p.code === 'CONFIG_SCRIPT_NOT_FOUND');
    assert.ok(missing, r.stdout);
    assert.match(missing.where ?? '', /\/shift\.toml:9 \(mount\[1\]\.script\)$/);
    assert.ok(
      problems.some((p) => p.code === 'CONFIG_INVALID_VALUE' && /shift\.toml:4/.test(p.where ?? '')),
      r.stdout,
    );
  });

  test('a file that cannot be read or parsed is a finding too (exit 1); a wrong flag is a usage error (exit 2)', async () => {
    const missing = await runCli(['check', '-c', join(t.dir, 'nope.toml')], { cwd: t.dir });
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /ERROR +\[CONFIG_FILE_NOT_FOUND\]/);
    assert.match(missing.stdout, /1 error\(s\)/);
    const syntax = await runCli(['check', '-c', t.file('syntax.toml', 'listen = [\n')], { cwd: t.dir });
    assert.equal(syntax.code, 1);
    assert.match(syntax.stdout, /\[CONFIG_SYNTAX\] \S*syntax\.toml:\d/);
    const flag = await runCli(['check', '-c', join(t.dir, 'nope.toml'), '--bogus'], { cwd: t.dir });
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /\[CLI_BAD_FLAG\]/);
  });

  test('an Apache finding shared by two application groups is printed once, with a fix written as Apache writes it', async () => {
    const conf = t.file(
      'two.conf',
      `Listen 127.0.0.1:0\nWSGIDaemonProcess blog python-home=${join(venv, 'bin', 'python')} processes=1 threads=2\n` +
        `WSGIScriptAlias /one ${join(t.dir, 'ok.wsgi')} process-group=blog application-group=one\n` +
        `WSGIScriptAlias /two ${join(t.dir, 'ok.wsgi')} process-group=blog application-group=two\n`,
    );
    const r = await runCli(['check', '--apache', conf], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    assert.equal(r.stdout.match(/\[PYTHON_HOME_IS_EXECUTABLE\]/g)?.length, 1, r.stdout);
    assert.ok(r.stdout.includes(`fix: Use WSGIDaemonProcess blog python-home=${venv}\n`), r.stdout);
    assert.ok(r.stdout.includes(`WSGIDaemonProcess blog python-home='${join(venv, 'bin', 'python')}' is the Python executable`), r.stdout);
  });

  test('a finding about a command-line application names no bogus location', async () => {
    t.file('needs.wsgi', `import not_installed_anywhere\n${OK_APP}`);
    const r = await runCli(['check', 'needs.wsgi', '--python-home', venv], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /ERROR +\[CHECK_APP_IMPORT_FAILED\] \S+needs\.wsgi \(group \(default\)\) does not load/);
  });
});
