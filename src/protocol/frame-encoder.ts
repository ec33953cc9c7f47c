import { FrameType, HEADER_SIZE } from './frame-types.js';

/** A new buffer of `size` bytes (at least HEADER_SIZE) starting with a frame header for `length` payload bytes. */
function withHeader(size: number, type: number, id: number, flags: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  b.writeUInt32BE(length, 0);
  b.writeUInt32BE(id, 4);
  b[8] = type;
  b[9] = flags;
  return b;
}

/** Just a frame's header: its payload (`length` bytes) is written after it, separately. */
export function frameHeader(type: number, id: number, flags: number, length: number): Buffer {
  return withHeader(HEADER_SIZE, type, id, flags, length);
}

/** A whole frame with a small payload, in one buffer. */
export function frame(type: number, id: number, flags: number, payload?: Buffer): Buffer {
  const length = payload === undefined ? 0 : payload.length;
  const b = withHeader(HEADER_SIZE + length, type, id, flags, length);
  if (payload !== undefined) payload.copy(b, HEADER_SIZE);
  return b;
}

/** A frame whose payload is latin-1 text (each char one byte), written straight into place. */
export function latin1Frame(type: number, id: number, flags: number, text: string): Buffer {
  const b = withHeader(HEADER_SIZE + text.length, type, id, flags, text.length);
  b.latin1Write(text, HEADER_SIZE);
  return b;
}

/** CREDIT: the other side may send `increment` more body bytes of request `id`. */
export function creditFrame(id: number, increment: number): Buffer {
  const b = withHeader(HEADER_SIZE + 4, FrameType.CREDIT, id, 0, 4);
  b.writeUInt32BE(increment, HEADER_SIZE);
  return b;
}
