import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseProxyHeader, type ProxyParse, V2_SIGNATURE } from '../../src/frontdoor/proxy-protocol.js';

/** A v2 header: command (0 LOCAL, 1 PROXY), family/transport byte, address block, then TLVs. */
function v2(command: number, famProto: number, addresses: Buffer, tlvs: Buffer = Buffer.alloc(0), version = 2): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(addresses.length + tlvs.length);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([(version << 4) | command, famProto]), len, addresses, tlvs]);
}
function inet4(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}
function inet6(src: string, dst: string, sport: number, dport: number): Buffer {
  const hex = (a: string): Buffer => Buffer.from(a.replace(/:/g, ''), 'hex');
  const b = Buffer.alloc(36);
  hex(src).copy(b, 0);
  hex(dst).copy(b, 16);
  b.writeUInt16BE(sport, 32);
  b.writeUInt16BE(dport, 34);
  return b;
}
const tlv = (type: number, value: Buffer): Buffer => Buffer.concat([Buffer.from([type, value.length >> 8, value.length & 0xff]), value]);
const parse = (b: Buffer | string, max?: number): ProxyParse =>
  parseProxyHeader(typeof b === 'string' ? Buffer.from(b, 'latin1') : b, max === undefined ? {} : { maxV2Length: max });
const code = (r: ProxyParse): string => (r.kind === 'error' ? r.code : r.kind);

describe('PROXY protocol v1', () => {
  test('TCP4 and TCP6 lines; the length says where the connection bytes start', () => {
    const line = 'PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n';
    assert.deepEqual(parse(`${line}GET / HTTP/1.1\r\n`), {
      kind: 'proxy',
      version: 1,
      family: 'tcp4',
      source: { address: '192.0.2.1', port: 56324 },
      destination: { address: '198.51.100.2', port: 443 },
      length: line.length,
    });
    const r = parse('PROXY TCP6 2001:DB8::1 2001:db8::2 1 65535\r\n');
    assert.ok(r.kind === 'proxy');
    assert.equal(r.source.address, '2001:db8::1');
    assert.equal(r.destination.port, 65535);
  });
  test("UNKNOWN: the connection's own addresses apply", () => {
    assert.deepEqual(parse('PROXY UNKNOWN\r\n'), { kind: 'local', version: 1, reason: 'unknown', length: 15 });
    assert.equal(code(parse('PROXY UNKNOWN ffff:f:f:f:f:f:f:ffff ffff:f:f:f:f:f:f:ffff 65535 65535\r\n')), 'local');
  });
  test('incremental: every prefix of a valid line needs more, never errs', () => {
    const line = 'PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n';
    assert.equal(line.length, 104);
    for (let n = 1; n < line.length; n++) assert.equal(code(parse(line.slice(0, n))), 'need-more', `prefix of ${n}`);
    assert.equal(code(parse(line)), 'proxy');
  });
  test('refused: too long, bad grammar, wrong family, bad ports, stray bytes', () => {
    assert.equal(code(parse(`PROXY TCP4 ${'1'.repeat(120)}`)), 'PROXY_V1_TOO_LONG');
    assert.equal(code(parse(`PROXY UNKNOWN ${'x'.repeat(100)}\r\n`)), 'PROXY_V1_TOO_LONG');
    for (const bad of [
      'PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n',
      'PROXY TCP4  192.0.2.1 198.51.100.2 56324 443\r\n',
      'PROXY TCP5 192.0.2.1 198.51.100.2 56324 443\r\n',
      'PROXY TCP4 2001:db8::1 198.51.100.2 56324 443\r\n',
      'PROXY TCP6 192.0.2.1 2001:db8::2 56324 443\r\n',
      'PROXY TCP4 192.0.2.1 198.51.100.2 65536 443\r\n',
      'PROXY TCP4 192.0.2.1 198.51.100.2 0443 443\r\n',
      'PROXY TCP4 192.0.2.1 198.51.100.2 -1 443\r\n',
      'PROXY TCP4 192.0.2.1 example.com 1 443\r\n',
      'PROXY TCP6 [2001:db8::1] 2001:db8::2 1 443\r\n',
    ]) {
      assert.equal(code(parse(bad)), 'PROXY_V1_MALFORMED', bad);
    }
    assert.equal(code(parse('PROXY TCP4 1.2.3.4\n')), 'PROXY_V1_MALFORMED', 'a bare LF cannot become a CRLF by waiting');
    assert.equal(code(parse('PROXY TCP4 1.2.3.4\rX')), 'PROXY_V1_MALFORMED');
    assert.equal(code(parse('PROXY TCP4 1.2.3.\x00')), 'PROXY_V1_MALFORMED');
  });
  test('no header at all is refused at once (no waiting for more bytes)', () => {
    assert.equal(code(parse('GET / HTTP/1.1\r\n')), 'PROXY_NOT_PROXY');
    assert.equal(code(parse('G')), 'PROXY_NOT_PROXY');
    assert.equal(code(parse(Buffer.from([0x16, 0x03, 0x01]))), 'PROXY_NOT_PROXY', 'a TLS ClientHello');
    assert.equal(code(parse('PROX')), 'need-more');
    assert.equal(code(parse(Buffer.alloc(0))), 'need-more');
  });
});

describe('PROXY protocol v2', () => {
  test('PROXY over IPv4 and IPv6, TLVs skipped', () => {
    const h = v2(1, 0x11, inet4([192, 0, 2, 1], [198, 51, 100, 2], 56324, 443), tlv(0x01, Buffer.from('h2')));
    assert.deepEqual(parse(Buffer.concat([h, Buffer.from('GET /')])), {
      kind: 'proxy',
      version: 2,
      family: 'tcp4',
      source: { address: '192.0.2.1', port: 56324 },
      destination: { address: '198.51.100.2', port: 443 },
      length: h.length,
    });
    const h6 = v2(1, 0x21, inet6('2001:0db8:0000:0000:0000:0000:0000:0001', '2001:0db8:0000:0000:0000:0000:0000:0002', 1234, 8443));
    const r = parse(h6);
    assert.ok(r.kind === 'proxy');
    assert.equal(r.family, 'tcp6');
    assert.equal(r.source.address, '2001:db8::1');
    assert.equal(r.destination.port, 8443);
    assert.equal(r.length, 16 + 36);
  });
  test("LOCAL (health checks), UNSPEC and UNIX: the connection's own addresses apply; the address block is skipped", () => {
    assert.deepEqual(parse(v2(0, 0x00, Buffer.alloc(0))), { kind: 'local', version: 2, reason: 'local', length: 16 });
    assert.deepEqual(parse(v2(0, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))), { kind: 'local', version: 2, reason: 'local', length: 28 });
    assert.deepEqual(parse(v2(1, 0x00, Buffer.alloc(4))), { kind: 'local', version: 2, reason: 'unspec', length: 20 });
    assert.deepEqual(parse(v2(1, 0x31, Buffer.alloc(216))), { kind: 'local', version: 2, reason: 'unix', length: 232 });
  });
  test('incremental: every prefix needs more', () => {
    const h = v2(1, 0x21, inet6('0'.repeat(32), 'f'.repeat(32), 1, 2), tlv(0x04, Buffer.alloc(100)));
    for (let n = 1; n < h.length; n++) assert.equal(code(parse(h.subarray(0, n))), 'need-more', `prefix of ${n}`);
    assert.equal(code(parse(h)), 'proxy');
  });
  test('hostile headers: wrong version or command, UDP, unknown family, short address block, over the length cap', () => {
    assert.equal(code(parse(v2(1, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), undefined, 1))), 'PROXY_V2_MALFORMED');
    assert.equal(code(parse(v2(2, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)))), 'PROXY_V2_MALFORMED');
    assert.equal(code(parse(v2(1, 0x12, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)))), 'PROXY_V2_UNSUPPORTED');
    assert.equal(code(parse(v2(1, 0x41, Buffer.alloc(12)))), 'PROXY_V2_UNSUPPORTED');
    assert.equal(code(parse(v2(1, 0x11, Buffer.alloc(8)))), 'PROXY_V2_MALFORMED');
    assert.equal(code(parse(v2(1, 0x21, Buffer.alloc(12)))), 'PROXY_V2_MALFORMED');
    // A declared length of 65535: refused from the 16 fixed bytes, before waiting for 64 KB.
    const huge = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
    assert.equal(code(parse(huge)), 'PROXY_V2_TOO_LONG');
    assert.equal(code(parse(v2(1, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), tlv(0x20, Buffer.alloc(200))), 100)), 'PROXY_V2_TOO_LONG');
    // A signature that goes wrong part-way is not a PROXY header.
    assert.equal(code(parse(Buffer.concat([V2_SIGNATURE.subarray(0, 8), Buffer.from('X')]))), 'PROXY_NOT_PROXY');
  });
  test('bounded fuzzing: random bytes after either prefix never throw, and lengths never exceed the input', () => {
    let seed = 42;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 3000; i++) {
      const body = Buffer.alloc(rand() % 80);
      for (let j = 0; j < body.length; j++) body[j] = rand() & 0xff;
      const prefix = i % 2 === 0 ? V2_SIGNATURE : Buffer.from('PROXY ');
      const input = Buffer.concat([prefix, body]);
      const r = parse(input);
      if (r.kind === 'proxy' || r.kind === 'local') assert.ok(r.length <= input.length);
    }
  });
});
