import type { ResponseHead } from '../contract/request-port.js';
import { WsgiHostError } from '../errors.js';
import { ProtocolErrorCode } from './protocol-error.js';

/**
 * The RESPONSE frame's payload: status (u16) | head length (u32) | head | body.
 * The head is latin-1 "reason\0name\0value\0name\0value...".
 *
 * This is the one place where what a worker says about a response is checked: an application is
 * code we host, not code we trust, and it can write any bytes to its connection. A head that does
 * not pass is never written (the request gets a 500 and the log says why).
 */
export type { ResponseHead };

/** A response head that must not be sent: the message says what is wrong with it. */
export class InvalidResponseError extends WsgiHostError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ProtocolErrorCode.INVALID_RESPONSE, message, {
      ...options,
      hint: 'The application must send a status "NNN reason" (200-599) and headers whose names are tokens and whose values are latin-1 text without control characters (PEP 3333, RFC 9110).',
    });
  }
}

/**
 * What may appear in neither a reason phrase nor a field value (RFC 9112 / RFC 9110): controls
 * other than HTAB, and DEL. NUL is the head's separator, so it never appears inside a field.
 */
const CONTROL = /[\x01-\x08\x0a-\x1f\x7f]/;
/** The whole head without any of them (anchored and negated: V8 runs this one fastest). */
const CLEAN = /^[^\x01-\x08\x0a-\x1f\x7f]*$/;
/** Content-Length: digits only (RFC 9110 8.6); '+10', '1_0', ' 10 ', '0x10' are refused. */
const DIGITS = /^[0-9]{1,15}$/;

/**
 * Hop-by-hop headers (RFC 9110 7.6.1, and PEP 3333's list): they describe one connection, which the
 * front end owns, so an application's are dropped (gunicorn drops them too); Connection: close is
 * honoured. Keyed by length first, so ordinary headers cost one switch.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);
const HOP_LENGTHS = new Uint8Array(32);
for (const h of HOP_BY_HOP) HOP_LENGTHS[h.length] = 1;

/** tchar (RFC 9110 5.6.2), by character code. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

function isToken(name: string): boolean {
  const n = name.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** Without leading and trailing SP and HTAB, which are not part of a field value (RFC 9110 5.5). */
function trimOws(value: string): string {
  const c0 = value.charCodeAt(0);
  const cn = value.charCodeAt(value.length - 1);
  return c0 === 0x20 || c0 === 0x09 || cn === 0x20 || cn === 0x09 ? value.replace(/^[ \t]+|[ \t]+$/g, '') : value;
}

function describeChar(text: string): string {
  const m = CONTROL.exec(text);
  const code = m === null ? 0 : (m[0] as string).charCodeAt(0);
  const names: Record<number, string> = { 0x0a: 'LF', 0x0d: 'CR', 0x7f: 'DEL' };
  return names[code] ?? `control character 0x${code.toString(16).padStart(2, '0')}`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text);
}

/**
 * Decodes and checks a RESPONSE payload. Throws InvalidResponseError (nothing may be sent) when:
 * the payload is truncated; the status is not 200-599 (1xx are the server's own); the reason phrase
 * or a header value has a control character (CR, LF, NUL...); a header name is not a token; a
 * Content-Length is not plain digits, or two differ. Drops hop-by-hop headers (noting which) and,
 * on 204 and 304, Content-Length, which such responses must not carry.
 */
export function decodeResponseHead(payload: Buffer): ResponseHead {
  if (payload.length < 6) throw new InvalidResponseError(`the RESPONSE frame is truncated (${payload.length} bytes)`);
  const status = payload.readUInt16BE(0);
  const headLength = payload.readUInt32BE(2);
  if (headLength > payload.length - 6) throw new InvalidResponseError(`the RESPONSE frame's head length ${headLength} is past its end`);
  if (status < 200 || status > 599) {
    throw new InvalidResponseError(
      status >= 100 && status < 200
        ? `the final status must not be 1xx (got ${status}): the server sends 100 Continue itself`
        : `the status ${status} is not an HTTP status (200-599)`,
    );
  }
  const text = payload.latin1Slice(6, 6 + headLength);
  const fields = text.split('\0');
  const reason = fields[0] as string;
  if (!CLEAN.test(text)) {
    if (CONTROL.test(reason)) throw new InvalidResponseError(`the reason phrase ${quote(reason)} contains ${describeChar(reason)}`);
    for (let i = 2; i < fields.length; i += 2) {
      const v = fields[i] as string;
      if (CONTROL.test(v)) throw new InvalidResponseError(`the value of header ${quote(fields[i - 1] as string)} contains ${describeChar(v)}`);
    }
  }
  if (fields.length % 2 !== 1) throw new InvalidResponseError('the response head has a header name without a value');
  const bodyless = status === 204 || status === 304;
  let headers: string[] | undefined;
  let contentLength = -1;
  let close = false;
  let dropped: string[] | undefined;
  for (let i = 1; i < fields.length; i += 2) {
    const name = fields[i] as string;
    if (!isToken(name)) throw new InvalidResponseError(`the header name ${quote(name)} is not a token (RFC 9110)`);
    const value = trimOws(fields[i + 1] as string);
    let keep = true;
    const n = name.length;
    if (n === 14 && name.toLowerCase() === 'content-length') {
      if (!DIGITS.test(value)) throw new InvalidResponseError(`Content-Length ${quote(value)} is not a number of bytes (digits only)`);
      const length = Number(value);
      if (contentLength >= 0) {
        if (length !== contentLength) throw new InvalidResponseError(`two different Content-Length values (${contentLength} and ${length})`);
        keep = false; // the same value twice: sent once
      }
      contentLength = length;
      if (bodyless) keep = false;
    } else if (n < 32 && HOP_LENGTHS[n] === 1) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower)) {
        keep = false;
        if (lower === 'connection' && /(^|,)\s*close\s*(,|$)/i.test(value)) close = true;
        else {
          dropped ??= [];
          dropped.push(name);
        }
      }
    }
    if (keep) {
      if (headers !== undefined) headers.push(name, value);
      else if (value !== fields[i + 1]) headers = fields.slice(1, i).concat(name, value);
    } else {
      headers ??= fields.slice(1, i);
    }
  }
  if (headers === undefined) {
    fields.shift();
    headers = fields;
  }
  return { status, reason, headers, contentLength: bodyless ? -1 : contentLength, close, dropped, body: payload.subarray(6 + headLength) };
}

export function encodeResponseHead(status: number, reason: string, headers: readonly string[], body?: Buffer): Buffer {
  const text = [reason, ...headers].join('\0');
  const bodyLength = body === undefined ? 0 : body.length;
  const b = Buffer.allocUnsafe(6 + text.length + bodyLength);
  b.writeUInt16BE(status, 0);
  b.writeUInt32BE(text.length, 2);
  b.latin1Write(text, 6);
  if (body !== undefined) body.copy(b, 6 + text.length);
  return b;
}
