/**
 * The one contract between the HTTP side (src/http) and the worker side (src/workers). Neither side
 * imports the other: both import this file, and the composition root (src/server.ts) hands the
 * HTTP side the worker side's ports. The HTTP side never sees a frame, a frame id or a process;
 * the worker side never sees an HTTP object (no IncomingMessage, ServerResponse or socket), and
 * chooses no HTTP status: it says what happened (a Failure), the HTTP side answers it.
 *
 * One request, from the HTTP side's view:
 *
 *   port.dispatch(request) ─▶ RequestStream       the worker side queues it or starts it at once
 *   request.body.start(stream, credit)            the application reads the body (if any): send up
 *   request.body.credit(n)                        to `credit` bytes to stream.body(); more as granted
 *   request.onHead(head, end)                     the response head (checked), with its first bytes
 *   request.onBody(chunk, end)                    more of it (borrowed: copy what is kept)
 *   stream.credit(n)                              the client took n bytes: the worker may send more
 *   request.onFile(file) ─▶ stream.fileDone(r)    a file to send from an opened descriptor
 *   request.onFailure(failure)                    it cannot be served (any time before its end)
 *   stream.cancel()                               the HTTP side is done with it (client gone, failed)
 *
 * The worker side calls a request's on* methods only until one of them ends it (end = true, or
 * onFailure), and never after stream.cancel(). Another application interface (ASGI, with its
 * WebSocket streams) is another RequestPort beside the WSGI pools: the HTTP side's core does not
 * change; a WebSocket would add a message stream beside RequestStream, here.
 */
import type { FileHandle } from 'node:fs/promises';

/**
 * What the application sees of a request, as the HTTP side resolved it (the WSGI environ's
 * CGI part). Every field is latin-1 text without NUL.
 */
export interface RequestHead {
  /** Which application of the group (a group may serve several mounts). */
  appIndex: number;
  method: string;
  scriptName: string;
  pathInfo: string;
  queryString: string;
  requestUri: string;
  /** 'HTTP/1.1' */
  protocol: string;
  remoteAddr: string;
  remotePort: string;
  serverName: string;
  serverPort: string;
  scheme: string;
  requestId: string;
  /**
   * Pseudo-fields (':server-addr', ':listener-host'... docs/protocol.md), then the header lines
   * as the client sent them: each name and value preceded by NUL. One string, built once by the
   * HTTP side's rules, is what the worker protocol carries as is.
   */
  headers: string;
}

/** What a response head says, checked (the worker side checks it: src/protocol/response-head.ts). */
export interface ResponseHead {
  status: number;
  reason: string;
  /** Flat [name, value, name, value, ...], checked, as http.ServerResponse.writeHead accepts. */
  headers: string[];
  /** The application's Content-Length (canonical digits), or -1 without one. */
  contentLength: number;
  /** The application asked for the connection to close after this response (Connection: close). */
  close: boolean;
  /** Hop-by-hop header names the application sent, dropped (for a warning), or undefined. */
  dropped: string[] | undefined;
  /** The first body bytes, borrowed (copy what is kept). */
  body: Buffer;
}

/** Where request body bytes go: each chunk, then once end = true (the chunk may be empty). */
export interface BodySink {
  body(chunk: Buffer, end: boolean): void;
}

/** A request body, sent as the application reads it (flow control: never more than credited). */
export interface BodySource {
  /**
   * The application started reading: send up to `credit` bytes to sink, then the rest as credit()
   * grants more. When the client waits for 100 Continue, this is when it gets it.
   */
  start(sink: BodySink, credit: number): void;
  /** The application read `increment` more bytes: send that many more. */
  credit(increment: number): void;
}

/** A file range the worker side offers, already opened with the rights of the worker (never more). */
export interface OfferedFile {
  /** Open for reading; whoever takes the offer closes it. */
  handle: FileHandle;
  offset: number;
  length: number;
}

/** How sending an offered file ended. */
export type FileOutcome = 'sent' | 'refused' | 'aborted';

/**
 * Why a request cannot be served, from the worker side (the HTTP side picks the status):
 *   rejected      no process took it (group failed, stopping, full, or queue-timeout); retryAfter
 *   lost          the process died or closed its connection while it ran
 *   timeout       it ran past request-timeout (limitSeconds); its thread is stuck
 *   aborted       the application failed after its response started (the worker logged why)
 *   invalid-head  the application's response head cannot be sent (why)
 *   protocol      the worker broke the protocol for this request (why)
 *   internal      a bug of ours while handling it (cause)
 */
export interface Failure {
  kind: 'rejected' | 'lost' | 'timeout' | 'aborted' | 'invalid-head' | 'protocol' | 'internal';
  why: string;
  retryAfter?: number;
  limitSeconds?: number;
  cause?: unknown;
}

/** One request, as the HTTP side offers it to a port, and where the worker side reports to. */
export interface PoolRequest {
  readonly head: RequestHead;
  /** The request body; undefined when there is none. */
  readonly body: BodySource | undefined;
  /** The client waits for 100 Continue: the application is asked first (body.start sends it). */
  readonly expectContinue: boolean;
  onHead(head: ResponseHead, end: boolean): void;
  onBody(chunk: Buffer, end: boolean): void;
  onFile(file: OfferedFile): void;
  onFailure(failure: Failure): void;
}

/** The worker side's handle of one dispatched request, held by the HTTP side. */
export interface RequestStream extends BodySink {
  /** The client took `bytes` more of the response: the worker may send that much more. */
  credit(bytes: number): void;
  /** How the offered file went (after onFile, exactly once). */
  fileDone(outcome: FileOutcome): void;
  /** The HTTP side is done with it (client gone, or failed): stop it, drop what else comes. */
  cancel(): void;
}

/** Where the HTTP side sends requests: one per (process group, application group). */
export interface RequestPort {
  /** "group" or "group/application-group", for log lines. */
  readonly label: string;
  dispatch(request: PoolRequest): RequestStream;
}
