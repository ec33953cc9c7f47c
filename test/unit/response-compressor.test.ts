import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { brotliDecompressSync, createBrotliDecompress, createGunzip, gunzipSync } from 'node:zlib';
import type { ContentCoding } from '../../src/frontdoor/accept-encoding.js';
import { ResponseCompressor } from '../../src/frontdoor/response-compressor.js';

const decompress = (encoding: ContentCoding, b: Buffer): Buffer => (encoding === 'br' ? brotliDecompressSync(b) : gunzipSync(b));
const collect = (c: ResponseCompressor): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    c.stream.on('data', (d: Buffer) => parts.push(d));
    c.stream.on('end', () => resolve(Buffer.concat(parts)));
    c.stream.on('error', reject);
  });

for (const encoding of ['gzip', 'br'] as const) {
  describe(`streaming ${encoding}`, () => {
    test('round trip: many chunks of text and binary come back byte for byte, and text shrinks', async () => {
      const text = Buffer.from(Array.from({ length: 2000 }, (_, i) => `<li class="item">row ${i} of the table</li>\n`).join(''));
      const binary = randomBytes(200_000);
      for (const body of [text, binary, Buffer.alloc(0)]) {
        const c = new ResponseCompressor(encoding, { sizeHint: body.length });
        const out = collect(c);
        for (let i = 0; i < body.length; i += 7919) c.write(body.subarray(i, i + 7919));
        c.end();
        const compressed = await out;
        assert.ok(decompress(encoding, compressed).equals(body), `${body.length} bytes`);
        if (body === text) assert.ok(compressed.length < body.length / 5, `text compressed to ${compressed.length} of ${body.length}`);
      }
    });

    test('a streamed chunk reaches the client before the body ends (flushed), and a burst of chunks shares one flush', async () => {
      const c = new ResponseCompressor(encoding);
      const inflate = encoding === 'br' ? createBrotliDecompress() : createGunzip();
      c.stream.pipe(inflate);
      let plain = '';
      inflate.setEncoding('utf8');
      inflate.on('data', (d: string) => (plain += d));
      const seen = async (want: string): Promise<void> => {
        const deadline = Date.now() + 2000;
        while (plain !== want) {
          if (Date.now() > deadline) assert.fail(`after 2 s the client has ${JSON.stringify(plain)}, not ${JSON.stringify(want)}`);
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      c.write(Buffer.from('event: one\n\n'));
      await seen('event: one\n\n');
      let compressedChunks = 0;
      c.stream.on('data', () => compressedChunks++);
      for (let i = 0; i < 50; i++) c.write(Buffer.from(`line ${i}\n`));
      await seen(`event: one\n\n${Array.from({ length: 50 }, (_, i) => `line ${i}\n`).join('')}`);
      assert.ok(compressedChunks <= 3, `a burst of 50 writes came out as ${compressedChunks} compressed chunks`);
      c.end();
      await new Promise((r) => inflate.on('end', r));
    });

    test('backpressure: when nobody reads, write() says stop within a bounded amount; reading lets it drain and nothing is lost', async () => {
      const c = new ResponseCompressor(encoding);
      const chunk = randomBytes(64 * 1024); // incompressible: the output fills as fast as the input
      const written: Buffer[] = [];
      let stopped = false;
      for (let i = 0; i < 256; i++) {
        written.push(chunk);
        if (!c.write(chunk)) {
          stopped = true;
          break;
        }
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(stopped, 'write() returned false before 16 MB were buffered');
      assert.ok(written.length * chunk.length <= 4 * 1024 * 1024, `stopped after ${written.length * 64} KB`);
      const drained = new Promise((r) => c.stream.once('drain', r));
      const out = collect(c);
      await drained;
      c.end();
      assert.ok(decompress(encoding, await out).equals(Buffer.concat(written)));
    });

    test('destroy() frees an abandoned response at once', () => {
      const c = new ResponseCompressor(encoding);
      c.write(Buffer.from('x'));
      c.destroy();
      assert.ok(c.stream.destroyed);
    });
  });
}
