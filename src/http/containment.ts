/**
 * The containment rule's entry for client requests: every request the HTTP listeners take is
 * handled through containRequests(), the one place where an unexpected error while handling it
 * fails that request (500, or the connection is closed when its head was sent), logged with its
 * request id and the cause, and counted. It never reaches the process. (The other boundaries: a
 * worker's frames are dispatched through WorkerProcess.onFrame, files through file-offload.ts, and
 * every failure of a request served by a worker goes through Exchange.fail.)
 */
import { countFault } from '../observability/faults.js';
import type { Logger } from '../observability/logger.js';
import { closeAfter, sendError } from './error-response.js';
import type { HttpRequest, HttpResponse } from './message.js';

const REQUEST_ID = Symbol('wsgi-host.requestId');

type Tagged = HttpResponse & { [REQUEST_ID]?: string };

/** Remembers the request's id, for the log line of a fault while handling it. */
export function noteRequestId(res: HttpResponse, requestId: string): void {
  (res as Tagged)[REQUEST_ID] = requestId;
}

export type RequestHandler<Q extends HttpRequest = HttpRequest, S extends HttpResponse = HttpResponse> = (req: Q, res: S) => void | Promise<void>;

/** The handler, guarded: a throw (or a rejected promise) fails that one request. */
export function containRequests<Q extends HttpRequest, S extends HttpResponse>(log: Logger, handler: RequestHandler<Q, S>): (req: Q, res: S) => void {
  return (req, res) => {
    try {
      const done = handler(req, res);
      if (done !== undefined) done.catch((err: unknown) => requestFault(log, req, res, err));
    } catch (err) {
      requestFault(log, req, res, err);
    }
  };
}

function requestFault(log: Logger, req: HttpRequest, res: HttpResponse, err: unknown): void {
  countFault('request');
  const requestId = (res as Tagged)[REQUEST_ID];
  const answered = res.headersSent || res.writableEnded;
  log.error(
    { err, requestId },
    `${req.method} ${req.url}: internal error while handling this request; ${answered ? 'the connection was closed' : 'answered 500'}`,
  );
  try {
    if (res.writableEnded) return;
    closeAfter(res);
    sendError(res, 500, requestId);
  } catch {
    res.destroy();
  }
}
