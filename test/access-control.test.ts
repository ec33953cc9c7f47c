import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from './helpers/apache.js';
import { rawHttp } from './helpers/raw-http.js';
import { tempDir } from './helpers/tmp.js';
import { WsgiHost } from './helpers/wsgi-host.js';

/**
 * Access rules and virtual hosts by address written in wsgi-host.toml (the model an Apache
 * configuration is translated into): allow-lists and deny-lists by address and network, a folder
 * closed to all, a host reachable on one address only. Clients come from 127.0.0.1 and 127.0.0.2.
 */

const APP = `def application(environ, start_response):
    body = (environ["SCRIPT_NAME"] + "|" + environ["PATH_INFO"]).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
`;

describe('access rules and host addresses in wsgi-host.toml', () => {
  const t = tempDir();
  let host: WsgiHost;
  let publicPort: number;
  let internalPort: number;

  before(async () => {
    publicPort = await freePort();
    internalPort = await freePort();
    t.file('app.wsgi', APP);
    t.file('files/open.txt', 'open\n');
    t.file('files/closed/secret.txt', 'secret\n');
    const config = t.file(
      'site.toml',
      `
listen = ["127.0.0.1:${publicPort}", "127.0.0.2:${publicPort}", "127.0.0.1:${internalPort}"]

[[host]]
server-name = "www.test"
addresses = ["*:${publicPort}"]

[[host.mount]]
path = "/"
script = "app.wsgi"
access = [
  { path = "/office", require = "ip 127.0.0.2" },
  { path = "/blocked", require = { all = ["all granted", "not ip 127.0.0.0/31"] } },
  { path = "/old", compat = ["Order deny,allow", "Deny from all", "Allow from 127.0.0.2"] },
]

[[host.static]]
path = "/files/"
directory = "files"
access = [{ directory = "${t.dir}/files/closed", require = "all denied" }]

[[host]]
server-name = "internal.test"
addresses = ["127.0.0.1:${internalPort}"]

[[host.mount]]
path = "/"
script = "app.wsgi"
access = [{ require = "local" }]
`,
    );
    host = new WsgiHost(['serve', '-c', config, '--log-format', 'json'], { cwd: t.dir });
    await host.waitForLog(/^wsgi-host serving/, 60_000);
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  const get = async (path: string, o: { from?: string; ip?: string; port?: number; host?: string } = {}): Promise<[number, string]> => {
    const r = await rawHttp({
      host: o.ip ?? '127.0.0.1',
      port: o.port ?? publicPort,
      path,
      ...(o.from ? { localAddress: o.from } : {}),
      hostHeader: o.host ?? 'www.test',
    });
    return [r.status, r.body.toString()];
  };

  test('allow-lists, deny-lists by network and Order/Allow/Deny decide per client address', async () => {
    assert.equal((await get('/office'))[0], 403);
    assert.deepEqual(await get('/office/x', { from: '127.0.0.2' }), [200, '|/office/x']);
    assert.equal((await get('/blocked'))[0], 403, '127.0.0.1 is in 127.0.0.0/31');
    assert.equal((await get('/blocked', { from: '127.0.0.2' }))[0], 200);
    assert.equal((await get('/old'))[0], 403);
    assert.equal((await get('/old', { from: '127.0.0.2' }))[0], 200);
    assert.deepEqual(await get('/elsewhere'), [200, '|/elsewhere']);
  });

  test('a folder closed to all is 403, its neighbours are served', async () => {
    assert.deepEqual(await get('/files/open.txt'), [200, 'open\n']);
    assert.equal((await get('/files/closed/secret.txt'))[0], 403);
    assert.equal((await get('/files/closed/secret.txt', { from: '127.0.0.2' }))[0], 403);
    assert.deepEqual(await get('/files'), [200, '|/files'], 'a prefix written with a trailing slash does not take the prefix itself');
  });

  test('a host declared for one address is reached there only, whatever the Host header', async () => {
    assert.deepEqual(await get('/x', { host: 'internal.test' }), [200, '|/x'], 'on the public port: the public host');
    assert.equal((await get('/office', { host: 'internal.test' }))[0], 403, "the public host's rules apply");
    assert.deepEqual(
      await get('/office', { port: internalPort, host: 'www.test' }),
      [200, '|/office'],
      'on the internal address: the internal host, whose rule is Require local',
    );
  });
});
