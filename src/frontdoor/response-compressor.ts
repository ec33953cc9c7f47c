import { type BrotliCompress, constants, createBrotliCompress, createGzip, type Gzip } from 'node:zlib';
import type { ContentCoding } from './accept-encoding.js';

/** gzip level 6 (zlib's default, Apache mod_deflate's): the usual ratio for little CPU. */
export const GZIP_LEVEL = 6;
/** brotli quality 4: on-the-fly compression (11 is for precompressed files: ~50x slower). */
export const BROTLI_QUALITY = 4;
/** brotli window 2^19 = 512 KB: bounds the memory per response (the default 4 MB is for files). */
export const BROTLI_WINDOW_BITS = 19;

/**
 * A streaming compressor for one response body. Backpressure: `write` returns false when the
 * compressor's input is full (wait for 'drain' on `stream`), and the compressor stops reading its
 * input when whoever reads `stream` stops (pipe it to the response).
 *
 * Flushing: a streaming response must still stream, so after the application's chunks of one
 * event-loop turn, the compressor is flushed (a sync flush: everything written so far can be
 * decompressed by the client now). Chunks that arrive together share one flush, so a large body
 * written in many chunks loses almost nothing to flushes; one written chunk by chunk with pauses
 * (server-sent events, progress output) reaches the client chunk by chunk.
 */
export class ResponseCompressor {
  readonly stream: Gzip | BrotliCompress;
  readonly encoding: ContentCoding;
  private flushPending = false;
  private readonly flushKind: number;
  private readonly autoFlush: boolean;

  /** sizeHint: the body's length when known (brotli sizes its buffers by it); flush: false for bodies known whole. */
  constructor(encoding: ContentCoding, options: { sizeHint?: number; flush?: boolean } = {}) {
    this.encoding = encoding;
    if (encoding === 'br') {
      this.stream = createBrotliCompress({
        params: {
          [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
          [constants.BROTLI_PARAM_LGWIN]: BROTLI_WINDOW_BITS,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          ...(options.sizeHint !== undefined ? { [constants.BROTLI_PARAM_SIZE_HINT]: options.sizeHint } : {}),
        },
      });
      this.flushKind = constants.BROTLI_OPERATION_FLUSH;
    } else {
      this.stream = createGzip({ level: GZIP_LEVEL });
      this.flushKind = constants.Z_SYNC_FLUSH;
    }
    this.autoFlush = options.flush !== false;
  }

  /**
   * Compresses a chunk of the body; false: wait for 'drain' on `stream` before writing more.
   * consumed: called once the compressor took the chunk in, which it does only while whoever reads
   * `stream` keeps up (its output buffer is bounded): credit given then follows what the client takes.
   */
  write(chunk: Buffer, consumed?: (err?: Error | null) => void): boolean {
    const ok = consumed === undefined ? this.stream.write(chunk) : this.stream.write(chunk, consumed);
    if (this.autoFlush && !this.flushPending) {
      this.flushPending = true;
      setImmediate(this.flush);
    }
    return ok;
  }

  /** The body is complete: the rest of the compressed bytes and the trailer follow on `stream`. */
  end(): void {
    this.stream.end();
  }

  /** The response was abandoned (client gone): free the compressor's memory now. */
  destroy(): void {
    this.stream.destroy();
  }

  private readonly flush = (): void => {
    this.flushPending = false;
    if (this.stream.writableEnded || this.stream.destroyed) return;
    this.stream.flush(this.flushKind);
  };
}
