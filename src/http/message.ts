/**
 * The request/response pair the HTTP side serves, whatever the HTTP version: the members of
 * node:http's IncomingMessage/ServerResponse that node:http2's compatibility API
 * (Http2ServerRequest/Http2ServerResponse) has too, so that the rules, the routes, static files
 * and the Exchange are written once. What differs by version goes through ResponseEnds
 * (error-response.ts: HTTP1_ENDS, H2_ENDS) and writeHeadOf() below; the connection layers
 * (http-connection.ts, h2-sessions.ts) hold the version's own objects.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';

export interface HttpRequest extends Readable {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** Names and values in turn, as received (HTTP/2: the pseudo-headers first). */
  readonly rawHeaders: string[];
  readonly httpVersion: string;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** The whole body arrived. */
  readonly complete: boolean;
  /** The connection (HTTP/2: a view of the session's socket). */
  readonly socket: Socket;
}

export interface HttpResponse extends Writable {
  statusCode: number;
  readonly headersSent: boolean;
  readonly req: HttpRequest;
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders): this;
  writeContinue(): void;
  setHeader(name: string, value: number | string | readonly string[]): unknown;
  getHeader(name: string): number | string | string[] | undefined;
}

/** The response is an HTTP/2 stream's (by its class: an HTTP/1 request line may say HTTP/2.0). */
export function isHttp2(res: HttpResponse): res is HttpResponse & Http2ServerResponse {
  return res instanceof Http2ServerResponse;
}

/**
 * Writes the head: status, reason and header lines (names and values in turn). HTTP/2 has no
 * reason phrase (RFC 9113 8.3.2): it is left out there (node:http2 would warn).
 */
export function writeHeadOf(res: HttpResponse, status: number, reason: string | undefined, fields: readonly string[]): void {
  if (isHttp2(res)) (res as unknown as { writeHead(s: number, r: undefined, h: readonly string[]): void }).writeHead(status, undefined, fields);
  else (res as unknown as ServerResponse).writeHead(status, reason, fields as string[]);
}
