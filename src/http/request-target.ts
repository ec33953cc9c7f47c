/**
 * The request-target as Apache hands it to mod_wsgi: unreserved %XX decoded, dot-segments removed
 * (never above the root), runs of slashes merged, then percent-decoded to bytes. The result is a
 * "native string" as PEP 3333 wants: one char per byte (latin-1).
 *
 * Encoded slashes (%2F) follow Apache's AllowEncodedSlashes:
 * - 'off' (Apache's default and wsgi-host's): a path with %2F is refused (404), so '..%2F' can
 *   never become a path segment;
 * - 'on': %2F is decoded like any other escape, then dot-segments and slashes are normalized again
 *   (as Apache 2.4.51+ does), so '/a/..%2F..%2Fx' is above the root (400), never '/a/../../x';
 * - 'nodecode': %2F stays as the three characters '%2F' in PATH_INFO; everything else is decoded.
 * Either way no '.' or '..' segment (encoded or not) survives into the path.
 */
export interface RequestTarget {
  /** Decoded, normalized path, latin-1 (one char per byte). */
  path: string;
  /** The raw query string, after '?', not decoded. */
  query: string;
}

export type EncodedSlashes = 'off' | 'on' | 'nodecode';

export type TargetError = 'bad-target' | 'above-root' | 'bad-escape' | 'nul' | 'encoded-slash';

/** A request-target split by form (RFC 9112 3.2), before its path is normalized. */
export interface SplitTarget {
  form: 'origin' | 'absolute' | 'asterisk';
  /** The path as sent ('/' for an absolute-form target without one; '*' for asterisk-form). */
  rawPath: string;
  /** The raw query string, after '?', not decoded. */
  query: string;
  /** absolute-form only: the authority (host[:port]) as sent, and the scheme, lower-cased. */
  authority?: string;
  scheme?: string;
}

/**
 * Splits a request-target into its form, path and query. A fragment ('#') is refused: RFC 9112
 * gives request-targets none, and a client that sends one means something we cannot know.
 */
export function splitRequestTarget(url: string): SplitTarget | 'bad-target' {
  if (url.indexOf('#') !== -1) return 'bad-target';
  let raw = url;
  let query = '';
  const q = url.indexOf('?');
  if (q >= 0) {
    raw = url.slice(0, q);
    query = url.slice(q + 1);
  }
  if (raw.charCodeAt(0) === 47 /* / */) return { form: 'origin', rawPath: raw, query };
  if (url === '*') return { form: 'asterisk', rawPath: '*', query: '' };
  const abs = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/]*)(\/.*)?$/.exec(raw);
  if (abs === null) return 'bad-target';
  return { form: 'absolute', rawPath: abs[3] ?? '/', query, authority: abs[2] as string, scheme: (abs[1] as string).toLowerCase() };
}

/**
 * The path and query of a request-target (origin-form or absolute-form). encodedSlashes defaults
 * to 'on' (%2F decoded, then normalized again); the front end passes each host's setting.
 */
export function parseRequestTarget(url: string, encodedSlashes: EncodedSlashes = 'on'): RequestTarget | TargetError {
  const split = splitRequestTarget(url);
  if (split === 'bad-target' || split.form === 'asterisk') return 'bad-target';
  const path = normalizePath(split.rawPath, encodedSlashes);
  return typeof path === 'string' ? path : { path: path.path, query: split.query };
}

const ENCODED_SLASH = /%2f/i;

/** Normalizes and decodes a path that starts with '/' (see the file comment). */
export function normalizePath(raw: string, encodedSlashes: EncodedSlashes): { path: string } | TargetError {
  if (raw.indexOf('%') === -1 && raw.indexOf('/.') === -1 && raw.indexOf('//') === -1) return { path: raw };
  const unreserved = decodeUnreserved(raw);
  if (unreserved === null) return 'bad-escape';
  const hasEncodedSlash = ENCODED_SLASH.test(unreserved);
  if (hasEncodedSlash && encodedSlashes === 'off') return 'encoded-slash';
  const normal = removeDotSegments(unreserved.replace(/\/{2,}/g, '/'));
  if (normal === null) return 'above-root';
  let path: string | null;
  if (!hasEncodedSlash) {
    path = percentDecode(normal);
  } else if (encodedSlashes === 'nodecode') {
    path = decodeKeepingSlashes(normal);
  } else {
    // 'on': decoding made new slashes; what they delimit is normalized again.
    const decoded = percentDecode(normal);
    path = decoded === null ? null : removeDotSegments(decoded.replace(/\/{2,}/g, '/'));
    if (decoded !== null && path === null) return 'above-root';
  }
  if (path === null) return 'bad-escape';
  if (path.indexOf('\0') !== -1) return 'nul';
  return { path };
}

/** Percent-decodes all but %2F, which stays as written ('nodecode'); null on a malformed escape. */
function decodeKeepingSlashes(s: string): string | null {
  let out = '';
  const parts = s.split(/(%2f)/i);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const decoded = i % 2 === 1 ? part : percentDecode(part);
    if (decoded === null) return null;
    out += decoded;
  }
  return out;
}

const HEX = /^[0-9a-fA-F]{2}$/;

function isUnreserved(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

/** Decodes %XX only where XX is an unreserved character; null on a malformed escape. */
function decodeUnreserved(s: string): string | null {
  if (s.indexOf('%') === -1) return s;
  let out = '';
  let last = 0;
  for (let i = s.indexOf('%'); i !== -1; i = s.indexOf('%', i + 1)) {
    const hex = s.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return null;
    const c = parseInt(hex, 16);
    if (isUnreserved(c)) {
      out += s.slice(last, i) + String.fromCharCode(c);
      last = i + 3;
    }
  }
  return out + s.slice(last);
}

/** RFC 3986 remove_dot_segments on a path starting with '/'; null when it climbs above the root. */
export function removeDotSegments(path: string): string | null {
  if (path.indexOf('/.') === -1) return path;
  const segs = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segs.length; i++) {
    const seg = segs[i] as string;
    const last = i === segs.length - 1;
    if (seg === '.') {
      if (last) out.push('');
    } else if (seg === '..') {
      if (out.length === 0) return null;
      out.pop();
      if (last) out.push('');
    } else {
      out.push(seg);
    }
  }
  return '/' + out.join('/');
}

/** Full percent-decoding to one char per byte; null on a malformed escape. */
export function percentDecode(s: string): string | null {
  if (s.indexOf('%') === -1) return s;
  let out = '';
  let last = 0;
  for (let i = s.indexOf('%'); i !== -1; i = s.indexOf('%', last)) {
    const hex = s.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return null;
    out += s.slice(last, i) + String.fromCharCode(parseInt(hex, 16));
    last = i + 3;
  }
  return out + s.slice(last);
}
