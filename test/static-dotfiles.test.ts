import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dotfileStatus } from '../src/http/static-files.js';
import { request } from './helpers/http.js';
import { tempDir } from './helpers/tmp.js';
import { WsgiHost } from './helpers/wsgi-host.js';

describe('static aliases: dotfiles are not served by default; If-Match and If-Unmodified-Since are honoured', () => {
  const t = tempDir();
  let host: WsgiHost;
  const MTIME = new Date('2024-01-02T03:04:05Z');

  before(async () => {
    for (const [rel, text] of [
      ['www/.env', 'SECRET_KEY=env'],
      ['www/.git/config', '[core] secret'],
      ['www/.htaccess', 'Require all denied'],
      ['www/.htpasswd', 'user:hash'],
      ['www/sub/.hidden', 'hidden'],
      ['www/.well-known/acme-challenge/token', 'acme'],
      ['www/page.txt', 'page'],
    ] as const) {
      t.file(rel, text);
    }
    utimesSync(join(t.dir, 'www/page.txt'), MTIME, MTIME);
    t.file(
      'site.toml',
      `listen = ["127.0.0.1:0"]
[[static]]
path = "/deny"
directory = "www"
[[static]]
path = "/hide"
directory = "www"
dotfiles = "hide"
[[static]]
path = "/allow"
directory = "www"
dotfiles = "allow"
`,
    );
    host = await WsgiHost.serve(['-c', join(t.dir, 'site.toml')], { cwd: t.dir });
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  const status = async (path: string, headers: Record<string, string> = {}): Promise<number> => (await request(`${host.url}${path}`, { headers })).status;

  test('9: by default (dotfiles = "deny") .env, .git/config, .htaccess and dotfiles in folders are 403; .well-known is served', async () => {
    for (const p of ['/deny/.env', '/deny/.git/config', '/deny/.git/', '/deny/.htaccess', '/deny/.htpasswd', '/deny/sub/.hidden']) {
      const r = await request(`${host.url}${p}`);
      assert.equal(r.status, 403, p);
      assert.doesNotMatch(r.text, /secret|SECRET|hash|Require/, p);
    }
    assert.equal(await status('/deny/.well-known/acme-challenge/token'), 200);
    assert.equal(await status('/deny/page.txt'), 200);
    // Encoded dots are the same names.
    assert.equal(await status('/deny/%2eenv'), 403);
  });

  test('dotfiles = "hide": 404; "allow": served, but .ht* stays 403 (as Debian\'s Apache has it)', async () => {
    assert.equal(await status('/hide/.env'), 404);
    assert.equal(await status('/hide/.git/config'), 404);
    assert.equal(await status('/hide/.htaccess'), 403);
    assert.equal((await request(`${host.url}/allow/.env`)).text, 'SECRET_KEY=env');
    assert.equal(await status('/allow/.git/config'), 200);
    assert.equal(await status('/allow/.htaccess'), 403);
    assert.equal(await status('/allow/.HTpasswd'), 403);
  });

  test('9: If-Match: a strong match or * serves, anything else is 412', async () => {
    const etag = (await request(`${host.url}/deny/page.txt`)).headers.etag as string;
    assert.match(etag, /^"/);
    assert.equal(await status('/deny/page.txt', { 'If-Match': etag }), 200);
    assert.equal(await status('/deny/page.txt', { 'If-Match': `"other", ${etag}` }), 200);
    assert.equal(await status('/deny/page.txt', { 'If-Match': '*' }), 200);
    assert.equal(await status('/deny/page.txt', { 'If-Match': '"other"' }), 412);
    assert.equal(await status('/deny/page.txt', { 'If-Match': `W/${etag}` }), 412, 'a weak tag never matches strongly');
  });

  test('9: If-Unmodified-Since: 412 when the file changed after the date; ignored when If-Match is present or the date is invalid', async () => {
    const before = new Date(MTIME.getTime() - 86_400_000).toUTCString();
    const after = new Date(MTIME.getTime() + 86_400_000).toUTCString();
    assert.equal(await status('/deny/page.txt', { 'If-Unmodified-Since': before }), 412);
    assert.equal(await status('/deny/page.txt', { 'If-Unmodified-Since': MTIME.toUTCString() }), 200);
    assert.equal(await status('/deny/page.txt', { 'If-Unmodified-Since': after }), 200);
    assert.equal(await status('/deny/page.txt', { 'If-Unmodified-Since': 'not a date' }), 200);
    assert.equal(await status('/deny/page.txt', { 'If-Unmodified-Since': before, 'If-Match': '*' }), 200);
    const r = await request(`${host.url}/deny/page.txt`, { headers: { 'If-Unmodified-Since': before, Range: 'bytes=0-1' } });
    assert.equal(r.status, 412, 'preconditions come before ranges');
  });

  test('the policy as a function: every segment counts, .well-known is exempt', () => {
    assert.equal(dotfileStatus(['a', 'b.txt'], 'deny'), undefined);
    assert.equal(dotfileStatus(['.git', 'config'], 'deny'), 403);
    assert.equal(dotfileStatus(['.git', 'config'], 'hide'), 404);
    assert.equal(dotfileStatus(['.git', '.htaccess'], 'hide'), 403);
    assert.equal(dotfileStatus(['.well-known', 'x'], 'deny'), undefined);
    assert.equal(dotfileStatus(['.well-known', '.env'], 'deny'), 403);
    assert.equal(dotfileStatus(['x', '.htaccess'], 'allow'), 403);
  });
});

describe('an Apache Alias denies dotfiles too', () => {
  const t = tempDir();
  after(() => t.cleanup());

  test('Alias /static dir: .env is 403, files are served', async () => {
    t.file('static/.env', 'SECRET');
    t.file('static/app.css', 'body{}');
    const conf = t.file('site.conf', `Listen 127.0.0.1:0\nAlias /static ${join(t.dir, 'static')}\n`);
    const host = await WsgiHost.serve(['--apache', conf], { cwd: t.dir });
    try {
      assert.equal((await request(`${host.url}/static/.env`)).status, 403);
      assert.equal((await request(`${host.url}/static/app.css`)).text, 'body{}');
    } finally {
      await host.stop();
    }
  });
});
