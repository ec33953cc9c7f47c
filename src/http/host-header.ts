import { isIPv6 } from 'node:net';

/**
 * The Host header and the authority of an absolute-form target (RFC 9110 7.2, RFC 3986 3.2.2):
 * `uri-host [ ":" port ]`, where uri-host is an IP-literal (`[` IPv6 `]`), an IPv4 address or a
 * reg-name. wsgi-host takes reg-names made of letters, digits, `-`, `.`, `_` and `~` only: the
 * characters of DNS names and addresses. RFC 3986 also allows sub-delims (`!$&'()*+,;=`) and
 * %-escapes there, but no host has them, and they are what header injection, a second Host joined
 * with a comma, or a userinfo trick (`a@b`) look like; Apache's HttpProtocolOptions Strict refuses
 * them too.
 */
export interface Authority {
  /** The value as it names the host for routing: lower-cased, a trailing dot removed ('[::1]' keeps its brackets). */
  name: string;
  /** The port's digits; undefined when absent or empty ('example.com:'). */
  port: string | undefined;
}

/** Letters, digits and - . _ ~ (RFC 3986 unreserved), possibly empty. */
const REG_NAME = /^[A-Za-z0-9\-._~]*$/;
const PORT = /^[0-9]*$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;

/** Parses a Host value (or an authority without userinfo); undefined when it is not valid. */
export function parseAuthority(value: string): Authority | undefined {
  let name: string;
  let rest: string;
  if (value.charCodeAt(0) === 91 /* [ */) {
    const close = value.indexOf(']');
    if (close === -1) return undefined;
    const inner = value.slice(1, close);
    // An IPv6 zone id ('%25eth0', RFC 6874) is not for HTTP (RFC 9110 4.2.4 names no such use).
    if (!IPV6_CHARS.test(inner) || !isIPv6(inner)) return undefined;
    name = `[${inner.toLowerCase()}]`;
    rest = value.slice(close + 1);
  } else {
    const colon = value.indexOf(':');
    name = colon === -1 ? value : value.slice(0, colon);
    rest = colon === -1 ? '' : value.slice(colon);
    if (!REG_NAME.test(name)) return undefined;
    name = name.toLowerCase();
    if (name.length > 1 && name.endsWith('.')) name = name.slice(0, -1);
  }
  if (rest === '') return { name, port: undefined };
  if (rest.charCodeAt(0) !== 58 /* : */) return undefined;
  const port = rest.slice(1);
  if (!PORT.test(port)) return undefined;
  if (port === '') return { name, port: undefined };
  if (port.length > 5 || Number(port) > 65535) return undefined;
  return { name, port: String(Number(port)) };
}

/** The Host header's name as Apache compares it: no port, lower case, no trailing dot. */
export function hostNameOf(host: string): string {
  let name: string;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    name = end === -1 ? host : host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(':');
    name = colon === -1 ? host : host.slice(0, colon);
  }
  name = name.toLowerCase();
  return name.endsWith('.') ? name.slice(0, -1) : name;
}
