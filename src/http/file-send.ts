/**
 * The one way a file goes to a client: a byte range of an open file, piped into a response whose
 * head was written, with backpressure. Static files (static-files.ts) and files a worker offers
 * (wsgi.file_wrapper, opened by src/workers/offered-file.ts under its privilege rule) both go
 * through here. The file must deliver every byte of the range: one that ends early (truncated
 * meanwhile) or fails to read is an aborted send, never a response silently shorter than its
 * Content-Length.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

export type SendOutcome =
  | { result: 'sent'; bytes: number }
  /** Started but not completed: the client went away, or the file could not be read to the end. */
  | { result: 'aborted'; why: string; bytes: number; clientGone: boolean; cause?: unknown };

/** What a response must offer to receive a file (http.ServerResponse and http2's compatibility response do). */
export type FileSink = Writable & { readonly destroyed: boolean; readonly writableEnded: boolean };

const READ_SIZE = 256 * 1024;

/**
 * Sends bytes start..start+length-1 of `handle` to res, without ending res, and calls done exactly
 * once with the outcome. The handle is closed in every case. Never throws.
 */
export function sendFileRange(res: FileSink, handle: FileHandle, start: number, length: number, done: (outcome: SendOutcome) => void): void {
  let called = false;
  const finish = (outcome: SendOutcome): void => {
    if (called) return;
    called = true;
    done(outcome);
  };
  if (res.destroyed || res.writableEnded) {
    // The client left while the file was being opened: its 'close' came already.
    void handle.close().catch(() => {});
    finish({ result: 'aborted', why: 'the client went away', bytes: 0, clientGone: true });
    return;
  }
  if (length === 0) {
    void handle.close().catch(() => {});
    finish({ result: 'sent', bytes: 0 });
    return;
  }
  let bytes = 0;
  const file = handle.createReadStream({ start, end: start + length - 1, highWaterMark: READ_SIZE });
  const onClose = (): void => {
    file.destroy();
    finish({ result: 'aborted', why: 'the client went away', bytes, clientGone: true });
  };
  res.once('close', onClose);
  file.on('data', (chunk: Buffer | string) => {
    bytes += chunk.length;
  });
  file.on('error', (err) => {
    res.off('close', onClose);
    file.unpipe(res);
    finish({
      result: 'aborted',
      why: `the file could not be read (${(err as NodeJS.ErrnoException).code ?? err.message})`,
      bytes,
      clientGone: false,
      cause: err,
    });
  });
  file.on('end', () => {
    res.off('close', onClose);
    if (bytes === length) finish({ result: 'sent', bytes });
    else finish({ result: 'aborted', why: `the file ended after ${bytes} of ${length} bytes`, bytes, clientGone: false });
  });
  file.pipe(res, { end: false });
}
