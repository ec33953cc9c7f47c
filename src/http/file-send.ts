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
import { release, retain, SlabReader } from '../util/read-slabs.js';

export type SendOutcome =
  | { result: 'sent'; bytes: number }
  /** Started but not completed: the client went away, or the file could not be read to the end. */
  | { result: 'aborted'; why: string; bytes: number; clientGone: boolean; cause?: unknown };

/** What a response must offer to receive a file (http.ServerResponse and http2's compatibility response do). */
export type FileSink = Writable & { readonly destroyed: boolean; readonly writableEnded: boolean };

/*
 * The file is read into the read slabs worker connections use (util/read-slabs.ts): each read is
 * written from as read, retained until its write completed, and the slab reused after. Node has no
 * sendfile, and a read stream's new buffer per read is memory outside V8's heap that it frees only
 * at a collection, which makes it run full ones under large files (as upload chunks did:
 * util/young-collection.ts).
 */

/**
 * Sends bytes start..start+length-1 of `handle` to res, without ending res, and calls done exactly
 * once with the outcome. The handle is closed in every case. Never throws.
 */
export function sendFileRange(res: FileSink, handle: FileHandle, start: number, length: number, done: (outcome: SendOutcome) => void): void {
  let called = false;
  let reading = false;
  const reader = new SlabReader();
  const finish = (outcome: SendOutcome): void => {
    if (called) return;
    called = true;
    // A read still in flight writes into the slab: it is given back when that read is done.
    if (!reading) reader.close();
    void handle.close().catch(() => {});
    done(outcome);
  };
  if (res.destroyed || res.writableEnded) {
    // The client left while the file was being opened: its 'close' came already.
    finish({ result: 'aborted', why: 'the client went away', bytes: 0, clientGone: true });
    return;
  }
  if (length === 0) {
    finish({ result: 'sent', bytes: 0 });
    return;
  }
  let bytes = 0;
  const end = (outcome: SendOutcome): void => {
    res.off('close', onClose);
    res.off('drain', pump);
    finish(outcome);
  };
  const onClose = (): void => end({ result: 'aborted', why: 'the client went away', bytes, clientGone: true });
  const readFailed = (err: unknown): void =>
    end({
      result: 'aborted',
      why: `the file could not be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      bytes,
      clientGone: false,
      cause: err,
    });
  const pump = (): void => {
    if (called || reading) return;
    reading = true;
    const into = reader.next();
    handle.read(into, 0, Math.min(into.length, length - bytes), start + bytes).then(
      ({ bytesRead }) => {
        reading = false;
        if (called) {
          reader.close();
          return;
        }
        if (bytesRead === 0) {
          end({ result: 'aborted', why: `the file ended after ${bytes} of ${length} bytes`, bytes, clientGone: false });
          return;
        }
        reader.filled(bytesRead);
        bytes += bytesRead;
        const kept = retain(into.subarray(0, bytesRead));
        const ok = res.write(kept, () => release(kept));
        if (bytes === length) end({ result: 'sent', bytes });
        else if (ok) pump();
        else res.once('drain', pump);
      },
      (err: unknown) => {
        reading = false;
        if (called) reader.close();
        else readFailed(err);
      },
    );
  };
  res.once('close', onClose);
  pump();
}
