import { HEADER_SIZE } from './frame-types.js';

export type FrameHandler = (type: number, id: number, flags: number, payload: Buffer) => void;

/**
 * Splits a byte stream into frames. Payloads that arrive whole inside one chunk are passed on as
 * views of that chunk (no copy); a frame split across chunks is copied once when complete.
 */
export class FrameDecoder {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private readonly onFrame: FrameHandler;

  constructor(onFrame: FrameHandler) {
    this.onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    if (this.partBytes > 0) {
      this.parts.push(chunk);
      this.partBytes += chunk.length;
      if (this.partBytes < HEADER_SIZE) return;
      const needed = this.neededForPending();
      if (this.partBytes < needed) return;
      chunk = Buffer.concat(this.parts, this.partBytes);
      this.parts = [];
      this.partBytes = 0;
    }
    let off = 0;
    const end = chunk.length;
    while (end - off >= HEADER_SIZE) {
      const length = chunk.readUInt32BE(off);
      const stop = off + HEADER_SIZE + length;
      if (stop > end) break;
      this.onFrame(
        chunk[off + 8] as number,
        chunk.readUInt32BE(off + 4),
        chunk[off + 9] as number,
        chunk.subarray(off + HEADER_SIZE, stop),
      );
      off = stop;
    }
    if (off < end) {
      const rest = chunk.subarray(off);
      this.parts.push(rest);
      this.partBytes = rest.length;
    }
  }

  private neededForPending(): number {
    const first = this.parts[0] as Buffer;
    if (first.length >= 4) return HEADER_SIZE + first.readUInt32BE(0);
    const head = Buffer.concat(this.parts, this.partBytes);
    this.parts = [head];
    return HEADER_SIZE + head.readUInt32BE(0);
  }
}
