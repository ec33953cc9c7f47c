import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from './helpers/node-test.js';
import { tempDir } from './helpers/tmp.js';
import { ROOT } from './helpers/wsgi-host.js';

// The worker program comes from the same install as the front end; an install whose two halves
// disagree (worker/ from one version, dist/ from another) must say so instead of misbehaving.
describe('the worker program', () => {
  const t = tempDir();
  after(() => t.cleanup());

  test('a worker that speaks another protocol version is refused at startup, and the log says why', () => {
    const pkg = join(t.dir, 'wsgi-host');
    for (const part of ['package.json', 'dist/src', 'worker/boot.py', 'worker/wsgi_host_worker'])
      cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const wire = join(pkg, 'worker', 'wsgi_host_worker', 'wire.py');
    const source = readFileSync(wire, 'utf8');
    const current = /^PROTOCOL_VERSION = (\d+)$/m.exec(source);
    assert.ok(current, 'wire.py names PROTOCOL_VERSION');
    const other = Number(current[1]) + 1;
    writeFileSync(wire, source.replace(/^PROTOCOL_VERSION = \d+$/m, `PROTOCOL_VERSION = ${other}`));
    const r = spawnSync(process.execPath, [join(pkg, 'dist', 'src', 'cli', 'main.js'), 'serve', join(ROOT, 'examples', 'hello', 'hello.wsgi'), '--port', '0'], {
      cwd: t.dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const out = r.stdout + r.stderr;
    assert.notEqual(r.status, 0, out);
    assert.match(out, new RegExp(`the worker speaks protocol version ${other}, this front end speaks version ${current[1]}`));
    assert.match(out, /reinstall wsgi-host/);
    assert.match(out, /WORKER_START_FAILED/);
  });
});
