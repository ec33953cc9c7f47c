import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { type FileSink, type SendOutcome, sendFileRange } from '../../src/http/file-send.js';
import { SlabReader } from '../../src/util/read-slabs.js';

const dir = mkdtempSync(join(tmpdir(), 'file-send-'));
const MB = 1024 * 1024;

/** A client that takes each write after a random few milliseconds, 2 writes buffered at most. */
function slowClient(): { sink: FileSink; hash: () => string; buffers: Set<ArrayBufferLike>; bytes: () => number } {
  const hash = createHash('sha256');
  const buffers = new Set<ArrayBufferLike>();
  let bytes = 0;
  let seed = 7;
  const sink = new Writable({
    highWaterMark: 2 * 256 * 1024,
    write(chunk: Buffer, _enc, cb) {
      buffers.add(chunk.buffer);
      const copy = Buffer.from(chunk); // what the kernel would have taken by now
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      setTimeout(
        () => {
          // The bytes must still be what was written when the write completes.
          assert.ok(copy.equals(chunk), 'a buffer was read into again before its write completed');
          hash.update(chunk);
          bytes += chunk.length;
          cb();
        },
        (seed >>> 8) % 3,
      );
    },
  }) as FileSink;
  return { sink, hash: () => hash.digest('hex'), buffers, bytes: () => bytes };
}

function send(sink: FileSink, file: string, start: number, length: number): Promise<SendOutcome> {
  return open(file, 'r').then((handle) => new Promise<SendOutcome>((resolve) => sendFileRange(sink, handle, start, length, resolve)));
}

describe('file sends: a range of a file read into reused buffers and written from them', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a 24 MB range to a slow client arrives intact, through a few reused buffers', async () => {
    const content = randomBytes(32 * MB);
    const file = join(dir, 'big.bin');
    writeFileSync(file, content);
    const start = 5 * MB + 3;
    const length = 24 * MB + 11;
    const client = slowClient();
    const outcome = await send(client.sink, file, start, length);
    assert.deepEqual(outcome, { result: 'sent', bytes: length });
    await new Promise<void>((resolve) => client.sink.end(resolve));
    assert.equal(client.bytes(), length);
    assert.equal(
      client.hash(),
      createHash('sha256')
        .update(content.subarray(start, start + length))
        .digest('hex'),
    );
    assert.ok(client.buffers.size <= 8, `${client.buffers.size} buffers for ${Math.ceil(length / (256 * 1024))} reads`);
  });

  test('a file shorter than the range is an aborted send, never a short one that looks whole', async () => {
    const file = join(dir, 'short.bin');
    writeFileSync(file, randomBytes(300 * 1024));
    const client = slowClient();
    const outcome = await send(client.sink, file, 0, 400 * 1024);
    assert.equal(outcome.result, 'aborted');
    assert.match((outcome as { why: string }).why, /ended after 307200 of 409600 bytes/);
  });

  test('a client gone mid-send: aborted with clientGone, the file closed', async () => {
    const file = join(dir, 'gone.bin');
    writeFileSync(file, randomBytes(8 * MB));
    const client = slowClient();
    const handle = await open(file, 'r');
    const outcome = await new Promise<SendOutcome>((resolve) => {
      sendFileRange(client.sink, handle, 0, 8 * MB, resolve);
      setTimeout(() => client.sink.destroy(), 5);
    });
    assert.equal(outcome.result, 'aborted');
    assert.equal((outcome as { clientGone: boolean }).clientGone, true);
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(handle.stat(), /EBADF|closed/, 'the handle was closed');
  });

  test("a client gone while a read is in flight: that read's memory is not handed to another connection before it is done", async () => {
    const file = join(dir, 'inflight.bin');
    writeFileSync(file, randomBytes(4 * MB));
    // The read may finish before the client's 'close' is handled: tried many times, some are in flight.
    for (let round = 0; round < 30; round++) {
      const client = slowClient();
      const handle = await open(file, 'r');
      const outcome = new Promise<SendOutcome>((resolve) => sendFileRange(client.sink, handle, 0, 4 * MB, resolve));
      client.sink.destroy();
      assert.equal((await outcome).result, 'aborted');
      const other = new SlabReader();
      const into = other.next();
      into.fill(0xab);
      await new Promise((r) => setTimeout(r, 10));
      assert.ok(
        into.every((b) => b === 0xab),
        `round ${round}: another connection's read memory was written by the aborted send's read`,
      );
      other.close();
    }
  });
});
