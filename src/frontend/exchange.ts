import { close, createReadStream, fstat, open } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GroupStats } from '../observability/group-stats.js';
import type { Logger } from '../observability/logger.js';
import { FileResult, Flag } from '../protocol/frame-types.js';
import { decodeResponseHead } from '../protocol/response-head.js';
import { SlabCopier } from '../protocol/slab-copier.js';
import type { ExchangeSink, FileSpec, WorkerProcess } from '../supervisor/worker-process.js';
import { breakResponse, endResponse, sendError } from './error-response.js';
import type { RequestRefusal } from './http-refusal.js';
import type { ReplyPoller } from './reply-poller.js';
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
  /** The client went away. */
  private cancelled = false;
  private headersSent = false;
  private ungranted = 0;
  private waitingDrain = false;
  private readonly grantThreshold: number;
  /** Called once when the response is over for any reason (metrics, logs). */
  onDone: ((ex: Exchange) => void) | undefined;
  /** When the request arrived (performance.now()). */
  readonly arrivedAt = performance.now();
  /** Response body bytes handed to the client's connection. */
  bytesOut = 0;
  /** The group's statistics, when routed to a group. */
  stats: GroupStats | undefined;
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
    this.replyStarted(); // a recalled request was sent before: that send is over
    this.worker = worker;
    let flags = 0;
    if (this.body === undefined) flags |= Flag.END;
    else if (this.expectContinue) flags |= Flag.CONTINUE;
    this.sentAt = this.settings.poller.sent();
    this.id = worker.startRequest(this, this.head, flags);
    if (this.body !== undefined) {
      if (this.expectContinue) this.continuePending = true;
      else this.body.forward(this.sendBody, this.settings.requestWindow);
    }
  }

  /** A reload came while the body was buffered: the request goes to where the new routes say. */
  retarget(head: string): void {
    if (this.worker === undefined) this.head = head;
  }

  reject(status: number, why: string, retryAfter?: number): void {
    if (this.cancelled) return;
    this.terminal = true;
    this.logProblem('warn', why);
    sendError(this.res, status, this.requestId, retryAfter);
    this.finish();
  }

  // -- request body --------------------------------------------------------------------------

  private readonly sendBody = (chunk: Buffer, end: boolean): void => {
    if (!this.terminal && this.worker !== undefined) this.worker.sendData(this.id, chunk, end);
  };

  /**
   * The request body failed (over max-body-size, too slow, malformed framing), before or after the
   * request went to a worker: answer why.status and close, or cut the response short.
   */
  bodyFailed(why: RequestRefusal): void {
    if (this.cancelled || this.finished) return;
    this.logProblem('warn', `${why.message}; answered ${why.status}`);
    this.worker?.cancel(this.id);
    this.cancelled = true;
    this.stopBody();
    if (!this.headersSent && !this.res.headersSent) {
      this.res.shouldKeepAlive = false;
      sendError(this.res, why.status, this.requestId);
    } else {
      breakResponse(this.res);
    }
    if (why.status === 408) this.req.socket.destroySoon?.();
    if (this.worker === undefined) this.finish(); // never dispatched, or still waiting in the queue
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
    const { status, reason, headers: fields, body } = decodeResponseHead(payload);
    fields.push('X-Request-Id', this.requestId);
    this.responseHeaders = fields;
    const res = this.res;
    try {
      res.writeHead(status, reason, fields);
    } catch (err) {
      this.invalidResponse(err);
      return;
    }
    this.headersSent = true;
    if (this.terminal) {
      this.stopBody();
      this.bytesOut += body.length;
      if (body.length === 0) endResponse(res);
      // A small body as a latin1 string (byte for byte) lets Node write head and body in one write.
      else if (body.length <= SMALL_BODY) endResponse(res, body.latin1Slice(0, body.length), 'latin1');
      else {
        const copy = COPIER.copy(body);
        endResponse(res, copy, undefined, () => COPIER.release(copy));
      }
      this.finish();
    } else if (body.length > 0) {
      this.writeBody(body);
    }
  }

  onData(payload: Buffer, flags: number): void {
    this.replyStarted();
    if (flags & Flag.END) this.terminal = true;
    if (this.cancelled) {
      if (this.terminal) this.finish();
      return;
    }
    if (flags & Flag.ABORT) {
      // The application failed after the head was sent: the client must see a broken response.
      this.stopBody();
      sendError(this.res, 502, this.requestId); // or cut short, when the head was sent
      this.finish();
      return;
    }
    if (payload.length > 0) this.writeBody(payload);
    if (this.terminal) {
      this.stopBody();
      endResponse(this.res);
      this.finish();
    }
  }

  /** chunk is borrowed from the worker connection's read buffer: what is written is a copy. */
  private writeBody(chunk: Buffer): void {
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
  }

  private readonly onDrain = (): void => {
    this.waitingDrain = false;
    if (this.ungranted > 0) this.grant();
  };

  private grant(): void {
    if (!this.terminal && this.worker !== undefined) this.worker.sendCredit(this.id, this.ungranted);
    this.ungranted = 0;
  }

  private invalidResponse(err: unknown): void {
    const why = err instanceof Error ? err.message : String(err);
    this.logProblem('error', `the application's response head is invalid and was not sent (${why}); answered 500`);
    this.worker?.cancel(this.id);
    this.cancelled = !this.terminal;
    this.stopBody();
    sendError(this.res, 500, this.requestId);
    this.finishIfTerminal();
  }

  onFile(spec: FileSpec): void {
    if (this.cancelled) return;
    const worker = this.worker as WorkerProcess;
    const id = this.id;
    open(spec.path, 'r', (err, fd) => {
      if (err) {
        worker.fileDone(id, FileResult.REFUSED);
        return;
      }
      fstat(fd, { bigint: true }, (err2, st) => {
        if (err2 || String(st.dev) !== spec.dev || String(st.ino) !== spec.ino || this.cancelled) {
          close(fd, () => {});
          worker.fileDone(id, this.cancelled ? FileResult.ABORTED : FileResult.REFUSED);
          return;
        }
        const stream = createReadStream('', {
          fd,
          start: spec.offset,
          end: spec.offset + spec.length - 1,
          highWaterMark: 256 * 1024,
        });
        const abort = (): void => {
          stream.destroy();
          worker.fileDone(id, FileResult.ABORTED);
        };
        this.res.once('close', abort);
        stream.on('error', () => {
          this.res.off('close', abort);
          worker.fileDone(id, FileResult.ABORTED);
          breakResponse(this.res);
        });
        stream.on('end', () => {
          this.res.off('close', abort);
          this.bytesOut += spec.length;
          worker.fileDone(id, FileResult.SENT);
        });
        stream.pipe(this.res, { end: false });
      });
    });
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
    this.logProblem('error', `${reason} while serving this request; answered 502`);
    this.stopBody();
    sendError(this.res, 502, this.requestId); // or cut short, when the head was sent
    this.finish();
  }

  onTimeout(limitSeconds: number): void {
    if (this.cancelled || this.terminal) return;
    this.cancelled = true; // the worker's thread is stuck: drop whatever it still sends
    this.logProblem('warn', `request-timeout (${limitSeconds}s); answered 504`);
    this.stopBody();
    sendError(this.res, 504, this.requestId); // or cut short, when the head was sent
    this.finish();
  }

  private readonly onClose = (): void => {
    if (this.terminal) return;
    // The client went away before the worker finished (or before a worker took the request).
    this.cancelled = true;
    this.stopBody();
    if (this.worker !== undefined) this.worker.cancel(this.id);
    else this.finish();
  };

  /** A log line about this request: its request id, method and URL, then what happened. */
  private logProblem(level: 'warn' | 'error', what: string): void {
    this.settings.log[level]({ requestId: this.requestId }, `${this.req.method} ${this.req.url}: ${what}`);
  }

  private finishIfTerminal(): void {
    if (this.terminal) this.finish();
  }

  private finished = false;

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stopBody(); // frees a buffered body's memory whatever ended the exchange
    this.stats?.finished(this.status, (performance.now() - this.arrivedAt) / 1000);
    this.onDone?.(this);
  }
}
