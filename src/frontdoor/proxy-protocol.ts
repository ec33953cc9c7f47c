import { formatIp, isIpv4, parseIp } from '../util/ip-address.js';
import { ProxyProtocolErrorCode } from '../error-codes.js';
export { ProxyProtocolErrorCode } from '../error-codes.js';

/**
 * The PROXY protocol (HAProxy's proxy-protocol.txt), versions 1 and 2, as a pure parser: give it
 * the bytes received so far on a connection; it says what the header holds, that it needs more
 * bytes, or why the connection must be closed. It never reads past the header: `length` says
 * where the connection's own bytes (HTTP or TLS) start.
 */

export type ProxyFamily = 'tcp4' | 'tcp6';

export interface ProxyEndpoint {
  address: string;
  port: number;
}

export type ProxyParse =
  /** The client's connection as the proxy saw it. */
  | { kind: 'proxy'; version: 1 | 2; family: ProxyFamily; source: ProxyEndpoint; destination: ProxyEndpoint; length: number }
  /**
   * A header that carries no usable address (v2 LOCAL: the proxy's own health check; v1 UNKNOWN;
   * v2 UNSPEC or UNIX): the connection's own addresses apply.
   */
  | { kind: 'local'; version: 1 | 2; reason: 'local' | 'unknown' | 'unspec' | 'unix'; length: number }
  | { kind: 'need-more' }
  | { kind: 'error'; code: ProxyProtocolErrorCode; message: string };

const C = ProxyProtocolErrorCode;

/** "PROXY UNKNOWN ffff:...:ffff ffff:...:ffff 65535 65535\r\n": the longest v1 line. */
export const V1_MAX_LENGTH = 107;
/** v2 headers longer than this are refused unless the caller allows more (TLVs are skipped). */
export const V2_DEFAULT_MAX_LENGTH = 2048;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function startsLike(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.subarray(0, n).equals(prefix.subarray(0, n));
}

const error = (code: ProxyProtocolErrorCode, message: string): ProxyParse => ({ kind: 'error', code, message });

export interface ProxyParseOptions {
  /** The longest v2 header accepted (16-byte fixed part included). */
  maxV2Length?: number;
}

/** Parses the PROXY header at the start of `buf` (every byte received so far). */
export function parseProxyHeader(buf: Buffer, options: ProxyParseOptions = {}): ProxyParse {
  if (buf.length === 0) return { kind: 'need-more' };
  if (startsLike(buf, V2_SIGNATURE)) return buf.length < 16 ? { kind: 'need-more' } : parseV2(buf, options.maxV2Length ?? V2_DEFAULT_MAX_LENGTH);
  if (startsLike(buf, V1_PREFIX)) return parseV1(buf);
  return error(C.NOT_PROXY, 'the connection did not start with a PROXY protocol header (v1 "PROXY ..." or the v2 signature)');
}

const PORT = /^(0|[1-9]\d{0,4})$/;

function parseV1(buf: Buffer): ProxyParse {
  const limit = Math.min(buf.length, V1_MAX_LENGTH);
  let end = -1;
  for (let i = 0; i + 1 < limit; i++) {
    if (buf[i] === 0x0d && buf[i + 1] === 0x0a) {
      end = i;
      break;
    }
  }
  if (end < 0) {
    if (buf.length >= V1_MAX_LENGTH) return error(C.V1_TOO_LONG, `a PROXY v1 line has no CRLF within ${V1_MAX_LENGTH} bytes`);
    // A bare LF or a byte no v1 line has cannot become valid by waiting.
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i] as number;
      if (c === 0x0a || (c < 0x20 && c !== 0x0d) || c > 0x7e || (c === 0x0d && i + 1 < buf.length))
        return error(C.V1_MALFORMED, 'a PROXY v1 line holds a byte it cannot hold');
    }
    return { kind: 'need-more' };
  }
  const line = buf.toString('latin1', 0, end);
  const length = end + 2;
  const fields = line.split(' ');
  const proto = fields[1];
  if (proto === 'UNKNOWN') return { kind: 'local', version: 1, reason: 'unknown', length };
  if ((proto !== 'TCP4' && proto !== 'TCP6') || fields.length !== 6) {
    return error(C.V1_MALFORMED, `a PROXY v1 line must be "PROXY TCP4|TCP6 SRC DST SPORT DPORT" (single spaces), got ${JSON.stringify(line.slice(0, 60))}`);
  }
  const [, , src, dst, sport, dport] = fields as [string, string, string, string, string, string];
  const address = (text: string): string | undefined => {
    const bytes = parseIp(text);
    if (bytes === undefined || text.startsWith('[')) return undefined;
    const v4Text = !text.includes(':');
    if (proto === 'TCP4' ? !(v4Text && isIpv4(bytes)) : v4Text) return undefined;
    return formatIp(bytes);
  };
  const s = address(src);
  const d = address(dst);
  if (s === undefined || d === undefined)
    return error(C.V1_MALFORMED, `a PROXY v1 ${proto} line has an address that is not ${proto === 'TCP4' ? 'IPv4' : 'IPv6'}`);
  if (!PORT.test(sport) || !PORT.test(dport) || Number(sport) > 65535 || Number(dport) > 65535)
    return error(C.V1_MALFORMED, 'a PROXY v1 line has a port that is not 0-65535');
  return {
    kind: 'proxy',
    version: 1,
    family: proto === 'TCP4' ? 'tcp4' : 'tcp6',
    source: { address: s, port: Number(sport) },
    destination: { address: d, port: Number(dport) },
    length,
  };
}

function parseV2(buf: Buffer, maxLength: number): ProxyParse {
  const verCmd = buf[12] as number;
  if (verCmd >> 4 !== 2) return error(C.V2_MALFORMED, `a PROXY v2 header has version ${verCmd >> 4}, not 2`);
  const command = verCmd & 0x0f;
  if (command !== 0 && command !== 1) return error(C.V2_MALFORMED, `a PROXY v2 header has command ${command} (only LOCAL 0 and PROXY 1 exist)`);
  const famProto = buf[13] as number;
  const length = 16 + buf.readUInt16BE(14);
  if (length > maxLength) return error(C.V2_TOO_LONG, `a PROXY v2 header of ${length} bytes is over the limit of ${maxLength}`);
  if (buf.length < length) return { kind: 'need-more' };
  if (command === 0) return { kind: 'local', version: 2, reason: 'local', length };
  const family = famProto >> 4;
  const transport = famProto & 0x0f;
  if (family === 0) return { kind: 'local', version: 2, reason: 'unspec', length };
  if (transport !== 1)
    return error(C.V2_UNSUPPORTED, `a PROXY v2 header for ${transport === 2 ? 'a datagram (UDP)' : `transport ${transport}`} on a stream listener`);
  if (family === 3) return { kind: 'local', version: 2, reason: 'unix', length };
  const size = family === 1 ? 12 : family === 2 ? 36 : -1;
  if (size < 0) return error(C.V2_UNSUPPORTED, `a PROXY v2 header has address family ${family}`);
  if (length - 16 < size)
    return error(C.V2_MALFORMED, `a PROXY v2 ${family === 1 ? 'IPv4' : 'IPv6'} header holds ${length - 16} bytes of addresses, fewer than ${size}`);
  const a = 16;
  const ip = (offset: number, n: number): string => {
    const bytes = new Uint8Array(16);
    if (n === 4) {
      bytes[10] = 0xff;
      bytes[11] = 0xff;
      bytes.set(buf.subarray(offset, offset + 4), 12);
    } else {
      bytes.set(buf.subarray(offset, offset + 16));
    }
    return formatIp(bytes);
  };
  const n = family === 1 ? 4 : 16;
  return {
    kind: 'proxy',
    version: 2,
    family: family === 1 ? 'tcp4' : 'tcp6',
    source: { address: ip(a, n), port: buf.readUInt16BE(a + 2 * n) },
    destination: { address: ip(a + n, n), port: buf.readUInt16BE(a + 2 * n + 2) },
    length,
  };
}
