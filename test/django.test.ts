import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from './helpers/node-test.js';
import { request, type Response } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { runCli, WsgiHost } from './helpers/wsgi-host.js';
import { Cookies, copyExample, debianPython, multipart, run } from './fixtures/real-apps.js';

/**
 * examples/django as its README does it: a venv of Debian's python3 (Django from python3-django),
 * migrate, a superuser, collectstatic, `wsgi-host check`, then `wsgi-host serve -c wsgi-host.toml`,
 * driven over real HTTP as a browser would.
 */
const deb = debianPython(['django'], ['python3-django']);
const USER = 'admin';
const PASSWORD = 'correct-horse-battery-staple';
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The value of the hidden csrfmiddlewaretoken input of a Django form. */
function csrfToken(html: string): string {
  const m = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html);
  assert.ok(m, `a CSRF token in the form:\n${html.slice(0, 2000)}`);
  return m[1] as string;
}

/** Every file under dir (relative paths); none when dir does not exist. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => statSync(join(dir, p)).isFile());
}

describe('examples/django under wsgi-host: admin login, static files, uploads', { skip: deb.skip }, () => {
  const t = tempDir('wsgi-host-django-');
  const site = join(t.dir, 'django');
  let host: WsgiHost | undefined;
  let checkOutput = '';

  before(async () => {
    assert.ok(deb.python, deb.missing);
    copyExample('django', site);
    makeVenv(join(site, 'venv'), { python: deb.python.path, systemSitePackages: true });
    const python = join(site, 'venv', 'bin', 'python');
    await run(python, ['manage.py', 'migrate', '--noinput'], { cwd: site });
    await run(python, ['manage.py', 'createsuperuser', '--noinput', '--username', USER, '--email', 'admin@example.com'], {
      cwd: site,
      env: { DJANGO_SUPERUSER_PASSWORD: PASSWORD },
    });
    await run(python, ['manage.py', 'collectstatic', '--noinput'], { cwd: site });
    const check = await runCli(['check', '-c', 'wsgi-host.toml'], { cwd: site, timeoutMs: 90_000 });
    checkOutput = check.stdout + check.stderr;
    assert.equal(check.code, 0, `wsgi-host check -c wsgi-host.toml:\n${checkOutput}`);
    host = await WsgiHost.serve(['-c', 'wsgi-host.toml'], { cwd: site, timeoutMs: 90_000 });
  });

  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  test('wsgi-host check finds the venv, the project on python-path and the application', () => {
    assert.match(checkOutput, /python-home:\s+(\S+)/);
    assert.equal(/python-home:\s+(\S+)/.exec(checkOutput)?.[1], join(site, 'venv'));
    assert.match(checkOutput, /mysite\/wsgi\.py \(callable application\): imports, callable found/);
    assert.match(checkOutput, /0 error\(s\), 0 warning\(s\)/);
  });

  test('admin login over HTTP: login page, POST with the CSRF cookie and token, redirect, admin index', async () => {
    const u = host?.url as string;
    const jar = new Cookies();
    const get = async (path: string): Promise<Response> => {
      const r = await request(`${u}${path}`, { headers: { Cookie: jar.header() } });
      jar.update(r.headers);
      return r;
    };

    const anonymous = await get('/admin/');
    assert.equal(anonymous.status, 302);
    assert.equal(anonymous.headers.location, '/admin/login/?next=/admin/');

    const page = await get('/admin/login/?next=/admin/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'] ?? '', /^text\/html/);
    const csrfCookie = jar.get('csrftoken');
    assert.ok(csrfCookie, `a csrftoken cookie; Set-Cookie: ${String(page.headers['set-cookie'])}`);
    const token = csrfToken(page.text);

    const post = async (fields: Record<string, string>, withCookie = true): Promise<Response> => {
      const r = await request(`${u}/admin/login/?next=/admin/`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(withCookie ? { Cookie: jar.header() } : {}) },
        body: new URLSearchParams(fields).toString(),
      });
      if (withCookie) jar.update(r.headers);
      return r;
    };

    // CSRF is enforced: the same form without the cookie is refused.
    const noCookie = await post({ csrfmiddlewaretoken: token, username: USER, password: PASSWORD, next: '/admin/' }, false);
    assert.equal(noCookie.status, 403, 'a POST without the CSRF cookie is refused');
    assert.match(noCookie.text, /CSRF/);

    const wrong = await post({ csrfmiddlewaretoken: token, username: USER, password: 'wrong', next: '/admin/' });
    assert.equal(wrong.status, 200);
    assert.match(wrong.text, /Please enter the correct username and password/);

    const login = await post({ csrfmiddlewaretoken: csrfToken(wrong.text), username: USER, password: PASSWORD, next: '/admin/' });
    assert.equal(login.status, 302, `login: ${login.status} ${login.text.slice(0, 500)}`);
    assert.equal(login.headers.location, '/admin/');
    assert.ok(jar.get('sessionid'), 'a session cookie after logging in');

    const index = await get('/admin/');
    assert.equal(index.status, 200);
    assert.match(index.text, /<title>Site administration \| Django site admin<\/title>/);
    assert.match(index.text, /href="\/admin\/documents\/document\/"/, 'the example model is in the admin');
    assert.match(index.text, new RegExp(`Welcome,\\s*<strong>${USER}</strong>`));

    const list = await get('/admin/documents/document/');
    assert.equal(list.status, 200);
    assert.match(list.text, /Select document to change/);
  });

  test('static files (the admin CSS, the app CSS) are served by the static alias from collectstatic, with their Content-Type', async () => {
    const u = host?.url as string;
    const login = await request(`${u}/admin/login/`);
    assert.match(login.text, /href="\/static\/admin\/css\/base\.css"/, 'the admin links its CSS under STATIC_URL');
    for (const [path, type] of [
      ['admin/css/base.css', /^text\/css/],
      ['admin/js/core.js', /^(text|application)\/javascript/],
      ['documents/style.css', /^text\/css/],
    ] as const) {
      const r = await request(`${u}/static/${path}`);
      assert.equal(r.status, 200, path);
      assert.match(r.headers['content-type'] ?? '', type, `${path}: ${r.headers['content-type']}`);
      assert.deepEqual(r.body, readFileSync(join(site, 'staticfiles', path)), `${path} is the collected file`);
      assert.ok(r.headers.etag, `${path} has an ETag (served as a static file, not by Django)`);
      const again = await request(`${u}/static/${path}`, { headers: { 'If-None-Match': r.headers.etag as string } });
      assert.equal(again.status, 304, path);
    }
    const missing = await request(`${u}/static/admin/css/nope.css`);
    assert.equal(missing.status, 404);
  });

  test('a 5 MB file uploaded through the form with CSRF is stored intact and served from /media/', async () => {
    const u = host?.url as string;
    const jar = new Cookies();
    const form = await request(`${u}/`);
    jar.update(form.headers);
    assert.equal(form.status, 200);
    assert.match(form.text, /enctype="multipart\/form-data"/);
    assert.match(form.text, /No documents yet/);
    const data = randomBytes(5 * 1024 * 1024);
    const { body, contentType } = multipart([
      ['csrfmiddlewaretoken', csrfToken(form.text)],
      ['title', 'Five megabytes'],
      ['file', { filename: 'random.bin', contentType: 'application/octet-stream', data }],
    ]);
    const posted = await request(`${u}/`, {
      method: 'POST',
      headers: { 'Content-Type': contentType, Cookie: jar.header() },
      body,
      timeoutMs: 120_000,
    });
    assert.equal(posted.status, 302, `upload: ${posted.status} ${posted.text.slice(0, 1000)}`);
    assert.equal(posted.headers.location, '/');

    const stored = filesUnder(join(site, 'media'));
    assert.equal(stored.length, 1, `one stored file: ${stored.join(', ')}`);
    assert.match(stored[0] as string, /^documents\/\d{4}\/\d{2}\/random(_\w+)?\.bin$/);
    const onDisk = readFileSync(join(site, 'media', stored[0] as string));
    assert.equal(onDisk.length, data.length);
    assert.equal(sha256(onDisk), sha256(data), 'the stored file is the uploaded one');

    const listing = await request(`${u}/`);
    const link = /<a href="(\/media\/[^"]+)">Five megabytes<\/a>/.exec(listing.text);
    assert.ok(link, `the listing links the upload:\n${listing.text}`);
    assert.equal(link[1], `/media/${stored[0]}`);
    const served = await request(`${u}${link[1]}`, { timeoutMs: 60_000 });
    assert.equal(served.status, 200);
    assert.equal(served.headers['content-length'], String(data.length));
    assert.equal(sha256(served.body), sha256(data), 'served back intact through the /media alias');

    // A POST without the CSRF token is refused and stores nothing.
    const forged = multipart([
      ['title', 'forged'],
      ['file', { filename: 'forged.bin', contentType: 'application/octet-stream', data: randomBytes(1000) }],
    ]);
    const refused = await request(`${u}/`, { method: 'POST', headers: { 'Content-Type': forged.contentType, Cookie: jar.header() }, body: forged.body });
    assert.equal(refused.status, 403);
    assert.equal(filesUnder(join(site, 'media')).length, 1);
  });

  test('the Apache configuration (apache-site.conf) serves the same site', async () => {
    const apache = await WsgiHost.serve(['--apache', 'apache-site.conf'], { cwd: site, timeoutMs: 90_000 });
    try {
      const login = await request(`${apache.url}/admin/login/`);
      assert.equal(login.status, 200);
      assert.match(login.text, /name="csrfmiddlewaretoken"/);
      const css = await request(`${apache.url}/static/admin/css/base.css`);
      assert.equal(css.status, 200);
      assert.match(css.headers['content-type'] ?? '', /^text\/css/);
      const index = await request(`${apache.url}/`);
      assert.equal(index.status, 200);
      assert.match(index.text, /Five megabytes|No documents yet/);
    } finally {
      await apache.stop();
    }
  });
});
