/**
 * The request rules (request-rules.ts) for an HTTP/2 request (RFC 9113 8.3). node:http2 (nghttp2)
 * has already refused, with RST_STREAM PROTOCOL_ERROR, what breaks HTTP/2's own message rules:
 * connection-specific fields (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding,
 * Upgrade; TE other than "trailers"), upper-case field names, a missing, repeated or unknown
 * pseudo-header, a pseudo-header after a regular field, and DATA longer or shorter than
 * Content-Length; CONNECT is answered 405 there. What is left is what HTTP/1.1 requests are held
 * to: the authority (:authority, else Host, valid, and the same when both are sent), the target
 * (origin-form, or * for OPTIONS), the header count and size, one Content-Length of digits.
 */
import { type Authority, parseAuthority } from './host-header.js';
import { RefusalCode as C, RequestRefusal } from './http-refusal.js';
import { type CheckedHead, contentLengthOf, type HeadRules, VALID_REQUEST_ID } from './request-rules.js';
import { splitRequestTarget } from './request-target.js';

export interface H2HeadRules extends HeadRules {
  /** The request line and headers as HTTP/1.1 would spell them, at most (431 beyond). */
  maxHeaderSize: number;
}

/**
 * Checks the head of an HTTP/2 request: raw is node:http2's rawHeaders (pseudo-headers first),
 * endStream that the HEADERS frame ended the stream (no body). The header lines for the worker
 * leave the pseudo-headers out and start with Host (the authority, as HTTP/1.1 would send it).
 */
export function checkH2Head(raw: readonly string[], endStream: boolean, rules: H2HeadRules): CheckedHead | RequestRefusal {
  let method = '';
  let path: string | undefined;
  let authorityValue: string | undefined;
  let hostValue: string | undefined;
  let hosts = 0;
  let count = 0;
  let size = 0;
  let contentLength = '';
  let contentLengths = 0;
  let expectContinue = false;
  let requestId: string | undefined;
  let hasAuthorization = false;
  let headers = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ':method') method = value;
      else if (name === ':path') path = value;
      else if (name === ':authority') authorityValue = value;
      continue;
    }
    count++;
    size += name.length + value.length + 4; // "name: value\r\n"
    // nghttp2 hands names in lower case only (upper case is a malformed request).
    switch (name) {
      case 'host':
        hosts++;
        hostValue ??= value;
        continue; // sent first, from the authority, below
      case 'expect':
        if (value.toLowerCase() === '100-continue') expectContinue = true;
        break;
      case 'x-request-id':
        if (VALID_REQUEST_ID.test(value)) requestId = value;
        break;
      case 'authorization':
        hasAuthorization = true;
        break;
      case 'content-length':
        contentLength = value;
        contentLengths++;
        break;
    }
    headers += '\0' + name + '\0' + value;
  }
  if (rules.maxHeaderCount > 0 && count > rules.maxHeaderCount) {
    return new RequestRefusal(C.TOO_MANY_HEADERS, 431, `${count} header fields, more than max-header-count (${rules.maxHeaderCount})`);
  }
  // As HTTP/1.1 would send it: "METHOD PATH HTTP/1.1\r\n", the fields, the blank line.
  size += method.length + (path?.length ?? 0) + 13;
  if (rules.maxHeaderSize > 0 && size > rules.maxHeaderSize) {
    return new RequestRefusal(C.HEADERS_TOO_LARGE, 431, `the request's fields take ${size} bytes, more than max-header-size (${rules.maxHeaderSize})`);
  }
  if (path === undefined) return new RequestRefusal(C.TARGET_INVALID, 400, 'an HTTP/2 request without :path');
  const target = splitRequestTarget(path);
  if (target === 'bad-target' || target.form === 'absolute') {
    return new RequestRefusal(C.TARGET_INVALID, 400, 'the :path is not a path beginning with / (or * for OPTIONS)');
  }
  if (target.form === 'asterisk' && method !== 'OPTIONS') {
    return new RequestRefusal(C.TARGET_INVALID, 400, `the :path * is for OPTIONS only, not ${method}`);
  }
  if (hosts > 1) return new RequestRefusal(C.HOST_DUPLICATE, 400, `${hosts} Host headers`);
  let authority: Authority | undefined;
  if (authorityValue !== undefined) {
    authority = parseAuthority(authorityValue);
    if (authority === undefined) return new RequestRefusal(C.HOST_INVALID, 400, `the :authority ${JSON.stringify(authorityValue)} is not a valid host[:port]`);
  }
  if (hostValue !== undefined) {
    const fromHost = parseAuthority(hostValue);
    if (fromHost === undefined) return new RequestRefusal(C.HOST_INVALID, 400, `the Host header ${JSON.stringify(hostValue)} is not a valid host[:port]`);
    // RFC 9113 8.3.1: a Host that names another host than :authority makes the request malformed.
    if (authority !== undefined && (fromHost.name !== authority.name || fromHost.port !== authority.port)) {
      return new RequestRefusal(
        C.HOST_INVALID,
        400,
        `the Host header ${JSON.stringify(hostValue)} differs from the :authority ${JSON.stringify(authorityValue)}`,
      );
    }
    authority ??= fromHost;
  }
  const shown = authorityValue ?? hostValue;
  if (authority === undefined || shown === undefined) return new RequestRefusal(C.HOST_MISSING, 400, 'an HTTP/2 request without :authority or Host');
  let length = -1;
  if (contentLengths > 0) {
    const n = contentLengthOf(contentLengths, contentLength);
    if (typeof n !== 'number') return n;
    length = n;
  } else if (endStream) {
    length = 0;
  }
  return {
    target,
    authority,
    hostValue: shown,
    contentLength: length,
    // A body without Content-Length: DATA frames until END_STREAM, read as a chunked one is.
    chunked: length < 0,
    expectContinue,
    requestId,
    hasAuthorization,
    headers: `\0Host\0${shown}${headers}`,
  };
}
