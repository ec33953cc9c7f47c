/**
 * How responses end: whole (on HTTP/1.1 with Apache's lingering close when the client may still be
 * sending a body), cut short (HTTP/1.1: the connection closed; HTTP/2: the stream reset), as an
 * error page, or closing the connection after them (HTTP/2: the stream, never the session).
 * HTTP1_ENDS and H2_ENDS gather them for the exchange (src/http/exchange.ts), whose core uses no
 * version's own API.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { constants as h2 } from 'node:http2';
import { type HttpResponse, isHttp2, writeHeadOf } from './message.js';

const EXPLANATIONS: Record<number, string> = {
  400: 'The request is malformed.',
  404: 'No application is mounted at this URL.',
  408: 'The request took too long to arrive.',
  413: 'The request body is larger than this server accepts.',
  431: 'The request headers are larger than this server accepts.',
  500: 'The application failed to handle this request. The server log says why.',
  502: 'The application process serving this request stopped before answering. The server log says why.',
  503: 'The application cannot take this request now. Try again shortly.',
  504: 'The application did not answer in time.',
};

/**
 * A response that cannot be completed after its head was sent: flush what was written, then close
 * the connection, so the client sees it cut short (no final chunk, or fewer bytes than its
 * Content-Length). Destroying at once could drop bytes not yet flushed.
 */
export function breakResponse(res: HttpResponse): void {
  if (isHttp2(res)) {
    // An HTTP/2 stream is reset (the client sees it fail); the session serves on.
    res.stream.close(h2.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  const socket = (res as unknown as ServerResponse).socket;
  if (socket === null || socket.destroyed) return;
  socket.end();
  setTimeout(() => socket.destroy(), 5000).unref();
}

/**
 * The connection closes after this response (HTTP/1.1: Connection: close). An HTTP/2 stream has
 * no connection of its own: the request body not read yet is refused with RST_STREAM (NO_ERROR)
 * once the response is out (RFC 9113 8.1), and the session serves on.
 */
export function closeAfter(res: HttpResponse): void {
  if (isHttp2(res)) {
    if (res.req.complete) return;
    const stream = res.stream;
    const close = (): void => {
      if (!stream.closed) stream.close(h2.NGHTTP2_NO_ERROR);
    };
    if (res.writableFinished) close();
    else res.once('finish', close);
    return;
  }
  (res as unknown as ServerResponse).shouldKeepAlive = false;
}

/** How long a closing connection keeps reading a request body the application did not read. */
const LINGER_MS = 5000;

/**
 * Ends a response. When the connection closes after it while the client may still be sending its
 * request body, the response goes out now but ends (and the connection closes) only once that body
 * has been read and discarded, at most LINGER_MS later: closing at once would reset the connection
 * under the upload, and the client would likely never see the answer (Apache's lingering close).
 */
export function endResponse(res: HttpResponse, chunk?: string | Buffer, encoding?: BufferEncoding, written?: () => void): void {
  const req = res.req;
  if (req === undefined || req.complete || isHttp2(res) || (res as unknown as ServerResponse).shouldKeepAlive || !hasRequestBody(req.headers)) {
    if (chunk === undefined) res.end();
    else if (encoding === undefined) res.end(chunk, written);
    else res.end(chunk, encoding, written);
    return;
  }
  if (chunk !== undefined) {
    if (encoding === undefined) res.write(chunk, written);
    else res.write(chunk, encoding, written);
  }
  const finish = (): void => {
    clearTimeout(timer);
    req.off('end', finish);
    req.off('close', finish);
    if (!res.writableEnded) res.end();
  };
  const timer = setTimeout(finish, LINGER_MS);
  req.once('end', finish);
  req.once('close', finish);
  req.resume();
}

function hasRequestBody(headers: IncomingHttpHeaders): boolean {
  const cl = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

/** A short plain-text error page about the application; never a traceback. */
export function sendError(res: HttpResponse, status: number, requestId?: string, retryAfter?: number): void {
  sendErrorPage(res, status, EXPLANATIONS[status] ?? '', requestId, retryAfter);
}

/**
 * A short plain-text error page with this explanation (static files have their own texts); headers
 * set before (Allow, Content-Range) are kept. Breaks the response when its head was already sent.
 */
export function sendErrorPage(res: HttpResponse, status: number, explanation: string, requestId?: string, retryAfter?: number): void {
  if (res.headersSent) {
    breakResponse(res);
    return;
  }
  // The standard reason, always: never one an earlier (refused) writeHead left behind.
  const reason = STATUS_CODES[status] ?? 'Error';
  const title = `${status} ${reason}`;
  const body = `${title}\n\n${explanation}\n${requestId ? `Request id: ${requestId}\n` : ''}`;
  const headers: [string, string][] = [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(Buffer.byteLength(body))],
  ];
  if (requestId) headers.push(['X-Request-Id', requestId]);
  if (retryAfter !== undefined) headers.push(['Retry-After', String(retryAfter)]);
  try {
    writeHeadOf(res, status, reason, headers.flat());
  } catch {
    // Only a header set before (res.setHeader) could be refused here: the connection is closed.
    res.destroy();
    return;
  }
  endResponse(res, res.req?.method === 'HEAD' ? undefined : body);
}

/** The ways a response ends, for one HTTP version. */
export interface ResponseEnds {
  /** Ends it whole, with a last chunk (written: called when that chunk went out). */
  end(res: HttpResponse, chunk?: string | Buffer, encoding?: BufferEncoding, written?: () => void): void;
  /** Cuts it short: the client must see it incomplete. */
  cut(res: HttpResponse): void;
  /** An error page (nothing was sent yet). */
  error(res: HttpResponse, status: number, requestId?: string, retryAfter?: number): void;
  /** The connection closes after this response (close: now, once the answer is out). */
  closeAfter(res: HttpResponse, now?: boolean): void;
}

export const HTTP1_ENDS: ResponseEnds = {
  end: endResponse,
  cut: breakResponse,
  error: sendError,
  closeAfter: (res, now) => {
    closeAfter(res);
    if (now) res.req?.socket?.destroySoon?.();
  },
};

/**
 * HTTP/2: a stream ends with END_STREAM (no lingering: the stream, not the connection, refuses
 * the rest of an unread body), is cut with RST_STREAM (INTERNAL_ERROR), and never closes the
 * session; closeAfter refuses the rest of an unread request body (RST_STREAM NO_ERROR once the
 * answer is out).
 */
export const H2_ENDS: ResponseEnds = {
  end: (res, chunk, encoding, written) => {
    if (chunk === undefined) res.end();
    else if (encoding === undefined) res.end(chunk, written);
    else res.end(chunk, encoding, written);
  },
  cut: breakResponse,
  error: sendError,
  closeAfter: (res) => closeAfter(res),
};
