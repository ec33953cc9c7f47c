/**
 * Validators, conditional requests and byte ranges for static files (RFC 9110 sections 8.8, 13, 14).
 */

/** Request header fields by lower-case name, as node:http's req.headers has them. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

function field(headers: RequestHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** A strong ETag from size and modification time, as Apache's default FileETag MTime Size. */
export function etagFor(size: number, mtimeMs: number): string {
  return `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

/** Last-Modified resolution: whole seconds, in milliseconds since the epoch. */
function modifiedSecond(mtimeMs: number): number {
  return Math.floor(mtimeMs / 1000) * 1000;
}

/** The entity-tags of a list such as `"a", W/"b"`. */
function entityTags(list: string): string[] {
  return list.match(/(?:W\/)?"[^"]*"/g) ?? [];
}

function weakEqual(a: string, b: string): boolean {
  return a.replace(/^W\//, '') === b.replace(/^W\//, '');
}

/** Strong comparison: both strong, the same opaque tag. */
function strongEqual(a: string, b: string): boolean {
  return !a.startsWith('W/') && !b.startsWith('W/') && a === b;
}

/**
 * RFC 9110 13.2.2 steps 1 and 2: true when a precondition fails and the answer is 412. If-Match
 * (strong comparison, `*` matches the existing file) decides when present; If-Unmodified-Since
 * (ignored when it is not a valid date) only when it is absent.
 */
export function preconditionFailed(headers: RequestHeaders, etag: string, mtimeMs: number): boolean {
  const match = field(headers, 'if-match');
  if (match !== undefined) {
    return !(match.trim() === '*' || entityTags(match).some((t) => strongEqual(t, etag)));
  }
  const since = field(headers, 'if-unmodified-since');
  if (since === undefined) return false;
  const date = Date.parse(since);
  return !Number.isNaN(date) && modifiedSecond(mtimeMs) > date;
}

/**
 * RFC 9110 13.2.2 steps 3 and 4 for GET/HEAD: true when the client's copy is current and the answer
 * is 304. If-None-Match (weak comparison, `*` matches any) decides when present, If-Modified-Since
 * only when it is absent.
 */
export function isNotModified(headers: RequestHeaders, etag: string, mtimeMs: number): boolean {
  const noneMatch = field(headers, 'if-none-match');
  if (noneMatch !== undefined) {
    return noneMatch.trim() === '*' || entityTags(noneMatch).some((t) => weakEqual(t, etag));
  }
  const since = field(headers, 'if-modified-since');
  if (since === undefined) return false;
  const date = Date.parse(since);
  return !Number.isNaN(date) && modifiedSecond(mtimeMs) <= date;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * The one byte range a GET asks for. undefined: send the whole file (no Range, a failed If-Range,
 * another unit, several ranges, or a malformed header, which RFC 9110 says to ignore);
 * 'unsatisfiable': answer 416.
 */
export function requestedRange(headers: RequestHeaders, size: number, etag: string, mtimeMs: number): ByteRange | 'unsatisfiable' | undefined {
  const header = field(headers, 'range');
  if (header === undefined) return undefined;
  const ifRange = field(headers, 'if-range');
  if (ifRange !== undefined && !ifRangeHolds(String(ifRange).trim(), etag, mtimeMs)) return undefined;
  const m = /^bytes=[ \t]*(\d*)-(\d*)[ \t]*$/i.exec(header.trim());
  if (m === null) return undefined;
  const first = m[1] as string;
  const last = m[2] as string;
  if (first === '') {
    if (last === '') return undefined;
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

/** If-Range: an entity-tag must match strongly (a weak one never does), a date exactly. */
function ifRangeHolds(value: string, etag: string, mtimeMs: number): boolean {
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag;
  return Date.parse(value) === modifiedSecond(mtimeMs);
}
