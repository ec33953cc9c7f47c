import { HEADER_SIZE } from './frame-types.js';

export function frameHeader(type: number, id: number, flags: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(HEADER_SIZE);
  b.writeUInt32BE(length, 0);
  b.writeUInt32BE(id, 4);
  b[8] = type;
  b[9] = flags;
  return b;
}

/** A whole frame with a small payload, in one buffer. */
export function frame(type: number, id: number, flags: number, payload?: Buffer): Buffer {
  const length = payload === undefined ? 0 : payload.length;
  const b = Buffer.allocUnsafe(HEADER_SIZE + length);
  b.writeUInt32BE(length, 0);
  b.writeUInt32BE(id, 4);
  b[8] = type;
  b[9] = flags;
  if (payload !== undefined) payload.copy(b, HEADER_SIZE);
  return b;
}

/** A frame whose payload is latin-1 text (each char one byte), written straight into place. */
export function latin1Frame(type: number, id: number, flags: number, text: string): Buffer {
  const b = Buffer.allocUnsafe(HEADER_SIZE + text.length);
  b.writeUInt32BE(text.length, 0);
  b.writeUInt32BE(id, 4);
  b[8] = type;
  b[9] = flags;
  b.latin1Write(text, HEADER_SIZE);
  return b;
}

export function creditFrame(type: number, id: number, increment: number): Buffer {
  const b = Buffer.allocUnsafe(HEADER_SIZE + 4);
  b.writeUInt32BE(4, 0);
  b.writeUInt32BE(id, 4);
  b[8] = type;
  b[9] = 0;
  b.writeUInt32BE(increment, HEADER_SIZE);
  return b;
}
