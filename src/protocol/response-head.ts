/**
 * The RESPONSE frame's payload: status (u16) | head length (u32) | head | body.
 * The head is latin-1 "reason\0name\0value\0name\0value...".
 */
export interface ResponseHead {
  status: number;
  reason: string;
  /** Flat [name, value, name, value, ...], as http.ServerResponse.writeHead accepts. */
  headers: string[];
  body: Buffer;
}

export function decodeResponseHead(payload: Buffer): ResponseHead {
  const status = payload.readUInt16BE(0);
  const headLength = payload.readUInt32BE(2);
  const fields = payload.latin1Slice(6, 6 + headLength).split('\0');
  const reason = fields.shift() ?? '';
  return { status, reason, headers: fields, body: payload.subarray(6 + headLength) };
}

export function encodeResponseHead(status: number, reason: string, headers: readonly string[], body?: Buffer): Buffer {
  const text = [reason, ...headers].join('\0');
  const bodyLength = body === undefined ? 0 : body.length;
  const b = Buffer.allocUnsafe(6 + text.length + bodyLength);
  b.writeUInt16BE(status, 0);
  b.writeUInt32BE(text.length, 2);
  b.latin1Write(text, 6);
  if (body !== undefined) body.copy(b, 6 + text.length);
  return b;
}
