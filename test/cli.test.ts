import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { INPUT_OPTIONS } from '../src/cli/config-input.js';
import { tempDir } from './helpers/tmp.js';
import { ROOT, runCli } from './helpers/wsgi-host.js';

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
    // Every flag serve takes, not only the ones listed above.
    for (const name of Object.keys(INPUT_OPTIONS)) {
      assert.ok(serve.stdout.includes(`--${name} `), `serve --help documents --${name}`);
    }
    const viaHelp = await runCli(['help', 'serve']);
    assert.equal(viaHelp.code, 0);
    assert.equal(viaHelp.stdout, serve.stdout);
  });

  test('help COMMAND is COMMAND --help, for every command the top help lists', async () => {
    const top = await runCli(['--help']);
    const commands = [...top.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1] as string).filter((c) => c !== 'help');
    assert.deepEqual([...new Set(commands)].sort(), ['check', 'config', 'reload', 'serve', 'status']);
    for (const c of new Set(commands)) {
      const direct = await runCli([c, '--help']);
      assert.equal(direct.code, 0, `${c} --help`);
      assert.match(direct.stdout, new RegExp(`^Usage: wsgi-host ${c}`), `${c} --help`);
      assert.equal((await runCli(['help', c])).stdout, direct.stdout, `help ${c}`);
    }
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
    assert.match(r.stderr, /fix: Give --threads a number from 1 to 1024/);
    const big = await runCli(['serve', app, '--port', '70000']);
    assert.equal(big.code, 2);
    assert.match(big.stderr, /\[CONFIG_BAD_NUMBER\]: --port 70000 is out of range\n {2}fix: Give --port a number from 0 to 65535/);
  });

  test('--log-level and --log-format take the values the [log] table takes', async () => {
    const bad = await runCli(['serve', app, '--log-level', 'loud']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /\[CLI_BAD_FLAG\]: --log-level 'loud' is not a level\n {2}fix: Use debug, info, warn or error/);
    const ok = await runCli(['config', 'print', app, '--log-level', 'debug', '--log-format', 'auto']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^level = "debug"$/m);
    assert.match(ok.stdout, /^format = "auto"$/m);
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
    assert.equal(r.code, 0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(r.stdout, `wsgi-host ${pkg.version}\n`);
  });
});
