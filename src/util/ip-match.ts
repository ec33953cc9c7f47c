import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP addresses and networks as Apache's access control writes them (Require ip, Allow from):
 * a full address (10.1.2.3, 2001:db8::1), a partial IPv4 address (10, 10.1, 10.1.2 = the first
 * octets), a network with a netmask (10.1.0.0/255.255.0.0) or a prefix length (10.1.0.0/16,
 * 2001:db8::/32). A client address is tested as Apache tests it: an IPv4-mapped IPv6 address
 * (::ffff:10.1.2.3, what a dual-stack socket reports) counts as its IPv4 address.
 */

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
    const bytes = ipv6Bytes(addr);
    if (bytes === undefined) return `'${addr}' is not an IPv6 address`;
    if (addr.includes('.')) return `'${addr}' is an IPv4 address written as IPv6: write it as IPv4`;
    let bits = 128;
    if (maskText !== undefined) {
      if (!/^\d{1,3}$/.test(maskText) || Number(maskText) > 128) return `'/${maskText}' is not an IPv6 prefix length (0 to 128)`;
      bits = Number(maskText);
    }
    return masked(true, bytes, prefixMask(16, bits));
  }
  const partial = /^(\d{1,3})(?:\.(\d{1,3}))?(?:\.(\d{1,3}))?(?:\.(\d{1,3}))?\.?$/.exec(addr);
  if (partial === null) return `'${addr}' is not an IP address`;
  const octets = partial.slice(1).filter((o): o is string => o !== undefined).map(Number);
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
  return masked(false, bytes, mask);
}

/** Apache (apr_ipsubnet_create) keeps only the network part: 192.168.1.5/24 is 192.168.1.0/24. */
function masked(v6: boolean, bytes: number[], mask: number[]): Subnet {
  return { v6, net: bytes.map((b, i) => b & (mask[i] as number)), mask };
}

function prefixMask(length: number, bits: number): number[] {
  return Array.from({ length }, (_, i) => {
    const b = Math.max(0, Math.min(8, bits - i * 8));
    return (0xff << (8 - b)) & 0xff;
  });
}

/** The client address as bytes: 4 for IPv4 (and IPv4-mapped IPv6), 16 for IPv6; undefined if not an address. */
export function addressBytes(address: string): { v6: boolean; bytes: number[] } | undefined {
  const a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(a)) return { v6: false, bytes: a.split('.').map(Number) };
  const scope = a.indexOf('%');
  const bare = scope >= 0 ? a.slice(0, scope) : a;
  if (!isIPv6(bare)) return undefined;
  const bytes = ipv6Bytes(bare) as number[];
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? { v6: false, bytes: bytes.slice(12) } : { v6: true, bytes };
}

/** An address as Apache compares it: IPv4-mapped IPv6 as plain IPv4, IPv6 in its canonical form. */
export function canonicalAddress(address: string): string {
  const a = addressBytes(address);
  if (a === undefined) return address;
  if (!a.v6) return a.bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((a.bytes[i] as number) << 8) | (a.bytes[i + 1] as number)).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

export function inSubnet(address: string, subnet: Subnet): boolean {
  const a = addressBytes(address);
  if (a === undefined || a.v6 !== subnet.v6) return false;
  return a.bytes.every((b, i) => (b & (subnet.mask[i] as number)) === subnet.net[i]);
}

/** Require local: the loopback networks, or the client is the server's own address. */
export function isLocalClient(client: string, server: string): boolean {
  const c = addressBytes(client);
  if (c === undefined) return false;
  if (!c.v6 && c.bytes[0] === 127) return true;
  if (c.v6 && c.bytes.slice(0, 15).every((b) => b === 0) && c.bytes[15] === 1) return true;
  return canonicalAddress(client) === canonicalAddress(server);
}

function ipv6Bytes(text: string): number[] | undefined {
  if (!isIPv6(text)) return undefined;
  let head = text;
  const tailV4: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    tailV4.push(...last.split('.').map(Number));
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left, right] = head.includes('::') ? head.split('::') as [string, string] : [head, undefined];
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const l = parse(left);
  const r = right === undefined ? [] : parse(right);
  const groups = right === undefined ? l : [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  const bytes = groups.flatMap((g) => [g >> 8, g & 0xff]);
  if (tailV4.length === 4) bytes.splice(12, 4, ...tailV4);
  return bytes;
}
