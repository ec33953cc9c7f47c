import type { CompressConfig } from '../config/frontdoor-schema.js';
import { chooseEncoding, type ContentCoding } from './accept-encoding.js';

/**
 * Whether to compress one response, decided from the request and the response head the
 * application (or the static-file server) produced. Pure. A response that *could* be compressed
 * for some client varies by Accept-Encoding, so caches must be told (`vary`), whether or not this
 * client gets it compressed.
 */

export type Header = readonly [string, string];

export interface CompressionInput {
  method: string;
  status: number;
  acceptEncoding: string | undefined;
  headers: readonly Header[];
  /** The mount's or alias's compress settings; undefined: off. */
  settings: CompressConfig | undefined;
}

export type CompressionDecision = { compress: false; vary: boolean; reason: string } | { compress: true; encoding: ContentCoding; vary: true };

function values(headers: readonly Header[], name: string): string[] {
  const out: string[] = [];
  for (const [k, v] of headers) if (k.length === name.length && k.toLowerCase() === name) out.push(v);
  return out;
}

/** Whether a Content-Type (with parameters) is in the allowlist (type/subtype or type/*). */
export function typeAllowed(contentType: string, types: readonly string[]): boolean {
  const media = (contentType.split(';')[0] as string).trim().toLowerCase();
  const slash = media.indexOf('/');
  if (slash <= 0) return false;
  const wildcard = `${media.slice(0, slash)}/*`;
  return types.includes(media) || types.includes(wildcard);
}

export function decideCompression(input: CompressionInput): CompressionDecision {
  const s = input.settings;
  const no = (reason: string, vary = false): CompressionDecision => ({ compress: false, vary, reason });
  if (s === undefined) return no('compression is off here');
  const st = input.status;
  if (st < 200 || st === 204 || st === 304) return no(`a ${st} response has no body`);
  if (st === 206 || values(input.headers, 'content-range').length > 0) return no('partial content (a range) is sent as it is');
  const encoding = values(input.headers, 'content-encoding');
  if (encoding.some((v) => v.trim() !== '')) return no('the application encoded the body itself');
  if (values(input.headers, 'cache-control').some((v) => /(^|,)\s*no-transform\s*(,|$)/i.test(v))) return no('Cache-Control: no-transform');
  const type = values(input.headers, 'content-type')[0];
  if (type === undefined || !typeAllowed(type, s.types)) return no(`content type ${type ?? '(none)'} is not in compress.types`);
  const length = values(input.headers, 'content-length')[0];
  if (length !== undefined && /^\d+$/.test(length.trim()) && Number(length) < s.minSize) return no(`${length} bytes is under compress.min-size`);
  // From here the representation depends on Accept-Encoding.
  if (input.method === 'HEAD') return no('HEAD has no body', true);
  const chosen = chooseEncoding(input.acceptEncoding, s.encodings);
  if (chosen === undefined) return no('the client accepts none of compress.encodings', true);
  return { compress: true, encoding: chosen, vary: true };
}

/** The headers with Accept-Encoding merged into Vary (unless Vary is * or already names it). */
export function withVary(headers: readonly Header[]): Header[] {
  const out = headers.map((h) => [h[0], h[1]] as [string, string]);
  let last = -1;
  for (let i = 0; i < out.length; i++) {
    const [k, v] = out[i] as [string, string];
    if (k.toLowerCase() !== 'vary') continue;
    const tokens = v.split(',').map((t) => t.trim().toLowerCase());
    if (tokens.includes('*') || tokens.includes('accept-encoding')) return out;
    last = i;
  }
  if (last < 0) out.push(['Vary', 'Accept-Encoding']);
  else {
    const h = out[last] as [string, string];
    h[1] = h[1].trim() === '' ? 'Accept-Encoding' : `${h[1]}, Accept-Encoding`;
  }
  return out;
}

/**
 * The response head of a compressed response: Content-Encoding set, Content-Length and
 * Accept-Ranges removed (ranges of the compressed bytes are not offered), a strong ETag made weak
 * (the bytes differ from the uncompressed ones; weak comparison still answers If-None-Match),
 * Vary merged.
 */
export function compressedHeaders(headers: readonly Header[], encoding: ContentCoding): Header[] {
  const kept: Header[] = [];
  for (const [k, v] of headers) {
    const l = k.toLowerCase();
    if (l === 'content-length' || l === 'accept-ranges') continue;
    if (l === 'etag' && !v.trim().startsWith('W/')) kept.push([k, `W/${v.trim()}`]);
    else kept.push([k, v]);
  }
  kept.push(['Content-Encoding', encoding]);
  return withVary(kept);
}
