/**
 * Validators, conditional requests and byte ranges for static files (RFC 9110 sections 8.8, 13, 14).
 */
import type { IncomingMessage } from 'node:http';

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

/**
 * RFC 9110 13.2.2 steps 3 and 4 for GET/HEAD: true when the client's copy is current and the answer
 * is 304. If-None-Match (weak comparison, `*` matches any) decides when present, If-Modified-Since
 * only when it is absent.
 */
export function isNotModified(req: IncomingMessage, etag: string, mtimeMs: number): boolean {
  const noneMatch = req.headers['if-none-match'];
  if (noneMatch !== undefined) {
    return noneMatch.trim() === '*' || entityTags(noneMatch).some((t) => weakEqual(t, etag));
  }
  const since = req.headers['if-modified-since'];
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
export function requestedRange(req: IncomingMessage, size: number, etag: string, mtimeMs: number): ByteRange | 'unsatisfiable' | undefined {
  const header = req.headers.range;
  if (header === undefined) return undefined;
  const ifRange = req.headers['if-range'];
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
