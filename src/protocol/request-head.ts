import type { RequestHead } from '../contract/request-port.js';

/**
 * The REQUEST frame's payload: latin-1 fields joined by NUL. The first 13 are fixed; the rest are
 * the request's raw header names and values, alternating, as the client sent them. The worker
 * turns them into CGI keys (HTTP_*, CONTENT_TYPE, CONTENT_LENGTH). NUL cannot occur in any field:
 * the HTTP parser rejects it in headers and the router rejects %00 in paths.
 */
export type RequestFields = Omit<RequestHead, 'headers'>;

export const FIXED_FIELDS = 13;

/** Raw header names and values as the REQUEST payload carries them: each field preceded by NUL. */
export function joinHeaders(rawHeaders: readonly string[]): string {
  let s = '';
  for (let i = 0; i < rawHeaders.length; i++) s += '\0' + rawHeaders[i];
  return s;
}

/** The REQUEST payload: the fixed fields, then `headers` as joinHeaders makes them. */
export function encodeRequestHead(head: RequestFields, headers: string): string {
  return (
    head.appIndex +
    '\0' +
    head.method +
    '\0' +
    head.scriptName +
    '\0' +
    head.pathInfo +
    '\0' +
    head.queryString +
    '\0' +
    head.requestUri +
    '\0' +
    head.protocol +
    '\0' +
    head.remoteAddr +
    '\0' +
    head.remotePort +
    '\0' +
    head.serverName +
    '\0' +
    head.serverPort +
    '\0' +
    head.scheme +
    '\0' +
    head.requestId +
    headers
  );
}

/** Decodes a REQUEST payload (used by tests and the codec benchmark). */
export function decodeRequestHead(text: string): { head: RequestFields; headers: string[] } {
  const f = text.split('\0');
  return {
    head: {
      appIndex: Number(f[0]),
      method: f[1] ?? '',
      scriptName: f[2] ?? '',
      pathInfo: f[3] ?? '',
      queryString: f[4] ?? '',
      requestUri: f[5] ?? '',
      protocol: f[6] ?? '',
      remoteAddr: f[7] ?? '',
      remotePort: f[8] ?? '',
      serverName: f[9] ?? '',
      serverPort: f[10] ?? '',
      scheme: f[11] ?? '',
      requestId: f[12] ?? '',
    },
    headers: f.slice(FIXED_FIELDS),
  };
}
