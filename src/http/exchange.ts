import type { IncomingMessage, ServerResponse } from 'node:http';
import { countFault } from '../observability/faults.js';
import type { GroupStats } from '../observability/group-stats.js';
import type { Logger } from '../observability/logger.js';
import { FileResult, Flag } from '../protocol/frame-types.js';
import { decodeResponseHead, type ResponseHead } from '../protocol/response-head.js';
import { SlabCopier } from '../protocol/slab-copier.js';
import type { ExchangeSink, FileOffer, WorkerProcess } from '../workers/worker-process.js';
import { breakResponse, endResponse, sendError } from './error-response.js';
import { type OffloadOutcome, sendOfferedFile } from '../workers/offered-file.js';
import type { RequestRefusal } from './http-refusal.js';
import type { ReplyPoller } from '../workers/reply-poller.js';
import type { RequestBody } from './request-body.js';

/** Payloads arrive in the worker connection's reused read buffer; what is kept is copied into slabs. */
const COPIER = new SlabCopier();
const SMALL_BODY = 16 * 1024;

/** Settings shared by every exchange of one server. */
export interface ExchangeSettings {
  log: Logger;
  /** Request-body bytes the front end may send ahead of the application's reading. */
  requestWindow: number;
  /** Response bytes the worker may send ahead of the client's reading. */
  responseWindow: number;
  poller: ReplyPoller;
  /** Hop-by-hop headers already warned about, by application and name (once per application). */
  warnedHopByHop?: Set<string>;
}

/** The application a request is routed to, for log lines: its group and mount point. */
export interface AppLabel {
  group: string;
  mount: string;
}

/** How a failure is reported and answered (Exchange.fail). */
interface FailOptions {
  level?: 'debug' | 'warn' | 'error';
  /** The error behind it, logged with its stack. */
  cause?: unknown;
  /** Close the connection after the answer (the request body was not read to its end). */
  close?: boolean;
  retryAfter?: number;
}

/** Where the response is: waiting for its head, streaming its body, sending a file, over. */
const enum Reply {
  WAITING,
  STREAMING,
  FILE,
  DONE,
}

/** What a pool needs from a request waiting for, or running on, a worker. */
export interface Dispatchable {
  /** When the request was handed to its pool (Date.now()). */
  readonly queuedAt: number;
  /** The client went away while the request waited. */
  readonly gone: boolean;
  startOn(worker: WorkerProcess): void;
  /** The request could not be given a worker: answer it with this status. */
  reject(status: number, why: string, retryAfter?: number): void;
}

/**
 * One HTTP request served by a worker: sends its head and body (as far as the worker grants
 * credit), writes the response (granting the worker credit as the client takes the bytes), and
 * cancels the work when the client goes away.
 *
 * Containment: every entry (from the pool, the worker's frames, the client's events, the file
 * path) is guarded, and every failure goes through fail(): the request is answered with an error
 * (or its response cut short when its head was sent), the worker told to stop it, the log says why
 * with the request id, and nothing reaches the process. What the worker sends is checked here
 * against what it said: the head (decodeResponseHead), the order of frames, the credit window, and
 * the Content-Length; a worker that breaks them fails its request, never the connection of another.
 */
export class Exchange implements ExchangeSink, Dispatchable {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  /** Set again when the request is handed to its pool (after its body was buffered). */
  queuedAt = Date.now();
  /** The REQUEST frame's payload (retarget() replaces it when a reload routes the request anew). */
  private head: string;
  private readonly settings: ExchangeSettings;
  /** The request body (read by the front end, buffered or streamed); undefined when there is none. */
  private readonly body: RequestBody | undefined;
  private readonly expectContinue: boolean;
  private continuePending = false;
  private worker: WorkerProcess | undefined;
  private id = 0;
  /** When the request went to the worker (performance.now()), until its reply started; -1 after. */
  private sentAt = -1;
  /** The worker sent its terminal frame: the request is over on its side. */
  private terminal = false;
  /** The client went away, or the request was answered without the worker: drop what it sends. */
  private cancelled = false;
  private headersSent = false;
  private ungranted = 0;
  private waitingDrain = false;
  private readonly grantThreshold: number;
  /** Where the response is (Reply). */
  private reply = Reply.WAITING;
  /** Response body bytes the worker may still send before it is granted more (its credit). */
  private responseCredit = 0;
  /** The response's Content-Length, or -1 without one. */
  private declared = -1;
  /** The response has no body (HEAD, 204, 304): what the worker sends for it is dropped. */
  private bodyless = false;
  /** Called once when the response is over for any reason (metrics, logs). */
  onDone: ((ex: Exchange) => void) | undefined;
  /** When the request arrived (performance.now()). */
  readonly arrivedAt = performance.now();
  /** Response body bytes handed to the client's connection. */
  bytesOut = 0;
  /** The group's statistics, when routed to a group. */
  stats: GroupStats | undefined;
  /** The application (group and mount), for log lines. */
  app: AppLabel | undefined;
  /** The response's header names and values, as the worker sent them (for the access log). */
  responseHeaders: readonly string[] = [];

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    head: string,
    requestId: string,
    body: RequestBody | undefined,
    expectContinue: boolean,
    settings: ExchangeSettings,
  ) {
    this.req = req;
    this.res = res;
    this.head = head;
    this.requestId = requestId;
    this.body = body;
    this.expectContinue = expectContinue;
    this.settings = settings;
    this.grantThreshold = settings.responseWindow >>> 2;
    res.on('close', this.onClose);
    // A write the response refuses emits 'error': it fails this request, never the process.
    res.on('error', this.onResponseError);
  }

  get gone(): boolean {
    return this.cancelled;
  }

  /** A request without a body that has not started may be taken back and run by another process. */
  get recallable(): boolean {
    return this.body === undefined && !this.cancelled && !this.terminal && !this.headersSent;
  }

  /** The status the client got; 499 when it went away before an answer (as nginx logs it). */
  get status(): number {
    return this.cancelled && !this.headersSent && !this.res.headersSent ? 499 : this.res.statusCode;
  }

  // -- dispatch ------------------------------------------------------------------------------

  startOn(worker: WorkerProcess): void {
    try {
      this.replyStarted(); // a recalled request was sent before: that send is over
      this.worker = worker;
      this.responseCredit = this.settings.responseWindow;
      let flags = 0;
      if (this.body === undefined) flags |= Flag.END;
      else if (this.expectContinue) flags |= Flag.CONTINUE;
      this.sentAt = this.settings.poller.sent();
      this.id = worker.startRequest(this, this.head, flags);
      if (this.body !== undefined) {
        if (this.expectContinue) this.continuePending = true;
        else this.body.forward(this.sendBody, this.settings.requestWindow);
      }
    } catch (err) {
      this.internalError('starting it on a worker', err);
    }
  }

  /** A reload came while the body was buffered: the request goes to where the new routes say. */
  retarget(head: string): void {
    if (this.worker === undefined) this.head = head;
  }

  reject(status: number, why: string, retryAfter?: number): void {
    if (this.cancelled) return;
    this.terminal = true;
    this.fail(status, why, retryAfter === undefined ? { level: 'warn' } : { level: 'warn', retryAfter });
  }

  // -- request body --------------------------------------------------------------------------
  // The body is read by RequestBody (request-body.ts): buffered before dispatch when it may be,
  // else streamed as the worker grants credit; its limits and deadlines fail it through bodyFailed.

  /** Where the body goes: the worker, while the request is alive there (guarded: a throw fails this request). */
  private readonly sendBody = (chunk: Buffer, end: boolean): void => {
    try {
      if (!this.terminal && this.worker !== undefined) this.worker.sendData(this.id, chunk, end);
    } catch (err) {
      this.internalError('forwarding the request body', err);
    }
  };

  /**
   * The request body failed (over max-body-size, too slow, malformed framing), before or after the
   * request went to a worker: answer why.status and close, or cut the response short.
   */
  bodyFailed(why: RequestRefusal): void {
    if (this.failed || this.finished) return;
    this.fail(why.status, `${why.message}; answered ${why.status}`, { level: 'warn', close: true });
  }

  /** A bug of ours while reading the request body. */
  bodyError(err: unknown): void {
    if (this.failed || this.finished) return;
    this.internalError('reading the request body', err);
  }

  /** Stop forwarding the request body; let Node discard what remains. */
  private stopBody(): void {
    this.body?.stop();
  }

  onCredit(increment: number): void {
    if (this.continuePending) {
      // The application started reading: now ask the client for the body (Expect: 100-continue).
      this.continuePending = false;
      if (!this.res.headersSent) this.res.writeContinue();
      this.body?.forward(this.sendBody, increment);
      return;
    }
    this.body?.credit(increment);
  }

  // -- response ------------------------------------------------------------------------------

  onResponse(payload: Buffer, flags: number): void {
    this.replyStarted();
    if (flags & Flag.END) this.terminal = true;
    if (this.cancelled) {
      if (this.terminal) this.finish();
      return;
    }
    if (this.reply !== Reply.WAITING) {
      this.protocolError('a second RESPONSE frame');
      return;
    }
    let head: ResponseHead;
    try {
      head = decodeResponseHead(payload);
    } catch (err) {
      this.invalidResponse(err);
      return;
    }
    if (head.dropped !== undefined) this.warnDropped(head.dropped);
    const fields = head.headers;
    fields.push('X-Request-Id', this.requestId);
    this.responseHeaders = fields;
    const res = this.res;
    if (head.close) res.shouldKeepAlive = false;
    try {
      res.writeHead(head.status, head.reason, fields);
    } catch (err) {
      this.invalidResponse(err);
      return;
    }
    this.headersSent = true;
    this.reply = Reply.STREAMING;
    this.declared = head.contentLength;
    this.bodyless = this.req.method === 'HEAD' || head.status === 204 || head.status === 304;
    const body = head.body;
    if (!this.terminal) {
      if (body.length > 0) this.writeBody(body);
      return;
    }
    this.stopBody();
    if (this.bodyless || body.length === 0) {
      if (!this.endChecked(0)) return;
      endResponse(res);
    } else {
      if (!this.admit(body.length) || !this.endChecked(body.length)) return;
      this.bytesOut += body.length;
      // A small body as a latin1 string (byte for byte) lets Node write head and body in one write.
      if (body.length <= SMALL_BODY) endResponse(res, body.latin1Slice(0, body.length), 'latin1');
      else {
        const copy = COPIER.copy(body);
        endResponse(res, copy, undefined, () => COPIER.release(copy));
      }
    }
    this.reply = Reply.DONE;
    this.finish();
  }

  onData(payload: Buffer, flags: number): void {
    this.replyStarted();
    if (flags & Flag.END) this.terminal = true;
    if (this.cancelled) {
      if (this.terminal) this.finish();
      return;
    }
    if (flags & Flag.ABORT) {
      // The application failed after its response started (the worker logged why): the client
      // must see a broken response, or a 502 when nothing was sent.
      this.fail(502, "the application's response was cut short (the log line before says why)", { level: 'debug' });
      return;
    }
    if (this.reply !== Reply.STREAMING) {
      this.protocolError(this.reply === Reply.WAITING ? 'DATA before the RESPONSE' : 'DATA while a file was being sent');
      return;
    }
    if (payload.length > 0 && !this.writeBody(payload)) return;
    if (this.terminal) {
      if (!this.endChecked(0)) return;
      this.stopBody();
      endResponse(this.res);
      this.reply = Reply.DONE;
      this.finish();
    }
  }

  /**
   * The worker sends n more body bytes: they must be within its credit and its Content-Length.
   * False when they are not (the request has failed).
   */
  private admit(n: number): boolean {
    this.responseCredit -= n;
    if (this.responseCredit < 0) {
      this.protocolError(`response body bytes beyond the credit granted (${-this.responseCredit} over)`);
      return false;
    }
    if (this.declared >= 0 && !this.bodyless && this.bytesOut + n > this.declared) {
      this.protocolError(`more response body bytes than its Content-Length (${this.declared})`);
      return false;
    }
    return true;
  }

  /** At the response's end: its body must be as long as its Content-Length said (else it fails). */
  private endChecked(more: number): boolean {
    if (this.declared < 0 || this.bodyless || this.bytesOut + more >= this.declared) return true;
    this.protocolError(`a response body of ${this.bytesOut + more} bytes, shorter than its Content-Length (${this.declared})`);
    return false;
  }

  /** chunk is borrowed from the worker connection's read buffer: what is written is a copy. */
  private writeBody(chunk: Buffer): boolean {
    if (!this.admit(chunk.length)) return false;
    if (this.bodyless) {
      // Nothing is sent (HEAD, 204, 304): the bytes are granted back at once.
      this.ungranted += chunk.length;
      if (this.ungranted >= this.grantThreshold) this.grant();
      return true;
    }
    this.bytesOut += chunk.length;
    const copy = COPIER.copy(chunk);
    const ok = this.res.write(copy, () => COPIER.release(copy));
    this.ungranted += chunk.length;
    if (ok) {
      if (this.ungranted >= this.grantThreshold && !this.waitingDrain) this.grant();
    } else if (!this.waitingDrain) {
      this.waitingDrain = true;
      this.res.once('drain', this.onDrain);
    }
    return true;
  }

  private readonly onDrain = (): void => {
    this.waitingDrain = false;
    try {
      if (this.ungranted > 0) this.grant();
    } catch (err) {
      this.internalError('granting credit', err);
    }
  };

  private grant(): void {
    if (!this.terminal && this.worker !== undefined) {
      this.worker.sendCredit(this.id, this.ungranted);
      this.responseCredit += this.ungranted;
    }
    this.ungranted = 0;
  }

  private invalidResponse(err: unknown): void {
    const why = err instanceof Error ? err.message : String(err);
    this.fail(500, `the application's response head is invalid and was not sent (${why}); answered 500`);
  }

  /** Hop-by-hop headers from the application are dropped: said once per application and name. */
  private warnDropped(names: string[]): void {
    const warned = (this.settings.warnedHopByHop ??= new Set());
    const app = this.app === undefined ? '' : `${this.app.group} ${this.app.mount}`;
    for (const name of names) {
      const key = `${app}\0${name.toLowerCase()}`;
      if (warned.has(key)) continue;
      warned.add(key);
      this.logProblem(
        'warn',
        `the application sent the hop-by-hop header ${name}, which PEP 3333 forbids applications to send; wsgi-host dropped it and frames the response itself (said once per application)`,
      );
    }
  }

  // -- file offload ----------------------------------------------------------------------------

  onFile(offer: FileOffer): void {
    if (this.cancelled) return;
    const worker = this.worker as WorkerProcess;
    if (this.reply !== Reply.STREAMING) {
      this.protocolError(this.reply === Reply.WAITING ? 'FILE before the RESPONSE' : 'a FILE while another was being sent');
      return;
    }
    if (this.bodyless) {
      worker.fileDone(this.id, FileResult.REFUSED);
      return;
    }
    if (this.declared >= 0 && this.bytesOut + offer.length > this.declared) {
      this.protocolError(`a file of ${offer.length} bytes, past the response's Content-Length (${this.declared})`);
      return;
    }
    this.reply = Reply.FILE;
    const id = this.id;
    sendOfferedFile(this.res, worker, offer, (outcome) => this.fileSent(worker, id, offer, outcome));
  }

  /** The one end of the file path: the worker hears the outcome; a failure fails the request. */
  private fileSent(worker: WorkerProcess, id: number, offer: FileOffer, outcome: OffloadOutcome): void {
    try {
      if (this.worker !== worker || this.id !== id) return;
      if (outcome.result === 'sent') {
        this.bytesOut += outcome.bytes;
        if (this.reply === Reply.FILE) this.reply = Reply.STREAMING;
        worker.fileDone(id, FileResult.SENT);
        return;
      }
      if (outcome.result === 'refused') {
        if (outcome.cause !== undefined) this.settings.log.error({ requestId: this.requestId, err: outcome.cause }, 'internal error while examining an offered file');
        this.logProblem('warn', `the worker offered its file descriptor ${offer.fd}, which the front end does not send: ${outcome.why}; the worker sends the file itself`);
        if (this.reply === Reply.FILE) this.reply = Reply.STREAMING;
        worker.fileDone(id, FileResult.REFUSED);
        return;
      }
      this.bytesOut += outcome.bytes;
      worker.fileDone(id, FileResult.ABORTED);
      if (!outcome.clientGone) this.fail(502, `the offered file could not be sent: ${outcome.why}`, { cause: outcome.cause });
    } catch (err) {
      this.internalError('ending a file offload', err);
    }
  }

  // -- ends ----------------------------------------------------------------------------------

  private replyStarted(): void {
    if (this.sentAt >= 0) {
      this.settings.poller.replied(this.sentAt);
      this.sentAt = -1;
    }
  }

  onLost(reason: string): void {
    this.replyStarted();
    this.terminal = true;
    if (this.cancelled) {
      this.finish();
      return;
    }
    this.fail(502, `${reason} while serving this request; answered 502`);
  }

  onTimeout(limitSeconds: number): void {
    if (this.cancelled || this.terminal) return;
    // The worker's thread is stuck: whatever it still sends is dropped.
    this.fail(504, `request-timeout (${limitSeconds}s); answered 504`, { level: 'warn' });
  }

  onFault(what: string, err: unknown): void {
    if (err instanceof Error && (err as { code?: string }).code === 'WORKER_PROTOCOL_ERROR') this.protocolError(err.message);
    else this.internalError(`handling ${what}`, err);
  }

  private readonly onClose = (): void => {
    if (this.terminal) return;
    // The client went away before the worker finished (or before a worker took the request).
    this.cancelled = true;
    this.stopBody();
    if (this.worker !== undefined) this.worker.cancel(this.id);
    else this.finish();
  };

  private readonly onResponseError = (err: Error): void => {
    this.internalError('writing the response', err);
  };

  /** The worker broke the protocol for this request: 502 (or the response is cut short). */
  private protocolError(what: string): void {
    this.fail(502, `protocol error from the worker: ${what}; answered 502`);
  }

  /** A bug of ours while handling this request: it fails (502), logged with the stack and counted. */
  private internalError(what: string, err: unknown): void {
    countFault('request');
    this.fail(502, `internal error while ${what}; answered 502`, { cause: err });
  }

  /**
   * The one way a request fails: logged (request id, application, cause); the worker told to stop
   * it; the rest of the request body discarded; an error page when nothing was sent yet, else the
   * connection closed so the client sees the response cut short; then the request is over. A
   * response that already ended is left alone (the connection may be serving the next request).
   */
  fail(status: number, why: string, options: FailOptions = {}): void {
    this.logProblem(options.level ?? 'error', why, options.cause);
    if (this.failed) return;
    this.failed = true;
    try {
      if (this.worker !== undefined && !this.terminal) this.worker.cancel(this.id);
    } catch {
      /* the worker's connection is gone: its loss ends the request there */
    }
    this.cancelled = true;
    this.reply = Reply.DONE;
    const res = this.res;
    try {
      this.stopBody();
      if (!res.writableEnded) {
        if (options.close) res.shouldKeepAlive = false;
        if (!this.headersSent && !res.headersSent) sendError(res, status, this.requestId, options.retryAfter);
        else breakResponse(res);
        if (options.close) this.req.socket.destroySoon?.();
      }
    } catch {
      res.destroy();
    }
    this.finish();
  }

  private failed = false;

  /** A log line about this request: its request id, application, method and URL, then what happened. */
  private logProblem(level: 'debug' | 'warn' | 'error', what: string, cause?: unknown): void {
    const fields: Record<string, unknown> = { requestId: this.requestId };
    if (this.app !== undefined) {
      fields.group = this.app.group;
      fields.mount = this.app.mount;
    }
    if (cause !== undefined) fields.err = cause;
    this.settings.log[level](fields, `${this.req.method} ${this.req.url}: ${what}`);
  }

  private finished = false;

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stopBody(); // frees a buffered body's memory whatever ended the exchange
    try {
      this.stats?.finished(this.status, (performance.now() - this.arrivedAt) / 1000);
      this.onDone?.(this);
    } catch (err) {
      // The request is over; only its accounting (metrics, access log) failed.
      countFault('request');
      this.logProblem('error', 'internal error while accounting for this request', err);
    }
  }
}
