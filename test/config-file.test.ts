import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'smol-toml';
import { makeVenv, sitePackages } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { ROOT, runCli } from './helpers/wsgi-host.js';

describe('wsgi-host.toml: every bad input is refused with its own code, file:line and fix', () => {
  const t = tempDir();
  let venv: string;
  const good = (extra = '', groupExtra = ''): string => `
listen = ["127.0.0.1:0"]
${extra}
[[group]]
name = "site"
python-home = "venv"
processes = 2
${groupExtra}

[[mount]]
path = "/"
script = "app.wsgi"
group = "site"
`;

  before(() => {
    venv = makeVenv(join(t.dir, 'venv'));
    t.file('app.wsgi', 'def application(e, s):\n    s("200 OK", [])\n    return [b"ok"]\n');
  });
  after(() => t.cleanup());

  async function refused(name: string, text: string, code: string): Promise<string> {
    const file = t.file(name, text);
    const r = await runCli(['serve', '-c', file], { cwd: t.dir, timeoutMs: 30_000 });
    assert.notEqual(r.code, 0, `${name} must not start`);
    assert.doesNotMatch(r.stderr, /serving http/);
    assert.match(r.stderr, new RegExp(`\\[${code}\\]`), r.stderr);
    return r.stderr;
  }

  test('python-home is the executable / a site-packages folder / has no interpreter / is missing', async () => {
    let err = await refused('exe.toml', good().replace('python-home = "venv"', 'python-home = "venv/bin/python"'), 'PYTHON_HOME_IS_EXECUTABLE');
    assert.match(err, /exe\.toml:6 \(group\[0\]\.python-home\): python-home of group 'site'/);
    assert.ok(err.includes(`fix: Use python-home = "${venv}"\n`), err);
    const sp = sitePackages(venv);
    err = await refused('sp.toml', good().replace('python-home = "venv"', `python-home = "${sp}"`), 'PYTHON_HOME_IS_SITE_PACKAGES');
    assert.match(err, /sp\.toml:6/);
    await refused('none.toml', good().replace('python-home = "venv"', `python-home = "${t.dir}"`), 'PYTHON_HOME_NO_INTERPRETER');
    err = await refused('missing.toml', good().replace('python-home = "venv"', 'python-home = "no-such-venv"'), 'PYTHON_HOME_NOT_FOUND');
    assert.match(err, /missing\.toml:6/);
  });

  test('an unknown key, with did-you-mean', async () => {
    const err = await refused('typo.toml', good('', 'threds = 4'), 'CONFIG_UNKNOWN_KEY');
    assert.match(err, /typo\.toml:8 \(group\[0\]\.threds\): unknown key 'group\[0\]\.threds'/);
    assert.match(err, /Did you mean 'group\[0\]\.threads'\?/);
    const camel = await refused('camel.toml', good().replace('python-home', 'pythonHome'), 'CONFIG_UNKNOWN_KEY');
    assert.match(camel, /Did you mean 'python-home'\?/);
  });

  test('a group defined twice', async () => {
    const err = await refused('dup.toml', `${good()}\n[[group]]\nname = "site"\n`, 'CONFIG_DUPLICATE_GROUP');
    assert.match(err, /dup\.toml:16/);
  });

  test('a mount naming a group that does not exist', async () => {
    const err = await refused('nogroup.toml', good().replace('group = "site"', 'group = "stie"'), 'CONFIG_UNKNOWN_GROUP');
    assert.match(err, /nogroup\.toml:13 \(mount\[0\]\.group\)/);
    assert.match(err, /use one of: site/);
  });

  test('a bad number', async () => {
    let err = await refused('nan.toml', good().replace('processes = 2', 'processes = "two"'), 'CONFIG_BAD_NUMBER');
    assert.match(err, /nan\.toml:7 \(group\[0\]\.processes\)/);
    err = await refused('zero.toml', good().replace('processes = 2', 'processes = 0'), 'CONFIG_BAD_NUMBER');
    assert.match(err, /must be at least 1/);
  });

  test('TOML syntax errors and a missing script', async () => {
    const err = await refused('syntax.toml', good().replace('processes = 2', 'processes = '), 'CONFIG_SYNTAX');
    assert.match(err, /syntax\.toml:7/);
    await refused('noscript.toml', good().replace('app.wsgi', 'nope.wsgi'), 'CONFIG_SCRIPT_NOT_FOUND');
  });

  test('config print shows the effective configuration with defaults, as TOML that loads again', async () => {
    const file = t.file('print.toml', good());
    const r = await runCli(['config', 'print', '-c', file], { cwd: t.dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /request-timeout = 60/);
    assert.match(r.stdout, /\[\[group\]\]\nname = "site"/);
    const again = t.file('printed.toml', r.stdout);
    const r2 = await runCli(['config', 'print', '-c', again], { cwd: t.dir });
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(parse(r2.stdout), parse(r.stdout), 'the printed configuration loads into the same configuration');
  });

  test('the JSON Schema is generated from the model, and docs/wsgi-host.schema.json is that schema', async () => {
    const r = await runCli(['config', 'schema']);
    assert.equal(r.code, 0);
    const schema = JSON.parse(r.stdout) as { properties: Record<string, unknown> };
    assert.ok('python-home' in schema.properties);
    assert.ok('default-group' in schema.properties);
    const committed = readFileSync(join(ROOT, 'docs', 'wsgi-host.schema.json'), 'utf8');
    assert.equal(committed, r.stdout, 'docs/wsgi-host.schema.json is out of date: run wsgi-host config schema > docs/wsgi-host.schema.json');
  });

  test('docs/configuration.md documents every key of the model', async () => {
    const schema = JSON.parse((await runCli(['config', 'schema'])).stdout) as Record<string, unknown>;
    const keys = new Set<string>();
    const walk = (node: unknown, userData: boolean): void => {
      if (Array.isArray(node)) {
        for (const n of node) walk(n, userData);
        return;
      }
      if (node === null || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        if (k === 'properties' && !userData) {
          for (const [name, sub] of Object.entries(v as Record<string, unknown>)) {
            keys.add(name);
            walk(sub, name === 'env' || name === 'environ');
          }
        } else walk(v, userData);
      }
    };
    walk(schema, false);
    const doc = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const missing = [...keys].filter((k) => !doc.includes(`\`${k}\``));
    assert.deepEqual(missing, [], 'every key appears in docs/configuration.md');
  });
});
