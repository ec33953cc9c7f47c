/**
 * Response compression on the response path, for an application's responses (exchange.ts) and
 * static files (static-files.ts): whether a response is compressed (src/frontdoor/
 * compression-decision.ts: the mount's or alias's `compress`, Accept-Encoding, the status, the
 * type, the size, what the application encoded or ranged itself, no-transform), the head it then
 * gets (Content-Encoding, no Content-Length, a weak ETag, Vary: Accept-Encoding), and the
 * compressor (src/frontdoor/response-compressor.ts) whose output is piped to the response.
 *
 * Nothing here runs for a mount or alias without `compress`: the exchange checks one field.
 */

import type { CompressConfig } from '../config/frontdoor-schema.js';
import type { ContentCoding } from '../frontdoor/accept-encoding.js';
import { compressedHeaders, decideCompression, type Header, withVary } from '../frontdoor/compression-decision.js';
import { ResponseCompressor } from '../frontdoor/response-compressor.js';
import type { HttpResponse } from './message.js';

export interface CompressedHead {
  /** The response's header fields, flat (name, value, ...), as the response will carry them. */
  fields: string[];
  /** The body goes through this (undefined: sent as it is). */
  compressor: ResponseCompressor | undefined;
}

function pairs(fields: readonly string[]): Header[] {
  const out: Header[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) out.push([fields[i] as string, fields[i + 1] as string]);
  return out;
}

function flat(headers: readonly Header[]): string[] {
  const out: string[] = [];
  for (const [k, v] of headers) out.push(k, v);
  return out;
}

/**
 * The head of an application's response under `settings`. wholeLength: the body's length when the
 * whole body came with the head (a body under min-size is then sent as it is, whatever its
 * Content-Length says), else undefined (it streams: the compressor flushes after each burst).
 */
export function compressResponse(
  settings: CompressConfig,
  method: string,
  acceptEncoding: string | string[] | undefined,
  status: number,
  fields: string[],
  wholeLength: number | undefined,
): CompressedHead {
  const headers = pairs(fields);
  const decision = decideCompression({
    method,
    status,
    acceptEncoding: Array.isArray(acceptEncoding) ? acceptEncoding.join(', ') : acceptEncoding,
    headers,
    settings,
  });
  if (!decision.compress || (wholeLength !== undefined && wholeLength < settings.minSize)) {
    return { fields: decision.vary ? flat(withVary(headers)) : fields, compressor: undefined };
  }
  const compressor = new ResponseCompressor(decision.encoding, {
    ...(wholeLength !== undefined ? { sizeHint: wholeLength, flush: false } : {}),
  });
  return { fields: flat(compressedHeaders(headers, decision.encoding)), compressor };
}

/**
 * Pipes a compressor's output into `res` (which the caller ends), counting the bytes it sends;
 * backpressure: the compressor stops when `res` pushes back, and stops taking input soon after.
 */
export function pipeCompressed(compressor: ResponseCompressor, res: HttpResponse, sent: (n: number) => void): void {
  const stream = compressor.stream;
  stream.on('data', (chunk: Buffer) => sent(chunk.length));
  stream.pipe(res, { end: false });
}

/** A static file under an alias with `compress`: whether its whole representation varies, and the coding this client gets. */
export interface StaticCompression {
  /** The representation depends on Accept-Encoding: Vary says so (on 200 and 304 alike). */
  vary: boolean;
  /** The coding of the whole file for this client (never for a range, HEAD, or a small or unlisted file). */
  encoding: ContentCoding | undefined;
}

/** How a static file of this type and size is sent to this request. */
export function compressStatic(
  settings: CompressConfig,
  method: string,
  acceptEncoding: string | string[] | undefined,
  type: string,
  size: number,
): StaticCompression {
  const decision = decideCompression({
    method,
    status: 200,
    acceptEncoding: Array.isArray(acceptEncoding) ? acceptEncoding.join(', ') : acceptEncoding,
    headers: [
      ['Content-Type', type],
      ['Content-Length', String(size)],
    ],
    settings,
  });
  return { vary: decision.vary, encoding: decision.compress ? decision.encoding : undefined };
}
