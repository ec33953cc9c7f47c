/**
 * Static URL aliases, as Apache's `Alias /static /srv/site/static`: GET and HEAD for the files
 * under one directory, never anything outside it (realpaths are compared, so a symlink may point
 * anywhere inside the directory but nowhere else), with validators, 304s and single byte ranges.
 */
import { constants } from 'node:fs';
import { type FileHandle, open, realpath, stat } from 'node:fs/promises';
import type { HttpRequest, HttpResponse } from './message.js';
import { join, sep } from 'node:path';
import type { CompressConfig } from '../config/frontdoor-schema.js';
import type { DotfilesSetting } from '../config/schema.js';
import { etagFor, isNotModified, preconditionFailed, requestedRange } from './conditional-requests.js';
import { contentType } from './content-types.js';
import { breakResponse, sendErrorPage } from './error-response.js';
import { sendFileRange } from './file-send.js';
import { parseRequestTarget } from './request-target.js';
import type { ContentCoding } from '../frontdoor/accept-encoding.js';
import { ResponseCompressor } from '../frontdoor/response-compressor.js';
import { compressStatic } from './response-compression.js';

export interface StaticAlias {
  /** Absolute path of the directory served. */
  directory: string;
  /** Names starting with a dot: 'deny' (403), 'hide' (404) or 'allow'; .ht* are 403 always. */
  dotfiles: DotfilesSetting;
  /** Response compression (undefined: off). */
  compress?: CompressConfig;
}

const INDEX = 'index.html';
/** O_NONBLOCK: a FIFO swapped in after the stat must not hang the open. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
/** AllowEncodedSlashes Off: %2F or %5C anywhere in the path is a 404. */
const ENCODED_SLASH = /%(2f|5c)/i;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

const EXPLANATIONS: Record<number, string> = {
  403: 'You do not have permission to access this URL.',
  404: 'The requested URL was not found on this server.',
  405: 'Only GET and HEAD are allowed here.',
  412: 'The file is not the version the request names (If-Match, If-Unmodified-Since).',
  416: 'The requested range is not within the file.',
  500: 'The file could not be read.',
};

/**
 * Serves GET/HEAD for one request under an alias. subPath: the decoded, normalized path below the
 * alias prefix ('' or '/x/y'), as the router computed it; rawUrl: req.url as received.
 */
export function serveStatic(req: HttpRequest, res: HttpResponse, alias: StaticAlias, subPath: string, rawUrl: string): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendStatus(res, 405);
    return;
  }
  const segments = safeSegments(subPath, rawUrl);
  if (segments === undefined) {
    sendStatus(res, 404);
    return;
  }
  const hidden = dotfileStatus(segments, alias.dotfiles);
  if (hidden !== undefined) {
    sendStatus(res, hidden);
    return;
  }
  serve(req, res, alias, segments, subPath.endsWith('/'), rawUrl).catch((err: unknown) => sendStatus(res, statusFor(err)));
}

/** The path's segments as file names (UTF-8), or undefined when the path must not be served. */
function safeSegments(subPath: string, rawUrl: string): string[] | undefined {
  const rawPath = rawUrl.split('?', 1)[0] as string;
  if (ENCODED_SLASH.test(rawPath)) return undefined;
  if (subPath !== '' && !subPath.startsWith('/')) return undefined;
  if (subPath.includes('\0') || subPath.includes('\\')) return undefined;
  let text: string;
  try {
    text = UTF8.decode(Buffer.from(subPath, 'latin1'));
  } catch {
    return undefined; // not UTF-8: no file name on this system can match
  }
  const segments = text.split('/').filter((s) => s !== '');
  return segments.some((s) => s === '.' || s === '..') ? undefined : segments;
}

/** RFC 8615's folder of site metadata (ACME challenges...): served although its name starts with a dot. */
const WELL_KNOWN = '.well-known';

/**
 * The status for a path with a segment starting with a dot, or undefined to serve it. `.ht*`
 * (.htaccess, .htpasswd) is 403 whatever the setting, as Debian's Apache configures it; other
 * dotfiles and dot-folders (.env, .git/config) follow the alias's `dotfiles`.
 */
export function dotfileStatus(segments: readonly string[], policy: DotfilesSetting): 403 | 404 | undefined {
  let status: 403 | 404 | undefined;
  for (const seg of segments) {
    if (seg.charCodeAt(0) !== 46 /* . */) continue;
    if (seg.slice(0, 3).toLowerCase() === '.ht') return 403;
    if (seg === WELL_KNOWN || policy === 'allow') continue;
    status ??= policy === 'hide' ? 404 : 403;
  }
  return status;
}

async function serve(req: HttpRequest, res: HttpResponse, alias: StaticAlias, segments: string[], trailingSlash: boolean, rawUrl: string): Promise<void> {
  const root = await realpath(alias.directory);
  let found = await locate(root, join(root, ...segments));
  let name = segments[segments.length - 1] ?? '';
  if (found.isDirectory) {
    const index = await locate(root, join(found.path, INDEX)).catch(() => undefined);
    if (index === undefined || index.isDirectory) return sendStatus(res, 403);
    if (!trailingSlash) return redirectToSlash(req, res, rawUrl);
    found = index;
    name = INDEX;
  } else if (trailingSlash) {
    return sendStatus(res, 404);
  }
  await serveFile(req, res, found.path, name, alias.compress);
}

/** The realpath of candidate, which must be root or inside it (else ENOENT), and whether it is a directory. */
async function locate(root: string, candidate: string): Promise<{ path: string; isDirectory: boolean }> {
  const real = await realpath(candidate);
  const inside = real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
  if (!inside) throw Object.assign(new Error(`${candidate} resolves outside ${root}`), { code: 'ENOENT' });
  return { path: real, isDirectory: (await stat(real)).isDirectory() };
}

async function serveFile(req: HttpRequest, res: HttpResponse, path: string, name: string, compress: CompressConfig | undefined): Promise<void> {
  const handle = await open(path, OPEN_FLAGS);
  let streaming = false;
  try {
    const st = await handle.stat();
    if (!st.isFile()) return sendStatus(res, 404);
    const size = st.size;
    const etag = etagFor(size, st.mtimeMs);
    res.setHeader('ETag', etag);
    res.setHeader('Last-Modified', new Date(st.mtimeMs).toUTCString());
    if (preconditionFailed(req.headers, etag, st.mtimeMs)) return sendStatus(res, 412);
    // With compress, the file's whole representation depends on Accept-Encoding: Vary says so, and
    // the compressed one has a weak ETag (its bytes differ; If-None-Match compares weakly).
    const compression =
      compress === undefined ? undefined : compressStatic(compress, req.method as string, req.headers['accept-encoding'], contentType(name), size);
    if (compression?.vary) res.setHeader('Vary', 'Accept-Encoding');
    if (compression?.encoding !== undefined) res.setHeader('ETag', `W/${etag}`);
    if (isNotModified(req.headers, etag, st.mtimeMs)) {
      res.writeHead(304);
      res.end();
      return;
    }
    const range = req.method === 'GET' ? requestedRange(req.headers, size, etag, st.mtimeMs) : undefined;
    if (range === undefined && compression?.encoding !== undefined) {
      // The whole file, compressed (a range is always sent as it is, with the strong ETag).
      res.setHeader('Content-Type', contentType(name));
      sendCompressed(res, handle, size, compression.encoding);
      streaming = true;
      return;
    }
    res.setHeader('ETag', etag);
    res.setHeader('Accept-Ranges', 'bytes');
    if (range === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${size}`);
      return sendStatus(res, 416);
    }
    const { start, end } = range ?? { start: 0, end: size - 1 };
    res.setHeader('Content-Type', contentType(name));
    res.setHeader('Content-Length', end - start + 1);
    if (range !== undefined) res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    res.writeHead(range !== undefined ? 206 : 200);
    if (req.method === 'HEAD' || end < start) {
      res.end();
      return;
    }
    // A read error or a file shorter than its range cuts the connection: never a short body.
    sendFileRange(res, handle, start, end - start + 1, (outcome) => {
      if (outcome.result === 'sent') res.end();
      else if (!outcome.clientGone) breakResponse(res);
    });
    streaming = true;
  } finally {
    if (!streaming) await handle.close();
  }
}

/** A whole file through a compressor (response-compression.ts): chunked, its end when the compressor's last bytes went out. */
function sendCompressed(res: HttpResponse, handle: FileHandle, size: number, encoding: ContentCoding): void {
  const compressor = new ResponseCompressor(encoding, { sizeHint: size, flush: false });
  res.setHeader('Content-Encoding', encoding);
  res.writeHead(200);
  compressor.stream.pipe(res);
  // A compressor fault (zlib) fails this response only, as the exchange's does.
  compressor.stream.once('error', () => {
    compressor.stream.unpipe(res);
    breakResponse(res);
  });
  res.once('close', () => compressor.destroy());
  sendFileRange(compressor.stream, handle, 0, size, (outcome) => {
    if (outcome.result === 'sent') compressor.end();
    else {
      compressor.stream.unpipe(res);
      compressor.destroy();
      if (!outcome.clientGone) breakResponse(res);
    }
  });
}

/**
 * mod_dir's redirect to the slash form. The Location is built from the normalized path, never the
 * raw one: '//evil.example/../static/dir' must not become a redirect to another host.
 */
function redirectToSlash(req: HttpRequest, res: HttpResponse, rawUrl: string): void {
  const target = parseRequestTarget(rawUrl);
  if (typeof target === 'string') return sendStatus(res, 404);
  const path = target.path.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
  const location = `${path}/${target.query !== '' ? '?' + target.query : ''}`;
  const body = `301 Moved Permanently\n\n${location}\n`;
  res.writeHead(301, { Location: location, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function statusFor(err: unknown): number {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ELOOP':
    case 'ENAMETOOLONG':
    case 'EINVAL':
      return 404;
    case 'EACCES':
    case 'EPERM':
      return 403;
    default:
      return 500;
  }
}

/** A short plain-text error page (sendError's texts speak of applications, not files). */
function sendStatus(res: HttpResponse, status: number): void {
  sendErrorPage(res, status, EXPLANATIONS[status] ?? '');
}
