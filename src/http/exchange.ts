/**
 * reason: one request's two state machines (its body, its response) and their one failure path
 * read each other at every step; what is not state lives beside it (request-body.ts reads the
 * body, file-send.ts sends files, error-response.ts ends responses, access-record.ts logs).
 *
 * One HTTP request served by an application: the HTTP side of the contract (PoolRequest and its
 * BodySource, src/contract/request-port.ts). It writes what the worker side reports (a checked
 * head, body chunks, an offered file) to the response, gives the worker credit back as the client
 * takes the bytes, sends the request body as the application reads it, and cancels the request
 * when the client goes away.
 *
 * States, instead of flags: the request body is none | pending (not read yet: it waits for the
 * application, perhaps behind 100 Continue) | buffering (read into memory before dispatch) |
 * streaming | done | failed; the response is waiting | head-sent | streaming | done (ended whole)
 * | broken (failed, or the client went away). done and broken are final: the exchange is over.
 *
 * Containment: every failure goes through fail(): the request is answered with an error (or its
 * response cut short when its head was sent), the worker side told to stop it, the log says why
 * with the request id, and nothing reaches the process. The worker side checks what the worker
 * sends (order, head, credit); what is checked here is HTTP's: the response's Content-Length.
 */
import type { CompressConfig } from '../config/frontdoor-schema.js';
import type {
  BodySink,
  BodySource,
  Failure,
  OfferedFile,
  PoolRequest,
  RequestHead,
  RequestPort,
  RequestStream,
  ResponseHead,
} from '../contract/request-port.js';
import { countFault } from '../observability/faults.js';
import type { GroupStats } from '../observability/group-stats.js';
import type { Logger } from '../observability/logger.js';
import type { ResponseEnds } from './error-response.js';
import { sendFileRange, type SendOutcome } from './file-send.js';
import type { RequestRefusal } from './http-refusal.js';
import type { ResponseCompressor } from '../frontdoor/response-compressor.js';
import { type HttpRequest, type HttpResponse, writeHeadOf } from './message.js';
import { type BodySettings, RequestBody } from './request-body.js';
import { compressResponse, pipeCompressed } from './response-compression.js';
import { release, retain } from '../util/read-slabs.js';

const SMALL_BODY = 16 * 1024;

/** Settings shared by every exchange of one front end. */
export interface ExchangeSettings {
  log: Logger;
  /** How responses end on this HTTP version (error-response.ts: HTTP1_ENDS). */
  ends: ResponseEnds;
  body: BodySettings;
  /** Called once for every exchange when it is over (the front end's count, the access log). */
  finished(ex: Exchange): void;
  /** Hop-by-hop headers already warned about, by application and name (once per application). */
  warnedHopByHop: Set<string>;
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
  retryAfter?: number | undefined;
}

/** How each failure the worker side reports is answered (status, log level, log line). */
const ANSWERS: Record<Failure['kind'], { status: number; level: 'debug' | 'warn' | 'error'; say: (f: Failure) => string }> = {
  rejected: { status: 503, level: 'warn', say: (f) => f.why },
  lost: { status: 502, level: 'error', say: (f) => `${f.why} while serving this request; answered 502` },
  // The worker's thread is stuck: whatever it still sends is dropped.
  timeout: { status: 504, level: 'warn', say: (f) => `${f.why}; answered 504` },
  // The application failed after its response started (the worker logged why): the client must
  // see a broken response, or a 502 when nothing was sent.
  aborted: { status: 502, level: 'debug', say: (f) => f.why },
  'invalid-head': { status: 500, level: 'error', say: (f) => `the application's response head is invalid and was not sent (${f.why}); answered 500` },
  protocol: { status: 502, level: 'error', say: (f) => `protocol error from the worker: ${f.why}; answered 502` },
  internal: { status: 502, level: 'error', say: (f) => `internal error while ${f.why}; answered 502` },
};

const enum Body {
  NONE,
  PENDING,
  BUFFERING,
  STREAMING,
  DONE,
  FAILED,
}

const enum Reply {
  WAITING,
  HEAD_SENT,
  STREAMING,
  DONE,
  BROKEN,
}

/** The response's events reach its exchange through shared listeners (no closures per request). */
const EXCHANGE = Symbol('wsgi-host.exchange');
type Tagged = HttpResponse & { [EXCHANGE]?: Exchange };

function onResponseClose(this: Tagged): void {
  this[EXCHANGE]?.clientClosed();
}

function onResponseError(this: Tagged, err: Error): void {
  this[EXCHANGE]?.internalError('writing the response', err);
}

function onResponseDrain(this: Tagged): void {
  this[EXCHANGE]?.drained();
}

export class Exchange implements PoolRequest, BodySource {
  readonly req: HttpRequest;
  readonly res: HttpResponse;
  /** What the application sees (retarget() replaces it when a reload routes the request anew). */
  head: RequestHead;
  readonly stats: GroupStats;
  readonly app: AppLabel;
  /** When the request arrived (performance.now()). */
  readonly arrivedAt = performance.now();
  /** Response body bytes the application sent (before compression). */
  bytesOut = 0;
  /** The response's header names and values, as the worker sent them (for the access log). */
  responseHeaders: readonly string[] = [];
  /** The request body, as the worker side reads it (this exchange); undefined when there is none. */
  readonly body: BodySource | undefined;
  /** The client waits for 100 Continue: start() sends it (false once the front end sent it itself). */
  expectContinue: boolean;
  private readonly settings: ExchangeSettings;
  private readonly requestBody: RequestBody | undefined;
  private bodyState: Body;
  private reply = Reply.WAITING;
  /** The worker side's handle, once dispatched. */
  private stream: RequestStream | undefined;
  /** The response's Content-Length, or -1 without one. */
  private declared = -1;
  /** The response has no body (HEAD, 204, 304): what the worker sends for it is dropped. */
  private bodyless = false;
  /** The client's connection pushed back: credit for what was written since waits for 'drain'. */
  private waitingDrain = false;
  private heldCredit = 0;
  /** The mount's response compression (undefined: off, and nothing below runs). */
  private readonly compress: CompressConfig | undefined;
  /** This response's compressor, when it is compressed. */
  private compressor: ResponseCompressor | undefined;
  /** Compressed bytes handed to the client's connection. */
  private compressedOut = 0;

  /** bodyLength: the Content-Length, -1 for a chunked body, 0 for none. */
  constructor(
    req: HttpRequest,
    res: HttpResponse,
    head: RequestHead,
    bodyLength: number,
    expectContinue: boolean,
    stats: GroupStats,
    app: AppLabel,
    settings: ExchangeSettings,
    compress?: CompressConfig,
  ) {
    this.req = req;
    this.compress = compress;
    this.res = res;
    this.head = head;
    this.stats = stats;
    this.app = app;
    this.settings = settings;
    this.expectContinue = expectContinue;
    this.requestBody =
      bodyLength === 0
        ? undefined
        : new RequestBody(
            req,
            bodyLength,
            settings.body,
            (why) => this.bodyFailed(why),
            (err) => this.bodyError(err),
          );
    this.body = this.requestBody === undefined ? undefined : this;
    this.bodyState = this.requestBody === undefined ? Body.NONE : Body.PENDING;
    (res as Tagged)[EXCHANGE] = this;
    res.on('close', onResponseClose);
    // A write the response refuses emits 'error': it fails this request, never the process.
    res.on('error', onResponseError);
    stats.started();
  }

  get requestId(): string {
    return this.head.requestId;
  }

  /** The exchange is over (answered whole, failed, or the client went away). */
  get over(): boolean {
    return this.reply >= Reply.DONE;
  }

  /** Response body bytes handed to the client's connection (compressed, when it was). */
  get bytesSent(): number {
    return this.compressor === undefined ? this.bytesOut : this.compressedOut;
  }

  /** The status the client got; 499 when it went away before an answer (as nginx logs it). */
  get status(): number {
    return this.reply === Reply.BROKEN && !this.res.headersSent ? 499 : this.res.statusCode;
  }

  /**
   * Reads the body into memory before dispatch when it may be (false: it may not); ready(complete)
   * when it is all here, or turned out too large (then the rest streams). The client waiting for
   * 100 Continue gets it now: the front end wants the body.
   */
  bufferBody(ready: (complete: boolean) => void): boolean {
    if (this.requestBody === undefined || !this.requestBody.buffer(ready)) return false;
    this.bodyState = Body.BUFFERING;
    if (this.expectContinue) {
      this.expectContinue = false;
      this.res.writeContinue();
    }
    return true;
  }

  /** A reload came while the body was buffered: the request goes where the new routes say. */
  retarget(head: RequestHead): void {
    if (this.stream === undefined) this.head = head;
  }

  /** Hands the request to its group. */
  dispatchTo(port: RequestPort): void {
    this.stream = port.dispatch(this);
    // It may have failed already (the group is not serving): its handle is cancelled then.
    if (this.over) this.stream.cancel();
  }

  // -- the request body (BodySource) ---------------------------------------------------------

  start(sink: BodySink, credit: number): void {
    if (this.requestBody === undefined || this.bodyState >= Body.STREAMING) return;
    this.bodyState = Body.STREAMING;
    if (this.expectContinue && !this.res.headersSent) this.res.writeContinue();
    this.requestBody.forward(sink, credit);
  }

  credit(increment: number): void {
    this.requestBody?.credit(increment);
  }

  /** The body failed (over max-body-size, too slow, malformed framing): answer why.status and close. */
  bodyFailed(why: RequestRefusal): void {
    if (this.over) return;
    this.bodyState = Body.FAILED;
    this.fail(why.status, `${why.message}; answered ${why.status}`, { level: 'warn', close: true });
  }

  /** A bug of ours while reading the request body. */
  bodyError(err: unknown): void {
    if (this.over) return;
    this.bodyState = Body.FAILED;
    this.internalError('reading the request body', err);
  }

  /** The framing broke under the body (the connection's parser said so). */
  bodyBroken(why: RequestRefusal): void {
    this.requestBody?.broken(why);
  }

  private stopBody(): void {
    if (this.requestBody === undefined) return;
    this.requestBody.stop();
    if (this.bodyState !== Body.FAILED) this.bodyState = Body.DONE;
  }

  // -- the response (PoolRequest) --------------------------------------------------------------

  onHead(head: ResponseHead, end: boolean): void {
    if (this.reply !== Reply.WAITING) return;
    if (head.dropped !== undefined) this.warnDropped(head.dropped);
    let fields = head.headers;
    fields.push('X-Request-Id', this.head.requestId);
    if (this.compress !== undefined) {
      const c = compressResponse(this.compress, this.head.method, this.req.headers['accept-encoding'], head.status, fields, end ? head.body.length : undefined);
      fields = c.fields;
      this.compressor = c.compressor;
    }
    this.responseHeaders = fields;
    const res = this.res;
    if (head.close) this.settings.ends.closeAfter(res);
    try {
      writeHeadOf(res, head.status, head.reason, fields);
    } catch (err) {
      this.compressor?.destroy();
      this.compressor = undefined;
      this.fail(500, `the application's response head is invalid and was not sent (${err instanceof Error ? err.message : String(err)}); answered 500`);
      return;
    }
    this.reply = Reply.HEAD_SENT;
    this.declared = head.contentLength;
    this.bodyless = this.head.method === 'HEAD' || head.status === 204 || head.status === 304;
    const body = head.body;
    if (this.compressor !== undefined) this.startCompressed(this.compressor);
    if (!end) {
      if (body.length > 0) this.writeBody(body);
      return;
    }
    this.stopBody();
    if (this.compressor !== undefined) {
      if (body.length > 0 && !this.writeBody(body)) return;
      if (this.endChecked(0)) this.compressor.end();
      return;
    }
    if (this.bodyless || body.length === 0) {
      if (!this.endChecked(0)) return;
      this.settings.ends.end(res);
    } else {
      if (!this.withinLength(body.length) || !this.endChecked(body.length)) return;
      this.bytesOut += body.length;
      // A small body as a latin1 string (byte for byte) lets Node write head and body in one write.
      if (body.length <= SMALL_BODY) this.settings.ends.end(res, body.latin1Slice(0, body.length), 'latin1');
      else {
        const kept = retain(body);
        this.settings.ends.end(res, kept, undefined, () => release(kept));
      }
    }
    this.end(Reply.DONE);
  }

  onBody(chunk: Buffer, end: boolean): void {
    if (this.over) return;
    if (chunk.length > 0 && !this.writeBody(chunk)) return;
    if (!end) return;
    if (!this.endChecked(0)) return;
    this.stopBody();
    if (this.compressor !== undefined) {
      this.compressor.end(); // the response ends when the compressor's last bytes went out (compressedEnd)
      return;
    }
    this.settings.ends.end(this.res);
    this.end(Reply.DONE);
  }

  // -- a compressed response (response-compression.ts) ------------------------------------------

  private startCompressed(compressor: ResponseCompressor): void {
    pipeCompressed(compressor, this.res, (n) => {
      this.compressedOut += n;
    });
    compressor.stream.once('end', () => this.compressedEnd());
    compressor.stream.on('error', (err) => this.internalError('compressing the response', err));
  }

  /** The compressor's last bytes were handed to the response: it ends whole. */
  private compressedEnd(): void {
    if (this.over) return;
    try {
      this.settings.ends.end(this.res);
    } catch (err) {
      this.internalError('ending a compressed response', err);
      return;
    }
    this.end(Reply.DONE);
  }

  /**
   * A chunk into the compressor: the worker gets its credit once the compressor took the chunk in,
   * which it does only as the client takes the compressed bytes (a bounded buffer in between).
   */
  private writeCompressed(compressor: ResponseCompressor, chunk: Buffer): void {
    const n = chunk.length;
    const kept = retain(chunk);
    compressor.write(kept, () => {
      release(kept);
      if (this.over) return;
      try {
        this.stream?.credit(n);
      } catch (err) {
        this.internalError('granting credit', err);
      }
    });
  }

  /** chunk is borrowed from the worker connection's slab: it is retained until written (util/read-slabs.ts). */
  private writeBody(chunk: Buffer): boolean {
    const n = chunk.length;
    if (!this.withinLength(n)) return false;
    if (this.bodyless) {
      // Nothing is sent (HEAD, 204, 304): the bytes are granted back at once.
      this.stream?.credit(n);
      return true;
    }
    this.bytesOut += n;
    this.reply = Reply.STREAMING;
    if (this.compressor !== undefined) {
      this.writeCompressed(this.compressor, chunk);
      return true;
    }
    const kept = retain(chunk);
    const ok = this.res.write(kept, () => release(kept));
    if (this.waitingDrain) this.heldCredit += n;
    else if (ok) this.stream?.credit(n);
    else {
      this.heldCredit += n;
      this.waitingDrain = true;
      this.res.once('drain', onResponseDrain);
    }
    return true;
  }

  /** The client's connection drained: the credit held back goes to the worker. */
  drained(): void {
    this.waitingDrain = false;
    try {
      if (this.heldCredit > 0) {
        const n = this.heldCredit;
        this.heldCredit = 0;
        this.stream?.credit(n);
      }
    } catch (err) {
      this.internalError('granting credit', err);
    }
  }

  /** n more body bytes must stay within the response's Content-Length (else the request fails). */
  private withinLength(n: number): boolean {
    if (this.declared < 0 || this.bodyless || this.bytesOut + n <= this.declared) return true;
    this.protocolError(`more response body bytes than its Content-Length (${this.declared})`);
    return false;
  }

  /** At the response's end: its body must be as long as its Content-Length said (else it fails). */
  private endChecked(more: number): boolean {
    if (this.declared < 0 || this.bodyless || this.bytesOut + more >= this.declared) return true;
    this.protocolError(`a response body of ${this.bytesOut + more} bytes, shorter than its Content-Length (${this.declared})`);
    return false;
  }

  /** Hop-by-hop headers from the application are dropped: said once per application and name. */
  private warnDropped(names: string[]): void {
    const warned = this.settings.warnedHopByHop;
    const app = `${this.app.group} ${this.app.mount}`;
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

  onFile(file: OfferedFile): void {
    const stream = this.stream as RequestStream;
    if (this.over || this.bodyless) {
      void file.handle.close().catch(() => {});
      stream.fileDone('refused');
      return;
    }
    if (this.declared >= 0 && this.bytesOut + file.length > this.declared) {
      void file.handle.close().catch(() => {});
      this.protocolError(`a file of ${file.length} bytes, past the response's Content-Length (${this.declared})`);
      return;
    }
    this.reply = Reply.STREAMING;
    // A compressed response: the file goes through the compressor (piped, with its backpressure).
    sendFileRange(this.compressor?.stream ?? this.res, file.handle, file.offset, file.length, (outcome) => this.fileSent(stream, outcome));
  }

  /** The one end of an offered file: the worker hears the outcome; a failure fails the request. */
  private fileSent(stream: RequestStream, outcome: SendOutcome): void {
    try {
      this.bytesOut += outcome.bytes;
      if (outcome.result === 'sent') {
        stream.fileDone('sent');
        return;
      }
      stream.fileDone('aborted');
      if (!outcome.clientGone) this.fail(502, `the offered file could not be sent: ${outcome.why}`, { cause: outcome.cause });
    } catch (err) {
      this.internalError('ending a file offload', err);
    }
  }

  onFailure(f: Failure): void {
    if (f.kind === 'internal') countFault('request');
    const a = ANSWERS[f.kind];
    this.fail(a.status, a.say(f), { level: a.level, cause: f.cause, retryAfter: f.retryAfter });
  }

  // -- ends ----------------------------------------------------------------------------------

  /** The client went away before the response ended (or before a worker took the request). */
  clientClosed(): void {
    if (this.over) return;
    this.stream?.cancel();
    this.end(Reply.BROKEN);
  }

  /** The response breaks HTTP's rules (its Content-Length): 502, or the response is cut short. */
  private protocolError(why: string): void {
    this.onFailure({ kind: 'protocol', why });
  }

  /** A bug of ours while handling this request: it fails (502), logged with the stack and counted. */
  internalError(what: string, err: unknown): void {
    this.onFailure({ kind: 'internal', why: what, cause: err });
  }

  /**
   * The one way a request fails: logged (request id, application, cause); the worker side told to
   * stop it; the rest of the request body discarded; an error page when nothing was sent yet, else
   * the connection closed so the client sees the response cut short; then the exchange is over. A
   * response that already ended is left alone (the connection may be serving the next request).
   */
  fail(status: number, why: string, options: FailOptions = {}): void {
    this.logProblem(options.level ?? 'error', why, options.cause);
    if (this.over) return;
    this.stream?.cancel();
    const res = this.res;
    try {
      this.stopBody();
      if (!res.writableEnded) {
        const ends = this.settings.ends;
        if (options.close) ends.closeAfter(res);
        if (this.reply === Reply.WAITING && !res.headersSent) ends.error(res, status, this.head.requestId, options.retryAfter);
        else ends.cut(res);
        if (options.close) ends.closeAfter(res, true);
      }
    } catch {
      res.destroy();
    }
    this.end(Reply.BROKEN);
  }

  /** A log line about this request: its request id, application, method and URL, then what happened. */
  private logProblem(level: 'debug' | 'warn' | 'error', what: string, cause?: unknown): void {
    const fields: Record<string, unknown> = { requestId: this.head.requestId, group: this.app.group, mount: this.app.mount };
    if (cause !== undefined) fields.err = cause;
    this.settings.log[level](fields, `${this.head.method} ${this.req.url}: ${what}`);
  }

  /** The exchange is over: the body's memory freed, the request counted (once). */
  private end(state: Reply.DONE | Reply.BROKEN): void {
    if (this.over) return;
    this.reply = state;
    this.stopBody(); // frees a buffered body's memory whatever ended the exchange
    if (state === Reply.BROKEN && this.compressor !== undefined) {
      this.compressor.stream.unpipe(this.res);
      this.compressor.destroy(); // its memory now; an offered file being sent into it stops (file-send.ts)
    }
    try {
      this.stats.finished(this.status, (performance.now() - this.arrivedAt) / 1000);
      this.settings.finished(this);
    } catch (err) {
      // The request is over; only its accounting (metrics, access log) failed.
      countFault('request');
      this.logProblem('error', 'internal error while accounting for this request', err);
    }
  }
}
