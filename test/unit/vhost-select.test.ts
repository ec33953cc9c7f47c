import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Router } from '../../src/http/router.js';
import { MAIN_SERVER, VhostTable } from '../../src/http/vhost-select.js';
import { parseVhostAddress } from '../../src/util/host-port.js';

/**
 * Virtual host selection on its own: by the connection's local address and port first, then by
 * name within that set, as Apache 2.4 does (the same layout is checked against real Apache in
 * apache-differential.test.ts).
 */

// The layout: 127.0.0.2 on any port; two name-based hosts on *:8090; a _default_ host on 8091.
const table = new VhostTable([
  { names: ['ip2.test'], addresses: ['127.0.0.2'] },
  { names: ['a.test'], addresses: ['*:8090'] },
  { names: ['b.test', '*.b.test'], addresses: ['*:8090'] },
  { names: ['d.test'], addresses: ['_default_:8091'] },
]);

describe('virtual host selection', () => {
  test('an address with its own host takes the connection whatever the Host header says', () => {
    assert.equal(table.select('127.0.0.2', 8090, 'b.test'), 0);
    assert.equal(table.select('127.0.0.2', 8091, 'd.test'), 0, 'an address without a port covers every port');
    assert.equal(table.select('::ffff:127.0.0.2', 8090, undefined), 0, 'a dual-stack socket reports IPv4 as mapped IPv6');
  });

  test('then the hosts of *:port by name; unknown names and no Host go to the first of them', () => {
    assert.equal(table.select('127.0.0.1', 8090, 'a.test'), 1);
    assert.equal(table.select('127.0.0.1', 8090, 'B.TEST:8090'), 2);
    assert.equal(table.select('127.0.0.1', 8090, 'x.b.test.'), 2, 'wildcard alias; trailing dot ignored');
    assert.equal(table.select('127.0.0.1', 8090, 'none.test'), 1);
    assert.equal(table.select('127.0.0.1', 8090, undefined), 1);
    assert.equal(table.select('127.0.0.1', 8091, 'a.test'), 3, 'a host of another port is never reached by name');
  });

  test('a connection no host is declared for goes to the main server', () => {
    assert.equal(table.select('127.0.0.1', 9999, 'a.test'), MAIN_SERVER);
  });

  test('a host marked default answers its set; hosts without addresses answer every connection', () => {
    const t = new VhostTable([{ names: ['one.test'] }, { names: ['two.test'], default: true }]);
    assert.equal(t.select('10.0.0.1', 80, 'other.test'), 1);
    assert.equal(t.select('10.0.0.1', 81, 'one.test'), 0);
  });

  test('addresses as <VirtualHost> writes them', () => {
    assert.deepEqual(parseVhostAddress('*:80'), { ip: '*', port: 80 });
    assert.deepEqual(parseVhostAddress('_default_:*'), { ip: '*', port: '*' });
    assert.deepEqual(parseVhostAddress('127.0.0.1'), { ip: '127.0.0.1', port: '*' });
    assert.deepEqual(parseVhostAddress('[::1]:8443'), { ip: '::1', port: 8443 });
    assert.deepEqual(parseVhostAddress('::1'), { ip: '::1', port: '*' });
    assert.match(String(parseVhostAddress('www.example.com:80')), /not an IP address/);
    assert.match(String(parseVhostAddress('*:99999')), /not a port/);
  });

  test('the router serves the chosen host, the main server with the top-level mounts only', () => {
    const mount = (prefix: string, target: string) => ({ kind: 'app' as const, prefix, target });
    const router = new Router<string>(
      [
        { names: ['internal.test'], addresses: ['127.0.0.1:8080'], mounts: [mount('/admin', 'admin')] },
        { names: ['www.test'], addresses: ['*:80'], mounts: [mount('/', 'site')] },
      ],
      [mount('/health', 'health'), { kind: 'static', prefix: '/static', slash: true, target: 'files' }],
    );
    assert.equal(router.match('www.test', '/admin', '127.0.0.1', 80)?.route.target, 'site', 'the internal host is not reachable on :80 by name');
    assert.equal(router.match('www.test', '/admin', '127.0.0.1', 8080)?.route.target, 'admin');
    assert.equal(router.match('www.test', '/health', '127.0.0.1', 9000)?.route.target, 'health');
    assert.equal(router.match('www.test', '/admin', '127.0.0.1', 9000), undefined);
    assert.equal(router.match('www.test', '/static', '127.0.0.1', 80)?.route.target, 'site', 'Alias /static/ does not take /static');
    assert.equal(router.match('www.test', '/static/a.css', '127.0.0.1', 80)?.route.target, 'files');
  });
});
