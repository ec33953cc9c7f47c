import { close, createReadStream, fstat, open } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GroupStats } from '../observability/group-stats.js';
import type { Logger } from '../observability/logger.js';
import { FileResult, Flag } from '../protocol/frame-types.js';
import { decodeResponseHead } from '../protocol/response-head.js';
import { SlabCopier } from '../protocol/slab-copier.js';
import type { ExchangeSink, FileSpec, WorkerProcess } from '../supervisor/worker-process.js';
import { breakResponse, endResponse, sendError } from './error-response.js';
import type { ReplyPoller } from './reply-poller.js';

const EMPTY = Buffer.alloc(0);
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
  /** Request body bytes at most (0: no limit). */
  maxBodySize: number;
  /** The longest gap while a request body arrives (0: none). */
  bodyTimeoutMs: number;
  poller: ReplyPoller;
}

/** What a pool needs from a request waiting for, or running on, a worker. */
export interface Dispatchable {
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
  readonly queuedAt = Date.now();
  /** The head fields before the headers; completed when a worker takes the request. */
  private readonly head: string;
  private readonly settings: ExchangeSettings;
  private readonly hasBody: boolean;
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
  private sendWindow = 0;
  private bodyPaused = false;
  private bodyDone = false;
  private bodyBytes = 0;
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
    hasBody: boolean,
    expectContinue: boolean,
    settings: ExchangeSettings,
  ) {
    this.req = req;
    this.res = res;
    this.head = head;
    this.requestId = requestId;
    this.hasBody = hasBody;
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
    return !this.hasBody && !this.cancelled && !this.terminal && !this.headersSent;
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
    if (!this.hasBody) flags |= Flag.END;
    else if (this.expectContinue) flags |= Flag.CONTINUE;
    this.sentAt = this.settings.poller.sent();
    this.id = worker.startRequest(this, this.head, flags);
    if (this.hasBody) {
      if (this.expectContinue) {
        this.continuePending = true;
      } else {
        this.sendWindow = this.settings.requestWindow;
        this.pumpBody();
      }
    }
  }

  reject(status: number, why: string, retryAfter?: number): void {
    if (this.cancelled) return;
    this.terminal = true;
    this.logProblem('warn', why);
    sendError(this.res, status, this.requestId, retryAfter);
    this.finish();
  }

  // -- request body --------------------------------------------------------------------------

  private bodyTimer: NodeJS.Timeout | undefined;

  private pumpBody(): void {
    this.req.on('data', this.onBodyData);
    this.req.on('end', this.onBodyEnd);
    this.armBodyTimer();
  }

  /** The client must keep the body coming (body-timeout); not counted while we hold it back. */
  private armBodyTimer(): void {
    const ms = this.settings.bodyTimeoutMs;
    if (ms <= 0 || this.bodyDone) return;
    if (this.bodyTimer === undefined) this.bodyTimer = setTimeout(this.onBodyTimeout, ms);
    else this.bodyTimer.refresh();
  }

  private disarmBodyTimer(): void {
    if (this.bodyTimer !== undefined) {
      clearTimeout(this.bodyTimer);
      this.bodyTimer = undefined;
    }
  }

  private readonly onBodyTimeout = (): void => {
    this.bodyTimer = undefined;
    if (this.bodyDone || this.terminal) return;
    this.logProblem('warn', `no request body bytes for ${this.settings.bodyTimeoutMs / 1000}s (body-timeout); answered 408`);
    this.worker?.cancel(this.id);
    this.cancelled = true;
    this.stopBody();
    if (!this.headersSent && !this.res.headersSent) {
      this.res.shouldKeepAlive = false;
      sendError(this.res, 408, this.requestId);
    } else {
      breakResponse(this.res);
    }
    this.req.socket.destroySoon?.();
  };

  private readonly onBodyData = (chunk: Buffer): void => {
    if (this.terminal || this.worker === undefined) return;
    this.bodyBytes += chunk.length;
    const max = this.settings.maxBodySize;
    if (max > 0 && this.bodyBytes > max) {
      this.bodyTooLarge();
      return;
    }
    this.worker.sendData(this.id, chunk, false);
    this.sendWindow -= chunk.length;
    if (this.sendWindow <= 0 && !this.bodyPaused) {
      this.bodyPaused = true;
      this.req.pause();
      this.disarmBodyTimer();
    } else {
      this.armBodyTimer();
    }
  };

  private readonly onBodyEnd = (): void => {
    this.bodyDone = true;
    this.disarmBodyTimer();
    if (!this.terminal && this.worker !== undefined) this.worker.sendData(this.id, EMPTY, true);
  };

  private bodyTooLarge(): void {
    this.logProblem('warn', `request body over the limit of ${this.settings.maxBodySize} bytes; answered 413`);
    this.worker?.cancel(this.id);
    this.cancelled = true;
    this.stopBody();
    if (!this.headersSent && !this.res.headersSent) {
      this.res.shouldKeepAlive = false;
      sendError(this.res, 413, this.requestId);
    } else {
      this.res.destroy();
    }
  }

  /** Stop forwarding the request body; let Node discard what remains. */
  private stopBody(): void {
    if (!this.hasBody || this.bodyDone) return;
    this.req.off('data', this.onBodyData);
    this.req.off('end', this.onBodyEnd);
    this.bodyDone = true;
    this.disarmBodyTimer();
    this.req.resume();
  }

  onCredit(increment: number): void {
    if (this.continuePending) {
      // The application started reading: now ask the client for the body (Expect: 100-continue).
      this.continuePending = false;
      if (!this.res.headersSent) this.res.writeContinue();
      this.sendWindow += increment;
      this.pumpBody();
      return;
    }
    this.sendWindow += increment;
    if (this.bodyPaused && this.sendWindow > 0) {
      this.bodyPaused = false;
      this.req.resume();
      this.armBodyTimer();
    }
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
    this.stats?.finished(this.status, (performance.now() - this.arrivedAt) / 1000);
    this.onDone?.(this);
  }
}
