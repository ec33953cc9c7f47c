import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { INPUT_OPTIONS } from '../src/cli/config-input.js';
import { listenError } from '../src/cli/listen-error.js';
import { tempDir } from './helpers/tmp.js';
import { request } from './helpers/http.js';
import { ROOT, runCli, waitFor, WsgiHost } from './helpers/wsgi-host.js';

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
    for (const flag of [
      '--host',
      '--port',
      '--python-home',
      '--python-path',
      '--processes',
      '--threads',
      '--callable',
      '--mount',
      '--working-directory',
      '--setenv',
    ]) {
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

  test("a negative number is our range error, not the argument parser's text", async () => {
    for (const [flag, range] of [
      ['--threads', '1 to 1024'],
      ['--processes', '1 to 1024'],
      ['--port', '0 to 65535'],
    ] as const) {
      for (const args of [[flag, '-1'], [`${flag}=-1`]]) {
        const r = await runCli(['serve', app, ...args]);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr, `wsgi-host: error [CONFIG_BAD_NUMBER]: ${flag} -1 is out of range\n  fix: Give ${flag} a number from ${range}\n`);
      }
    }
    const noValue = await runCli(['serve', app, '--python-home', '--threads', '2']);
    assert.equal(noValue.code, 2);
    assert.match(noValue.stderr, /\[CLI_BAD_FLAG\]: --python-home needs a value/);
    assert.doesNotMatch(noValue.stderr, /ambiguous|Did you forget/);
  });

  test('help with an unknown command is an error naming the commands (exit 2)', async () => {
    const r = await runCli(['help', 'nope']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /\[CLI_UNKNOWN_COMMAND\]: unknown command 'nope'\n {2}fix: The commands are serve, config, check, reload, status and help/);
    const typo = await runCli(['help', 'chek']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /Did you mean 'check'\?/);
    assert.equal((await runCli(['help'])).code, 0);
  });

  /** serve that cannot listen: exit 1, our code and a fix, never an internal error with a Node stack. */
  const cannotListen = async (args: string[], code: string, message: RegExp): Promise<void> => {
    const r = await runCli(['serve', app, '--log-level', 'warn', ...args], { cwd: t.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`wsgi-host: error \\[${code}\\]: `));
    assert.match(r.stderr, message);
    assert.match(r.stderr, /\n {2}fix: /);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  };

  test('an address this machine does not have (EADDRNOTAVAIL)', async () => {
    await cannotListen(
      ['--host', '192.0.2.1', '--port', '0'],
      'LISTEN_ADDRESS_NOT_AVAILABLE',
      /cannot listen on 192\.0\.2\.1: no network interface of this machine has that address/,
    );
  });

  test('a host name that does not resolve (ENOTFOUND)', async () => {
    await cannotListen(
      ['--host', 'nosuchhost.invalid', '--port', '0'],
      'LISTEN_HOST_NOT_FOUND',
      /cannot listen on 'nosuchhost\.invalid': the host name does not resolve/,
    );
  });

  test('a port in use (EADDRINUSE)', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      await cannotListen(
        ['--port', String(port)],
        'LISTEN_ADDRESS_IN_USE',
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use`),
      );
    } finally {
      busy.close();
    }
  });

  test('a low port without the privilege (EACCES): the real error of an unprivileged listen, explained', () => {
    // The system's own error, from a node process without the privilege (nobody, when we are root).
    const script =
      "require('net').createServer().listen(80, '127.0.0.1').on('error', (e) => { process.stdout.write(JSON.stringify({ code: e.code, syscall: e.syscall, address: e.address, port: e.port, message: e.message })); process.exit(0); }).on('listening', () => process.exit(3));";
    const r = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
      cwd: '/',
      ...(process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}),
    });
    assert.equal(r.status, 0, `node could listen on port 80 without privilege? ${r.stderr}`);
    const raw = JSON.parse(r.stdout) as Record<string, unknown>;
    const err = listenError(Object.assign(new Error(String(raw.message)), raw));
    assert.ok(err, `mapped: ${r.stdout}`);
    assert.equal(err.code, 'LISTEN_PERMISSION_DENIED');
    assert.match(err.message, /^cannot listen on 127\.0\.0\.1:80: permission denied \(ports below 1024 need root or the CAP_NET_BIND_SERVICE capability\)$/);
    assert.match(err.hint ?? '', /--port 8000/);
  });

  test("the startup line names the URL that answers: the mount's prefix; several mounts and hosts are listed", async () => {
    const one = await WsgiHost.serve([app, '--mount', '/cal'], { cwd: t.dir });
    try {
      const lines = one.logs.filter((l) => String(l.msg).startsWith('wsgi-host serving ')).map((l) => String(l.msg));
      assert.deepEqual(lines, [`wsgi-host serving ${one.url}/cal/`]);
      assert.equal((await request(`${one.url}/cal/`)).status, 200);
    } finally {
      await one.stop();
    }
    t.file('static/a.txt', 'a');
    const config = t.file(
      'several.toml',
      `listen = ["127.0.0.1:0"]\n[[mount]]\npath = "/blog"\nscript = "app.wsgi"\n[[static]]\npath = "/static"\ndirectory = "static"\n[[host]]\nserver-name = "shop.test"\n  [[host.mount]]\n  path = "/"\n  script = "app.wsgi"\n`,
    );
    const several = await WsgiHost.serve(['-c', config], { cwd: t.dir });
    try {
      const port = new URL(several.url).port;
      const serving = (): string[] => several.logs.filter((l) => String(l.msg).startsWith('wsgi-host serving ')).map((l) => String(l.msg));
      // serve() returns at the first line; the others follow it at once.
      await waitFor(() => serving().length >= 3, 5000, 'the three startup lines');
      const lines = serving();
      assert.deepEqual(lines, [
        `wsgi-host serving ${several.url}/blog/ (group (default))`,
        `wsgi-host serving ${several.url}/static/ (static files from ${join(t.dir, 'static')})`,
        `wsgi-host serving http://shop.test:${port}/ (group (default); virtual host shop.test on ${several.url})`,
      ]);
      assert.equal((await request(`${several.url}/blog/`)).status, 200);
      assert.equal((await request(`${several.url}/`, { headers: { Host: `shop.test:${port}` } })).status, 200);
    } finally {
      await several.stop();
    }
  });
});
