import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AccessRuleError, compilePolicy } from '../../src/access/compile.js';
import { decide, type AccessFacts } from '../../src/access/evaluate.js';
import type { AccessRule } from '../../src/access/policy.js';
import { canonicalAddress, inSubnet, isLocalClient, parseSubnet, type Subnet } from '../../src/util/ip-address.js';

/**
 * The access-control evaluator on its own (no server): Apache 2.4's Require semantics
 * (mod_authz_core, mod_authz_host), its section merge, and mod_access_compat's Order/Allow/Deny.
 * The behaviour of real Apache for the same configurations is checked by apache-differential.test.ts.
 */

const req = (over: Partial<AccessFacts> = {}): AccessFacts => ({ method: 'GET', path: '/', client: '192.0.2.10', server: '127.0.0.1', ...over });
const allowed = (rules: AccessRule[], facts: Partial<AccessFacts> = {}): boolean => decide(compilePolicy(rules), req(facts)).allowed;
const net = (t: string): Subnet => parseSubnet(t) as Subnet;

function compileError(rules: AccessRule[]): AccessRuleError {
  try {
    compilePolicy(rules);
  } catch (err) {
    assert.ok(err instanceof AccessRuleError, String(err));
    return err;
  }
  assert.fail('expected the rules to be refused');
}

describe('addresses and networks as Apache writes them', () => {
  test('full, partial, CIDR, netmask and IPv6 forms; mapped IPv4 clients count as IPv4', () => {
    assert.ok(inSubnet('10.1.2.3', net('10.1.2.3')));
    assert.ok(!inSubnet('10.1.2.4', net('10.1.2.3')));
    assert.ok(inSubnet('10.1.200.3', net('10.1')), 'partial: the first octets');
    assert.ok(inSubnet('10.1.200.3', net('10.1.')));
    assert.ok(!inSubnet('10.2.0.1', net('10.1')));
    assert.ok(inSubnet('172.16.5.5', net('172.16.0.0/12')));
    assert.ok(!inSubnet('172.32.0.1', net('172.16.0.0/12')));
    assert.ok(inSubnet('192.168.7.1', net('192.168.0.0/255.255.0.0')));
    assert.ok(inSubnet('192.168.1.77', net('192.168.1.5/24')), 'host bits are dropped, as apr_ipsubnet_create does');
    assert.ok(inSubnet('2001:db8::42', net('2001:db8::/32')));
    assert.ok(!inSubnet('2001:db9::42', net('2001:db8::/32')));
    assert.ok(inSubnet('::ffff:10.1.2.3', net('10.1.0.0/16')), 'a dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d');
    assert.ok(!inSubnet('10.1.2.3', net('2001:db8::/32')));
    assert.equal(canonicalAddress('::ffff:127.0.0.2'), '127.0.0.2');
    assert.equal(canonicalAddress('0:0:0:0:0:0:0:1'), '::1');
    for (const bad of ['10.1.2.300', '10.0.0.0/33', 'example.com', '10.0.0.0/255.0.0', '::ffff:10.0.0.1', '2001:db8::/129']) {
      assert.equal(typeof parseSubnet(bad), 'string', bad);
    }
  });

  test('Require local: loopback, or the client is the server address itself', () => {
    assert.ok(isLocalClient('127.0.0.5', '10.0.0.1'));
    assert.ok(isLocalClient('::1', '::1'));
    assert.ok(isLocalClient('::ffff:127.0.0.1', '::ffff:127.0.0.1'));
    assert.ok(isLocalClient('10.0.0.1', '10.0.0.1'));
    assert.ok(!isLocalClient('10.0.0.2', '10.0.0.1'));
  });
});

describe('Require (mod_authz_core, mod_authz_host)', () => {
  test('all granted, all denied, ip, local, method; several lines: any one suffices', () => {
    assert.ok(allowed([{ require: 'all granted' }]));
    assert.ok(!allowed([{ require: 'all denied' }]));
    assert.ok(allowed([{ require: 'ip 192.0.2.0/24' }]));
    assert.ok(!allowed([{ require: 'ip 198.51.100.0/24' }]));
    assert.ok(allowed([{ require: ['ip 198.51.100.0/24', 'ip 192.0.2.10'] }]));
    assert.ok(allowed([{ require: 'local' }], { client: '127.0.0.1' }));
    assert.ok(!allowed([{ require: 'local' }]));
    assert.ok(allowed([{ require: 'method GET POST' }], { method: 'POST' }));
    assert.ok(!allowed([{ require: 'method GET POST' }], { method: 'DELETE' }));
    assert.ok(allowed([{ require: 'method GET' }], { method: 'HEAD' }), 'HEAD is GET for access control');
    assert.ok(!allowed([{ require: 'env TRUSTED' }]), 'wsgi-host sets no variable before access control');
    assert.ok(allowed([]), 'no rules: nothing restricts');
  });

  test('<RequireAll> with Require not: a deny-list; <RequireNone>', () => {
    const denyList: AccessRule[] = [{ require: { all: ['all granted', 'not ip 192.0.2.0/28'] } }];
    assert.ok(!allowed(denyList));
    assert.ok(allowed(denyList, { client: '192.0.2.200' }));
    const none: AccessRule[] = [{ require: { all: ['ip 192.0.2.0/24', { none: ['ip 192.0.2.10', 'ip 192.0.2.11'] }] } }];
    assert.ok(!allowed(none));
    assert.ok(allowed(none, { client: '192.0.2.12' }));
    assert.ok(!allowed(none, { client: '203.0.113.1' }));
    // method POST is denied for a GET, so the whole RequireAll is denied.
    assert.ok(!allowed([{ require: { all: ['method POST', 'not ip 10.0.0.0/8'] } }], { method: 'GET' }));
  });

  test('<Limit>/<LimitExcept>: lines for other methods do not count', () => {
    const postOnly: AccessRule[] = [{ require: [{ limit: ['POST', 'PUT'], require: 'ip 10.0.0.0/8' }] }];
    assert.ok(allowed(postOnly), 'GET: the section has nothing for GET, so it is granted');
    assert.ok(!allowed(postOnly, { method: 'POST' }));
    assert.ok(allowed(postOnly, { method: 'POST', client: '10.9.9.9' }));
    const exceptGet: AccessRule[] = [{ require: ['all granted', { limitExcept: ['GET'], require: 'all denied' }] }];
    assert.ok(allowed(exceptGet, { method: 'DELETE' }), 'any one line suffices: all granted');
    const readOnly: AccessRule[] = [{ require: { all: ['all granted', { limitExcept: ['GET'], require: 'all denied' }] } }];
    assert.ok(allowed(readOnly, { method: 'HEAD' }));
    assert.ok(!allowed(readOnly, { method: 'PUT' }));
  });

  test('sections merge in order: a later Require replaces an earlier one, unless AuthMerging And/Or', () => {
    const base: AccessRule = { directory: '/srv', require: 'all denied' };
    const open: AccessRule = { directory: '/srv/site', require: 'all granted' };
    const file = { file: '/srv/site/app.wsgi' };
    assert.ok(allowed([base, open], file));
    assert.ok(!allowed([base, open], { file: '/srv/other/x' }));
    assert.ok(!allowed([base, { ...open, merge: 'and' }], file));
    assert.ok(allowed([base, { ...open, merge: 'or' }], file));
    assert.ok(allowed([base, { directory: '/srv/site', merge: 'off' }], file), 'AuthMerging Off alone clears the earlier lines');
    assert.ok(!allowed([base, { directory: '/srv/site', compat: ['Satisfy all'] }], file), 'a section without Require lines keeps the earlier ones');
    const loc: AccessRule = { path: '/admin', require: 'ip 10.0.0.0/8' };
    assert.ok(!allowed([open, loc], { ...file, path: '/admin/users' }));
    assert.ok(allowed([open, loc], { ...file, path: '/administrator' }), '<Location /admin> stops at a segment boundary');
    assert.ok(allowed([open, loc], { ...file, path: '/admin/users', client: '10.0.0.1' }));
  });

  test('what cannot be decided from the request is never let through more than Apache would', () => {
    assert.ok(!allowed([{ require: 'valid-user' }]));
    assert.ok(!allowed([{ require: ['host example.com', 'ip 198.51.100.1'] }]));
    assert.ok(allowed([{ require: ['host example.com', 'ip 192.0.2.10'] }]), 'granted whatever the host is');
    assert.ok(!allowed([{ require: { all: ['all granted', 'not host bad.example'] } }]));
  });

  test('what Apache refuses when it starts is refused here, naming the place', () => {
    assert.deepEqual(compileError([{ require: 'not ip 10.0.0.1' }]).path, [0, 'require']);
    assert.match(compileError([{ require: ['all granted', 'not ip 10.0.0.1'] }]).message, /no effect among alternatives/);
    assert.match(compileError([{ require: { all: ['not ip 10.0.0.1'] } }]).message, /all negative/);
    assert.match(compileError([{ require: 'ip 10.0.0.300' }]).message, /over 255/);
    assert.match(compileError([{ require: 'all maybe' }]).message, /granted or denied/);
    assert.match(compileError([{ path: '/a', files: 'x', require: 'all denied' }]).message, /one matcher/);
    assert.match(compileError([{ path: '/a' }]).message, /needs require, merge or compat/);
    assert.match(compileError([{ compat: ['Allow 10.0.0.1'] }]).message, /'from'/);
  });
});

describe('Order, Allow, Deny, Satisfy (mod_access_compat)', () => {
  test('Order deny,allow and allow,deny', () => {
    assert.ok(allowed([{ compat: ['Order deny,allow'] }]), 'nothing denied');
    assert.ok(!allowed([{ compat: ['Order deny,allow', 'Deny from all'] }]));
    assert.ok(allowed([{ compat: ['Order deny,allow', 'Deny from all', 'Allow from 192.0.2'] }]));
    assert.ok(!allowed([{ compat: ['Order allow,deny'] }]), 'nothing allowed');
    assert.ok(!allowed([{ compat: ['Order allow,deny', 'Allow from all', 'Deny from 192.0.2.10'] }]));
    assert.ok(allowed([{ compat: ['Order allow,deny', 'Allow from all', 'Deny from 192.0.2.11'] }]));
    assert.ok(allowed([{ compat: ['Order allow,deny', 'Allow from env=!INTERNAL'] }]));
  });

  test('the last section with such lines replaces the earlier ones whole; Satisfy joins them to Require', () => {
    const denyAll: AccessRule = { directory: '/srv', compat: ['Order deny,allow', 'Deny from all'] };
    const file = { file: '/srv/site/app.wsgi' };
    assert.ok(!allowed([denyAll], file));
    assert.ok(allowed([denyAll, { directory: '/srv/site', compat: ['Satisfy any'] }], file), 'the later section has no Deny line');
    assert.ok(!allowed([{ ...denyAll, require: 'all granted' }], file), 'Satisfy All: both must let it in');
    assert.ok(allowed([{ ...denyAll, require: 'all granted', compat: [...(denyAll.compat ?? []), 'Satisfy any'] }], file));
    assert.ok(!allowed([{ ...denyAll, require: 'all denied', compat: [...(denyAll.compat ?? []), 'Satisfy any'] }], file));
    assert.ok(allowed([{ compat: ['Order deny,allow', 'Deny from all', 'Satisfy any'] }]), 'Satisfy Any with no Require lines lets it in, as Apache');
  });

  test('lines inside <Limit> count for their methods only; host names are not decided', () => {
    const postDenied: AccessRule[] = [{ compat: [{ line: 'Deny from all', limit: ['POST'] }] }];
    assert.ok(allowed(postDenied));
    assert.ok(!allowed(postDenied, { method: 'POST' }));
    assert.ok(!allowed([{ compat: ['Order deny,allow', 'Deny from all', 'Allow from .example.com'] }]));
    assert.ok(!allowed([{ compat: ['Order allow,deny', 'Allow from all', 'Deny from .example.com'] }]));
  });
});

describe('what a rule matches', () => {
  test('<Location>: prefix at a segment boundary, trailing slash, wildcards; <LocationMatch>', () => {
    const at = (rule: AccessRule, path: string): boolean => !allowed([{ ...rule, require: 'all denied' }], { path });
    assert.ok(at({ path: '/private' }, '/private'));
    assert.ok(at({ path: '/private' }, '/private/x'));
    assert.ok(!at({ path: '/private' }, '/privatex'));
    assert.ok(!at({ path: '/private/' }, '/private'));
    assert.ok(at({ path: '/private/' }, '/private/x'));
    assert.ok(at({ path: '/a/*/c' }, '/a/b/c'));
    assert.ok(!at({ path: '/a/*/c' }, '/a/b/b/c'));
    assert.ok(at({ pathMatch: '\\.git' }, '/x/.git/config'));
  });

  test('<Directory> covers the folder and below; <DirectoryMatch> the whole file path; <Files> the name', () => {
    const at = (rule: AccessRule, f: Partial<AccessFacts>): boolean => !allowed([{ ...rule, require: 'all denied' }], f);
    assert.ok(at({ directory: '/srv/static/private' }, { file: '/srv/static/private/a.txt' }));
    assert.ok(at({ directory: '/srv/static/private' }, { file: '/srv/static/private/deep/a.txt' }));
    assert.ok(!at({ directory: '/srv/static/private' }, { file: '/srv/static/privatex/a.txt' }));
    assert.ok(at({ directory: '/srv/static/private' }, { file: '/srv/static/private', fileIsDirectory: true }));
    assert.ok(!at({ directory: '/srv/static/private' }, { file: '/srv/static/private.txt' }));
    assert.ok(at({ directory: '/srv/static/s*' }, { file: '/srv/static/sub/deep/a.txt' }));
    assert.ok(at({ directoryMatch: 'app\\.wsgi$' }, { file: '/srv/app/app.wsgi' }), 'Apache matches DirectoryMatch against the file path');
    assert.ok(!at({ directoryMatch: '/app/$' }, { file: '/srv/app/app.wsgi' }));
    assert.ok(at({ files: '*.bak' }, { file: '/srv/static/x.bak' }));
    assert.ok(at({ filesMatch: '^\\.ht' }, { file: '/srv/static/.htpasswd' }));
    assert.ok(!at({ files: 'x' }, { file: '/srv/app/app.wsgi', pathInfo: '/x' }), 'PATH_INFO is not a file');
    assert.ok(
      at({ directory: '/srv/app/app.wsgi' }, { file: '/srv/app/app.wsgi', pathInfo: '' }),
      "Apache's walk takes a script named by <Directory> as a folder when there is no PATH_INFO",
    );
    assert.ok(!at({ directory: '/srv/app/app.wsgi' }, { file: '/srv/app/app.wsgi', pathInfo: '/x' }));
  });
});
