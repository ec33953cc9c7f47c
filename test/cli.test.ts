import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { tempDir } from './helpers/tmp.js';
import { runCli } from './helpers/wsgi-host.js';

describe('the command line', () => {
  const t = tempDir();
  const app = t.file('app.wsgi', 'def application(e, s):\n    s("200 OK", [])\n    return [b""]\n');
  after(() => t.cleanup());

  test('--help for the program and for serve', async () => {
    const top = await runCli(['--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /Usage: wsgi-host COMMAND/);
    const serve = await runCli(['serve', '--help']);
    assert.equal(serve.code, 0);
    for (const flag of ['--host', '--port', '--python-home', '--python-path', '--processes', '--threads', '--callable', '--mount', '--working-directory', '--setenv']) {
      assert.ok(serve.stdout.includes(flag), `serve --help documents ${flag}`);
    }
    const viaHelp = await runCli(['help', 'serve']);
    assert.equal(viaHelp.stdout, serve.stdout);
  });

  test('an unknown flag is an error that suggests the intended one', async () => {
    const r = await runCli(['serve', app, '--proceses', '2']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\[CLI_BAD_FLAG\].*unknown flag --proceses/);
    assert.match(r.stderr, /Did you mean --processes\?/);
  });

  test('a bad number names the flag and the range', async () => {
    const r = await runCli(['serve', app, '--threads', 'many']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\[CONFIG_BAD_NUMBER\]: --threads 'many' is not a whole number/);
  });

  test('a missing script, and an unknown command', async () => {
    const r = await runCli(['serve', 'missing.wsgi']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\[CONFIG_SCRIPT_NOT_FOUND\]/);
    const u = await runCli(['serv']);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /unknown command 'serv'/);
  });

  test('--version', async () => {
    const r = await runCli(['--version']);
    assert.match(r.stdout, /^wsgi-host \d+\.\d+\.\d+/);
  });
});
