import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatIp, inAnyRange, inRange, type IpRange, parseIp, parseIpRange } from '../../src/util/ip-address.js';

const range = (t: string): IpRange => {
  const r = parseIpRange(t);
  assert.ok(typeof r !== 'string', `${t}: ${String(r)}`);
  return r;
};
const ip = (t: string): Uint8Array => {
  const b = parseIp(t);
  assert.ok(b !== undefined, t);
  return b;
};

describe('IP addresses', () => {
  test('IPv4, IPv6, IPv4-mapped, brackets and zones parse to canonical text', () => {
    assert.equal(formatIp(ip('10.1.2.3')), '10.1.2.3');
    assert.equal(formatIp(ip('::ffff:10.1.2.3')), '10.1.2.3');
    assert.equal(formatIp(ip('::FFFF:0a01:0203')), '10.1.2.3');
    assert.equal(formatIp(ip('2001:DB8:0:0:0:0:0:1')), '2001:db8::1');
    assert.equal(formatIp(ip('[::1]')), '::1');
    assert.equal(formatIp(ip('::')), '::');
    assert.equal(formatIp(ip('fe80::1%eth0')), 'fe80::1');
    assert.equal(formatIp(ip('1:0:0:2:0:0:0:3')), '1:0:0:2::3');
  });
  test('not addresses: names, octal-looking parts, overflows, bad groups', () => {
    for (const bad of [
      '',
      'localhost',
      '10.0.0',
      '10.0.0.256',
      '010.0.0.1',
      '1.2.3.4.5',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      ':::',
      '12345::',
      'g::1',
      '1.2.3.4:80',
      '::ffff:1.2.3',
    ]) {
      assert.equal(parseIp(bad), undefined, bad);
    }
  });
});

describe('CIDR ranges', () => {
  test('IPv4 ranges match IPv4 peers and the IPv4-mapped form Node reports on dual-stack listeners', () => {
    const r = range('10.0.0.0/8');
    assert.ok(inRange(ip('10.200.1.1'), r));
    assert.ok(inRange(ip('::ffff:10.200.1.1'), r));
    assert.ok(!inRange(ip('11.0.0.1'), r));
    assert.ok(!inRange(ip('::a00:1'), r), 'the IPv4-compatible (not mapped) form is another address');
  });
  test('single addresses are /32 and /128; /0 matches everything of its family', () => {
    assert.ok(inRange(ip('192.0.2.7'), range('192.0.2.7')));
    assert.ok(!inRange(ip('192.0.2.8'), range('192.0.2.7')));
    assert.ok(inRange(ip('2001:db8::5'), range('2001:db8::5')));
    assert.ok(inRange(ip('8.8.8.8'), range('0.0.0.0/0')));
    assert.ok(!inRange(ip('2001:db8::1'), range('0.0.0.0/0')));
    assert.ok(inRange(ip('2001:db8::1'), range('::/0')));
  });
  test('IPv6 ranges on odd boundaries', () => {
    const r = range('2001:db8:80::/41');
    assert.ok(inRange(ip('2001:db8:80::1'), r));
    assert.ok(inRange(ip('2001:db8:ff:ffff::1'), r));
    assert.ok(!inRange(ip('2001:db8:100::1'), r));
    assert.ok(inAnyRange(ip('fd12::1'), [range('10.0.0.0/8'), range('fd00::/8')]));
  });
  test('refused with a reason: host bits set, bad prefix, not an address', () => {
    assert.match(parseIpRange('10.1.0.0/8') as string, /host bits set: the range starting there is 10\.0\.0\.0\/8/);
    assert.match(parseIpRange('10.0.0.0/33') as string, /not a prefix length of an IPv4/);
    assert.match(parseIpRange('::/129') as string, /not a prefix length of an IPv6/);
    assert.match(parseIpRange('proxy.example.com') as string, /is not an IP address/);
    assert.match(parseIpRange('10.0.0.0/') as string, /not a prefix length/);
  });
});
