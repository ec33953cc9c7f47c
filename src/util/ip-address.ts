/**
 * IP addresses and networks, the one module for them (pure; no DNS). An address is 16 bytes (an
 * IPv4 address kept IPv4-mapped, ::ffff:a.b.c.d), so that 10.0.0.0/8 matches a peer Node reports
 * as ::ffff:10.1.2.3 on a dual-stack listener. Two ways to write a network:
 *
 *   parseIpRange   CIDR as wsgi-host's own settings take it (trusted-proxies): strict, a range with
 *                  host bits set is refused
 *   parseSubnet    as Apache's access control writes it (Require ip, Allow from): also a partial
 *                  IPv4 address (10.1 = the first octets) and a netmask (10.1.0.0/255.255.0.0);
 *                  host bits are dropped, as apr_ipsubnet_create does
 */

export interface IpRange {
  /** The network's 16 bytes (host bits cleared). */
  bytes: Uint8Array;
  /** Prefix length over the 16 bytes (an IPv4 /8 is 96 + 8). */
  bits: number;
  /** As written, for messages. */
  text: string;
}

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    // Decimal only, no leading zeros (0127 is octal to some parsers: refuse the ambiguity).
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseIpv6(text: string): number[] | undefined {
  if (text.length > 45 || text.length < 2) return undefined;
  let head = text;
  let tail4: number[] | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    tail4 = parseIpv4(text.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const group = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = group(halves[0] as string);
  const right = halves.length === 2 ? group(halves[1] as string) : [];
  if (left === undefined || right === undefined) return undefined;
  let words: number[];
  if (halves.length === 2) {
    const fill = 8 - left.length - right.length;
    if (fill < 1) return undefined;
    words = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else {
    if (left.length !== 8) return undefined;
    words = left;
  }
  const bytes: number[] = [];
  for (const w of words) bytes.push(w >> 8, w & 0xff);
  if (tail4 !== undefined) bytes.splice(12, 4, ...tail4);
  return bytes;
}

/**
 * An address as 16 bytes, or undefined when `text` is not an IP address. Accepts IPv4, IPv6, an
 * IPv6 zone (fe80::1%eth0, the zone ignored) and brackets ([::1]).
 */
export function parseIp(text: string): Uint8Array | undefined {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const zone = t.indexOf('%');
  if (zone > 0 && t.includes(':')) t = t.slice(0, zone);
  const v4 = parseIpv4(t);
  if (v4 !== undefined) return Uint8Array.from([...V4_MAPPED_PREFIX, ...v4]);
  const v6 = t.includes(':') ? parseIpv6(t) : undefined;
  return v6 === undefined ? undefined : Uint8Array.from(v6);
}

/** True for an IPv4 address (or an IPv4-mapped IPv6 one). */
export function isIpv4(bytes: Uint8Array): boolean {
  for (let i = 0; i < 12; i++) if (bytes[i] !== V4_MAPPED_PREFIX[i]) return false;
  return true;
}

/** The canonical text: a.b.c.d for IPv4 and IPv4-mapped, else RFC 5952 IPv6 (lower case, :: for the longest zero run). */
export function formatIp(bytes: Uint8Array): string {
  if (isIpv4(bytes)) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * "10.0.0.0/8", "fd00::/8", or one address (a /32 or /128). A range with host bits set
 * (10.1.0.0/8) is refused: it is almost always a typo for something else.
 */
export function parseIpRange(text: string): IpRange | string {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addressText = slash < 0 ? t : t.slice(0, slash);
  const bytes = parseIp(addressText);
  if (bytes === undefined) return `'${addressText}' is not an IP address`;
  const v4 = isIpv4(bytes) && !addressText.includes(':');
  const max = v4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return `'/${p}' is not a prefix length of an ${v4 ? 'IPv4 (0-32)' : 'IPv6 (0-128)'} range`;
    prefix = Number(p);
  }
  const bits = v4 ? 96 + prefix : prefix;
  const network = masked(bytes, bits);
  if (!equalBytes(network, bytes)) {
    return `'${t}' has host bits set: the range starting there is ${formatIp(network)}/${prefix}`;
  }
  return { bytes: network, bits, text: t };
}

function masked(bytes: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] = (bytes[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether an address (16 bytes) lies in a range. */
export function inRange(address: Uint8Array, range: IpRange): boolean {
  return equalBytes(masked(address, range.bits), range.bytes);
}

/** Whether an address lies in any of the ranges. */
export function inAnyRange(address: Uint8Array, ranges: readonly IpRange[]): boolean {
  for (const r of ranges) if (inRange(address, r)) return true;
  return false;
}

// -- Apache's forms (Require ip, Allow from, <VirtualHost> addresses) ---------------------------

/** A network as Apache's access control writes it; an IPv6 network never matches an IPv4 client. */
export interface Subnet {
  v6: boolean;
  /** The network's bytes (4 or 16), already masked. */
  net: number[];
  mask: number[];
}

/** A subnet, or why the text is not one (a sentence fragment for messages). */
export function parseSubnet(text: string): Subnet | string {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const maskText = slash < 0 ? undefined : text.slice(slash + 1);
  if (addr.includes(':')) {
    if (addr.includes('.')) return `'${addr}' is an IPv4 address written as IPv6: write it as IPv4`;
    const bytes = parseIpv6(addr);
    if (bytes === undefined) return `'${addr}' is not an IPv6 address`;
    let bits = 128;
    if (maskText !== undefined) {
      if (!/^\d{1,3}$/.test(maskText) || Number(maskText) > 128) return `'/${maskText}' is not an IPv6 prefix length (0 to 128)`;
      bits = Number(maskText);
    }
    return subnet(true, bytes, prefixMask(16, bits));
  }
  const partial = /^(\d{1,3})(?:\.(\d{1,3}))?(?:\.(\d{1,3}))?(?:\.(\d{1,3}))?\.?$/.exec(addr);
  if (partial === null) return `'${addr}' is not an IP address`;
  const octets = partial
    .slice(1)
    .filter((o): o is string => o !== undefined)
    .map(Number);
  if (octets.some((o) => o > 255)) return `'${addr}' has an octet over 255`;
  const given = octets.length;
  const bytes = [...octets, ...new Array<number>(4 - given).fill(0)];
  let mask: number[];
  if (maskText === undefined) mask = prefixMask(4, given * 8);
  else if (given !== 4) return `'${text}': a netmask needs a full address`;
  else if (/^\d{1,2}$/.test(maskText) && Number(maskText) <= 32) mask = prefixMask(4, Number(maskText));
  else {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(maskText);
    if (m === null || m.slice(1).some((o) => Number(o) > 255)) return `'/${maskText}' is not a netmask or prefix length`;
    mask = m.slice(1).map(Number);
  }
  return subnet(false, bytes, mask);
}

/** Apache (apr_ipsubnet_create) keeps only the network part: 192.168.1.5/24 is 192.168.1.0/24. */
function subnet(v6: boolean, bytes: number[], mask: number[]): Subnet {
  return { v6, net: bytes.map((b, i) => b & (mask[i] as number)), mask };
}

function prefixMask(length: number, bits: number): number[] {
  return Array.from({ length }, (_, i) => {
    const b = Math.max(0, Math.min(8, bits - i * 8));
    return (0xff << (8 - b)) & 0xff;
  });
}

/** A client address as Apache tests it: 4 bytes for IPv4 (an IPv4-mapped IPv6 address too), 16 for IPv6. */
function clientBytes(address: string): { v6: boolean; bytes: number[] } | undefined {
  const b = parseIp(address);
  if (b === undefined) return undefined;
  return isIpv4(b) ? { v6: false, bytes: [...b.subarray(12)] } : { v6: true, bytes: [...b] };
}

/** An address as Apache compares it: IPv4-mapped IPv6 as plain IPv4, IPv6 in its canonical form; other text as is. */
export function canonicalAddress(address: string): string {
  const b = parseIp(address);
  return b === undefined ? address : formatIp(b);
}

export function inSubnet(address: string, net: Subnet): boolean {
  const a = clientBytes(address);
  if (a === undefined || a.v6 !== net.v6) return false;
  return a.bytes.every((b, i) => (b & (net.mask[i] as number)) === net.net[i]);
}

/** Require local: the loopback networks, or the client is the server's own address. */
export function isLocalClient(client: string, server: string): boolean {
  const c = clientBytes(client);
  if (c === undefined) return false;
  if (!c.v6 && c.bytes[0] === 127) return true;
  if (c.v6 && c.bytes.slice(0, 15).every((b) => b === 0) && c.bytes[15] === 1) return true;
  return canonicalAddress(client) === canonicalAddress(server);
}
