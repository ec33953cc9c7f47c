/**
 * The rules a request head must pass before it is routed (RFC 9112, RFC 9110), on what any HTTP/1.1
 * parser gives: method, target, version and the raw header lines. node:http's parser (llhttp) has
 * already refused what breaks the message syntax (see docs/http.md); these are the rules it leaves
 * to the server: version, Host, the target's form, transfer codings with the other framing rules
 * repeated (so they hold whatever parser is below), and the header count.
 */
import { type Authority, parseAuthority } from './host-header.js';
import { RefusalCode as C, RequestRefusal } from './http-refusal.js';
import { type SplitTarget, splitRequestTarget } from './request-target.js';

export interface HeadRules {
  /** Header lines at most (431 beyond; 0: no limit but max-header-size). */
  maxHeaderCount: number;
}

/** What the front end needs to know about a request head that passed the rules. */
export interface CheckedHead {
  target: SplitTarget;
  /**
   * The authority requests are routed by: the absolute-form target's, else the Host header's;
   * undefined for an HTTP/1.0 request without Host. hostValue is it as the application sees it.
   */
  authority: Authority | undefined;
  hostValue: string | undefined;
  /** -1 when there is no Content-Length. */
  contentLength: number;
  chunked: boolean;
  expectContinue: boolean;
  /** The client's X-Request-Id when it is usable as ours. */
  requestId: string | undefined;
  hasAuthorization: boolean;
  /** The header lines for the worker, each name and value preceded by NUL, Host replaced for absolute-form. */
  headers: string;
}

/** An X-Request-Id the client sent is kept when it is 1-200 printable ASCII characters without spaces. */
export const VALID_REQUEST_ID = /^[\x21-\x7e]{1,200}$/;
const DIGITS = /^[0-9]+$/;

/**
 * The body length the Content-Length headers say (count: how many were sent; value: the last), or
 * the refusal: one whole number of digits, nothing else (HTTP/1.1 and HTTP/2 alike).
 */
export function contentLengthOf(count: number, value: string): number | RequestRefusal {
  if (count > 1 || !DIGITS.test(value) || !Number.isSafeInteger(Number(value))) {
    return new RequestRefusal(C.CONTENT_LENGTH_INVALID, 400, `Content-Length ${JSON.stringify(value)} is not one whole number`);
  }
  return Number(value);
}

/** Checks a request head; a refusal says what the client gets. */
export function checkRequestHead(
  method: string,
  url: string,
  versionMajor: number,
  versionMinor: number,
  raw: readonly string[],
  rules: HeadRules,
): CheckedHead | RequestRefusal {
  if (versionMajor !== 1 || (versionMinor !== 0 && versionMinor !== 1)) {
    return new RequestRefusal(C.VERSION, 505, `HTTP/${versionMajor}.${versionMinor} is not HTTP/1.0 or HTTP/1.1`);
  }
  const http11 = versionMinor === 1;
  const count = raw.length >>> 1;
  if (rules.maxHeaderCount > 0 && count > rules.maxHeaderCount) {
    return new RequestRefusal(C.TOO_MANY_HEADERS, 431, `${count} header lines, more than max-header-count (${rules.maxHeaderCount})`);
  }
  const target = splitRequestTarget(url);
  if (target === 'bad-target') return new RequestRefusal(C.TARGET_INVALID, 400, 'the request-target is not a path, an absolute URI or *');
  if (target.form === 'asterisk' && method !== 'OPTIONS') {
    return new RequestRefusal(C.TARGET_INVALID, 400, `the request-target * is for OPTIONS only, not ${method}`);
  }
  let authority: Authority | undefined;
  if (target.form === 'absolute') {
    if (target.scheme !== 'http' && target.scheme !== 'https') {
      return new RequestRefusal(C.TARGET_INVALID, 400, `the absolute-form target's scheme is ${target.scheme}, not http or https`);
    }
    authority = target.authority === '' ? undefined : parseAuthority(target.authority as string);
    if (authority === undefined) return new RequestRefusal(C.TARGET_INVALID, 400, "the absolute-form target's authority is not a valid host[:port]");
  }

  let hostValue: string | undefined;
  let hosts = 0;
  let contentLength = '';
  let contentLengths = 0;
  let transferEncoding: string | undefined;
  let expectContinue = false;
  let requestId: string | undefined;
  let hasAuthorization = false;
  let headers = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    let value = raw[i + 1] as string;
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') {
          hosts++;
          hostValue ??= value;
          // RFC 9112 3.2.2: an absolute-form target's authority replaces Host.
          if (authority !== undefined) value = target.authority as string;
        }
        break;
      case 6:
        if (http11 && name.toLowerCase() === 'expect' && value.toLowerCase() === '100-continue') expectContinue = true;
        break;
      case 12:
        if (name.toLowerCase() === 'x-request-id' && VALID_REQUEST_ID.test(value)) requestId = value;
        break;
      case 13:
        if (name.toLowerCase() === 'authorization') hasAuthorization = true;
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          contentLength = value;
          contentLengths++;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
        break;
    }
    headers += '\0' + name + '\0' + value;
  }

  if (hosts > 1) return new RequestRefusal(C.HOST_DUPLICATE, 400, `${hosts} Host headers`);
  if (hostValue !== undefined) {
    const fromHeader = parseAuthority(hostValue);
    if (fromHeader === undefined) return new RequestRefusal(C.HOST_INVALID, 400, `the Host header ${JSON.stringify(hostValue)} is not a valid host[:port]`);
    if (authority === undefined) authority = fromHeader;
  } else if (http11) {
    return new RequestRefusal(C.HOST_MISSING, 400, 'an HTTP/1.1 request without a Host header');
  }
  if (target.form === 'absolute') {
    if (hostValue === undefined) headers = `\0Host\0${target.authority as string}${headers}`;
    hostValue = target.authority;
  }

  let chunked = false;
  if (transferEncoding !== undefined) {
    if (!http11) return new RequestRefusal(C.TRANSFER_ENCODING_INVALID, 400, 'Transfer-Encoding in an HTTP/1.0 request');
    if (contentLengths > 0) return new RequestRefusal(C.TRANSFER_ENCODING_INVALID, 400, 'both Content-Length and Transfer-Encoding');
    const codings = transferEncoding
      .split(',')
      .map((c) => c.trim().toLowerCase())
      .filter((c) => c !== '');
    if (codings[codings.length - 1] !== 'chunked') {
      return new RequestRefusal(C.TRANSFER_ENCODING_INVALID, 400, `Transfer-Encoding ${JSON.stringify(transferEncoding)} does not end with chunked`);
    }
    if (codings.length > 1) {
      if (codings.indexOf('chunked') !== codings.length - 1) {
        return new RequestRefusal(C.TRANSFER_ENCODING_INVALID, 400, `Transfer-Encoding ${JSON.stringify(transferEncoding)} applies chunked twice`);
      }
      return new RequestRefusal(C.TRANSFER_CODING_UNKNOWN, 501, `Transfer-Encoding ${JSON.stringify(transferEncoding)}: only chunked is supported`);
    }
    chunked = true;
  }
  let length = -1;
  if (contentLengths > 0) {
    const n = contentLengthOf(contentLengths, contentLength);
    if (typeof n !== 'number') return n;
    length = n;
  }
  return { target, authority, hostValue, contentLength: length, chunked, expectContinue, requestId, hasAuthorization, headers };
}

/** `headers` (as CheckedHead has them) without Authorization: for a mount with pass-authorization off. */
export function withoutAuthorization(headers: string): string {
  const fields = headers.split('\0'); // NUL never occurs in a name or value: the parser refuses it
  let out = '';
  for (let i = 1; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string;
    if (name.length === 13 && name.toLowerCase() === 'authorization') continue;
    out += '\0' + name + '\0' + (fields[i + 1] as string);
  }
  return out;
}
