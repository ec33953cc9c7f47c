/**
 * The request-target as Apache hands it to mod_wsgi: unreserved %XX decoded, dot-segments removed
 * (never above the root), runs of slashes merged, then percent-decoded to bytes. The result is a
 * "native string" as PEP 3333 wants: one char per byte (latin-1).
 */
export interface RequestTarget {
  /** Decoded, normalized path, latin-1 (one char per byte). */
  path: string;
  /** The raw query string, after '?', not decoded. */
  query: string;
}

export type TargetError = 'bad-target' | 'above-root' | 'bad-escape' | 'nul';

export function parseRequestTarget(url: string): RequestTarget | TargetError {
  let raw = url;
  let query = '';
  const q = url.indexOf('?');
  if (q >= 0) {
    raw = url.slice(0, q);
    query = url.slice(q + 1);
  }
  if (raw.charCodeAt(0) !== 47 /* / */) {
    const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*(\/.*)?$/.exec(raw);
    if (abs === null) return 'bad-target';
    raw = abs[1] ?? '/';
  }
  const hash = raw.indexOf('#');
  if (hash >= 0) raw = raw.slice(0, hash);
  if (raw.indexOf('%') === -1 && raw.indexOf('/.') === -1 && raw.indexOf('//') === -1) {
    return { path: raw, query };
  }
  const unreserved = decodeUnreserved(raw);
  if (unreserved === null) return 'bad-escape';
  const normal = removeDotSegments(unreserved.replace(/\/{2,}/g, '/'));
  if (normal === null) return 'above-root';
  const path = percentDecode(normal);
  if (path === null) return 'bad-escape';
  if (path.indexOf('\0') !== -1) return 'nul';
  return { path, query };
}

const HEX = /^[0-9a-fA-F]{2}$/;

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e
  );
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
