import { FrameType, HEADER_SIZE, MAX_WORKER_FRAME } from './frame-types.js';
import { WorkerProtocolError } from './protocol-error.js';

export type FrameHandler = (type: number, id: number, flags: number, payload: Buffer) => void;

/**
 * Splits a byte stream into frames. Payloads are passed on as views of the chunk they arrived in:
 * valid only during the call (the chunk's buffer is read into again), so a handler that keeps
 * bytes copies them. A DATA frame split across chunks is passed on in parts, as they arrive: the
 * frame's flags (END...) come with its last part, the parts before it carry no flags. Any other
 * frame split across chunks is assembled from copies of just its own bytes, up to MAX_WORKER_FRAME:
 * a larger one throws WorkerProtocolError (the decoder is then unusable: the stream is stopped).
 */
export class FrameDecoder {
  /** Copied bytes of a frame that started in an earlier chunk (its header, at least partly). */
  private pending: Buffer | undefined;
  /** A DATA frame whose payload is still arriving. */
  private streaming: { id: number; flags: number; remaining: number } | undefined;
  private readonly onFrame: FrameHandler;

  constructor(onFrame: FrameHandler) {
    this.onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    let off = this.pending === undefined ? 0 : this.resume(chunk);
    if (off < 0) return;
    const s = this.streaming;
    if (s !== undefined && off < chunk.length) {
      const n = Math.min(s.remaining, chunk.length - off);
      s.remaining -= n;
      if (s.remaining === 0) this.streaming = undefined;
      this.onFrame(FrameType.DATA, s.id, s.remaining === 0 ? s.flags : 0, chunk.subarray(off, off + n));
      off += n;
    }
    const end = chunk.length;
    while (end - off >= HEADER_SIZE) {
      const length = chunk.readUInt32BE(off);
      const type = chunk[off + 8] as number;
      const id = chunk.readUInt32BE(off + 4);
      const flags = chunk[off + 9] as number;
      const stop = off + HEADER_SIZE + length;
      if (stop <= end) {
        this.onFrame(type, id, flags, chunk.subarray(off + HEADER_SIZE, stop));
        off = stop;
        continue;
      }
      if (type === FrameType.DATA) {
        // Continues in later chunks: pass on what is here now.
        this.streaming = { id, flags, remaining: stop - end };
        if (end > off + HEADER_SIZE) this.onFrame(type, id, 0, chunk.subarray(off + HEADER_SIZE, end));
        return;
      }
      if (length > MAX_WORKER_FRAME) throw tooLarge(type, length);
      break;
    }
    if (off < end) this.pending = Buffer.from(chunk.subarray(off));
  }

  /**
   * Continues the frame in `pending` with the start of chunk. Returns where the rest of chunk
   * begins, or -1 when chunk was used up.
   */
  private resume(chunk: Buffer): number {
    let head = this.pending as Buffer;
    let off = 0;
    if (head.length < HEADER_SIZE) {
      const take = Math.min(HEADER_SIZE - head.length, chunk.length);
      head = Buffer.concat([head, chunk.subarray(0, take)]);
      off = take;
      if (head.length < HEADER_SIZE) {
        this.pending = head;
        return -1;
      }
    }
    const length = head.readUInt32BE(0);
    const id = head.readUInt32BE(4);
    const type = head[8] as number;
    const flags = head[9] as number;
    const have = head.length - HEADER_SIZE;
    if (type === FrameType.DATA) {
      this.pending = undefined;
      const remaining = length - have;
      if (remaining === 0) {
        this.onFrame(type, id, flags, head.subarray(HEADER_SIZE));
        return off;
      }
      if (have > 0) this.onFrame(type, id, 0, head.subarray(HEADER_SIZE));
      this.streaming = { id, flags, remaining };
      return off;
    }
    if (length > MAX_WORKER_FRAME) throw tooLarge(type, length);
    const take = Math.min(length - have, chunk.length - off);
    head = take > 0 ? Buffer.concat([head, chunk.subarray(off, off + take)]) : head;
    off += take;
    if (head.length < HEADER_SIZE + length) {
      this.pending = head;
      return -1;
    }
    this.pending = undefined;
    this.onFrame(type, id, flags, head.subarray(HEADER_SIZE));
    return off;
  }
}

function tooLarge(type: number, length: number): WorkerProtocolError {
  return new WorkerProtocolError(`a frame of type ${type} announces ${length} bytes, over the limit of ${MAX_WORKER_FRAME} for frames other than DATA`);
}
