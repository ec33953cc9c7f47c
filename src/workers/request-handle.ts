/**
 * reason: one request's protocol state (phase, credit, file offer, cancel) checked at every frame
 * and every call of the HTTP side; split, each half would read the other's fields.
 *
 * One dispatched request on the worker side: the RequestStream the HTTP side holds, from dispatch
 * (queued) through the process that runs it (possibly more than one: a request recalled before it
 * started runs elsewhere) to its end. It is the boundary where what a worker sends about a request
 * is checked before the HTTP side sees it: the order of frames (RESPONSE first and once, no DATA
 * while a file is out), the response head (decodeResponseHead), and the credit window. A worker
 * that breaks them fails its request (a Failure to the HTTP side), never another one.
 *
 * Flow control, both ways: request body bytes go out as the worker grants CREDIT (the body source
 * starts at once with REQUEST_WINDOW, or at the first CREDIT when the client waits for 100
 * Continue); response bytes are admitted within RESPONSE_WINDOW plus what was granted back, and
 * the client's progress (credit()) is granted back in batches of a quarter window.
 */
import type { FileOutcome, Failure, PoolRequest, RequestStream } from '../contract/request-port.js';
import { countFault } from '../observability/faults.js';
import type { Logger } from '../observability/logger.js';
import { FileResult, Flag, FrameType, REQUEST_WINDOW, RESPONSE_WINDOW } from '../protocol/frame-types.js';
import { decodeCredit, decodeFileOffer, type FileOffer } from '../protocol/messages.js';
import { WorkerProtocolError } from '../protocol/protocol-error.js';
import { encodeRequestHead } from '../protocol/request-head.js';
import { decodeResponseHead, type ResponseHead } from '../protocol/response-head.js';
import { openOffered } from './offered-file.js';
import type { ReplyPoller } from './reply-poller.js';
import type { WorkerChannel } from './worker-channel.js';

/** Credit is granted back to a worker in batches of at least this many bytes. */
const GRANT_BATCH = RESPONSE_WINDOW >>> 2;

/** The process a handle runs on (a WorkerProcess). */
export interface HandleHost {
  readonly channel: WorkerChannel;
  readonly poller: ReplyPoller;
  /** For offered files: the process the front end started, and whether it still runs. */
  readonly pid: number | undefined;
  readonly alive: boolean;
  readonly log: Logger;
}

/** Where a request is, as its worker's frames say. */
export const enum Phase {
  /** Not on a process (waiting in the pool's queue, or recalled). */
  QUEUED,
  /** Sent; no RESPONSE yet. */
  SENT,
  /** The RESPONSE came; DATA and FILE may follow. */
  STREAMING,
  /** A FILE is being sent by the HTTP side; the worker waits for FILE_DONE. */
  FILE,
  /** Its last frame came (END), or its process is gone. */
  ENDED,
}

const FILE_RESULT: Record<FileOutcome, number> = { sent: FileResult.SENT, refused: FileResult.REFUSED, aborted: FileResult.ABORTED };

export class RequestHandle implements RequestStream {
  readonly request: PoolRequest;
  /** When it was dispatched (Date.now()): queue-timeout counts from here. */
  readonly queuedAt = Date.now();
  /** The HTTP side cancelled it (or it was rejected): nothing more goes to the HTTP side. */
  cancelled = false;
  phase = Phase.QUEUED;
  /** The process running it, and its frame id there. */
  host: HandleHost | undefined;
  id = 0;
  /** When it started running on its process (ms); 0 while it waits inside the process for a thread. */
  startedAt = 0;
  /** It was asked back with RECALL. */
  recalling = false;
  /** It ran past request-timeout (answered already). */
  timedOut = false;
  /** When it was sent (performance.now(), for the reply poller), until its reply started; -1 after. */
  private sentAt = -1;
  private bodyStarted = false;
  /** Response body bytes the worker may still send before it is granted more. */
  private responseCredit = 0;
  private ungranted = 0;

  constructor(request: PoolRequest) {
    this.request = request;
  }

  get requestId(): string {
    return this.request.head.requestId;
  }

  /** A request without a body whose response has not started may be taken back and run elsewhere. */
  get recallable(): boolean {
    return this.request.body === undefined && !this.cancelled && this.phase === Phase.SENT;
  }

  // -- from the worker side ------------------------------------------------------------------

  /** Sends the request to `host` as frame `id` (its body as the worker grants credit). */
  sendTo(host: HandleHost, id: number): void {
    this.replied(); // a recalled request was sent before: that send is over
    this.host = host;
    this.id = id;
    this.phase = Phase.SENT;
    this.recalling = false;
    this.responseCredit = RESPONSE_WINDOW;
    this.ungranted = 0;
    const { head, body, expectContinue } = this.request;
    try {
      const flags = body === undefined ? Flag.END : expectContinue ? Flag.CONTINUE : 0;
      this.sentAt = host.poller.sent();
      host.channel.request(id, flags, encodeRequestHead(head, head.headers));
      if (body !== undefined && !expectContinue) {
        this.bodyStarted = true;
        body.start(this, REQUEST_WINDOW);
      }
    } catch (err) {
      this.report({ kind: 'internal', why: 'starting it on a worker', cause: err });
    }
  }

  /** Taken back from its process before it started: it may be sent elsewhere. */
  recalled(): void {
    this.replied();
    this.host = undefined;
    this.phase = Phase.QUEUED;
    this.startedAt = 0;
  }

  /** RESPONSE, DATA, CREDIT or FILE from its worker (the payload is borrowed). */
  frame(type: number, flags: number, payload: Buffer): void {
    switch (type) {
      case FrameType.RESPONSE:
        this.response(payload, flags);
        return;
      case FrameType.DATA:
        this.data(payload, flags);
        return;
      case FrameType.CREDIT:
        this.bodyCredit(decodeCredit(payload));
        return;
      case FrameType.FILE:
        this.file(decodeFileOffer(payload));
        return;
    }
  }

  /** A RESPONSE or DATA frame came: the reply started; a cancelled request drops it. Whether to handle it. */
  private arrived(end: boolean): boolean {
    this.replied();
    if (!this.cancelled) return true;
    if (end) this.phase = Phase.ENDED;
    return false;
  }

  private response(payload: Buffer, flags: number): void {
    const end = (flags & Flag.END) !== 0;
    if (!this.arrived(end)) return;
    if (this.phase !== Phase.SENT) {
      this.protocol('a second RESPONSE frame');
      return;
    }
    let head: ResponseHead;
    try {
      head = decodeResponseHead(payload);
    } catch (err) {
      this.report({ kind: 'invalid-head', why: err instanceof Error ? err.message : String(err) });
      return;
    }
    if (!this.admit(head.body.length)) return;
    this.phase = end ? Phase.ENDED : Phase.STREAMING;
    this.request.onHead(head, end);
  }

  private data(payload: Buffer, flags: number): void {
    const end = (flags & Flag.END) !== 0;
    if (!this.arrived(end)) return;
    if (flags & Flag.ABORT) {
      // The application failed after its response started (the worker logged why).
      this.report({ kind: 'aborted', why: "the application's response was cut short (the log line before says why)" });
      return;
    }
    if (this.phase !== Phase.STREAMING) {
      this.protocol(this.phase === Phase.FILE ? 'DATA while a file was being sent' : 'DATA before the RESPONSE');
      return;
    }
    if (payload.length > 0 && !this.admit(payload.length)) return;
    if (end) this.phase = Phase.ENDED;
    this.request.onBody(payload, end);
  }

  /** The worker sends n more body bytes: they must be within its credit (else the request fails). */
  private admit(n: number): boolean {
    this.responseCredit -= n;
    if (this.responseCredit >= 0) return true;
    this.protocol(`response body bytes beyond the credit granted (${-this.responseCredit} over)`);
    return false;
  }

  /** The application read request body bytes: send more (the first credit starts a 100-continue body). */
  private bodyCredit(increment: number): void {
    const body = this.request.body;
    if (this.cancelled || body === undefined) return;
    if (this.bodyStarted) {
      body.credit(increment);
      return;
    }
    this.bodyStarted = true;
    body.start(this, increment);
  }

  private file(offer: FileOffer): void {
    if (this.cancelled) return;
    if (this.phase !== Phase.STREAMING) {
      this.protocol(this.phase === Phase.SENT ? 'FILE before the RESPONSE' : 'a FILE while another was being sent');
      return;
    }
    this.phase = Phase.FILE;
    const host = this.host as HandleHost;
    const id = this.id;
    const { method, requestUri } = this.request.head;
    const refuse = (why: string): void => {
      host.log.warn(
        { requestId: this.requestId },
        `${method} ${requestUri}: the worker offered its file descriptor ${offer.fd}, which the front end does not send: ${why}; the worker sends the file itself`,
      );
      this.fileDone('refused');
    };
    openOffered(host, offer).then(
      (opened) => {
        try {
          if (typeof opened === 'string') refuse(opened);
          else if (this.host !== host || this.id !== id || this.phase !== Phase.FILE || this.cancelled) {
            void opened.close().catch(() => {});
            if (this.phase === Phase.FILE) this.fileDone('aborted');
          } else this.request.onFile({ handle: opened, offset: offer.offset, length: offer.length });
        } catch (err) {
          this.report({ kind: 'internal', why: 'ending a file offload', cause: err });
        }
      },
      (err: unknown) => {
        countFault('file');
        host.log.error({ requestId: this.requestId, err }, 'internal error while examining an offered file');
        refuse('the file could not be examined');
      },
    );
  }

  /** Its process is gone (it died, or closed its connection) while the request ran there. */
  lost(reason: string): void {
    this.replied();
    this.phase = Phase.ENDED;
    this.report({ kind: 'lost', why: reason });
  }

  /** It ran past request-timeout: its thread is stuck in the application. */
  timeout(limitSeconds: number): void {
    this.timedOut = true;
    if (this.phase !== Phase.ENDED) this.report({ kind: 'timeout', why: `request-timeout (${limitSeconds}s)`, limitSeconds });
  }

  /** No process could take it. */
  reject(why: string, retryAfter: number): void {
    this.report({ kind: 'rejected', why, retryAfter });
    this.cancelled = true;
  }

  /** A frame of it could not be handled: it broke the protocol, or handling it threw (a bug of ours). */
  fault(what: string, err: unknown): void {
    if (err instanceof WorkerProtocolError) this.protocol(err.message);
    else this.report({ kind: 'internal', why: `handling ${what}`, cause: err });
  }

  private protocol(why: string): void {
    this.report({ kind: 'protocol', why });
  }

  private report(failure: Failure): void {
    if (!this.cancelled) this.request.onFailure(failure);
  }

  private replied(): void {
    if (this.sentAt >= 0) {
      (this.host as HandleHost).poller.replied(this.sentAt);
      this.sentAt = -1;
    }
  }

  // -- from the HTTP side (RequestStream) ----------------------------------------------------

  body(chunk: Buffer, end: boolean): void {
    if (this.cancelled || this.phase === Phase.ENDED || this.host === undefined) return;
    try {
      this.host.channel.data(this.id, chunk, end);
    } catch (err) {
      this.report({ kind: 'internal', why: 'forwarding the request body', cause: err });
    }
  }

  credit(bytes: number): void {
    if (this.cancelled || this.phase === Phase.ENDED || this.host === undefined) return;
    this.ungranted += bytes;
    if (this.ungranted < GRANT_BATCH) return;
    this.host.channel.credit(this.id, this.ungranted);
    this.responseCredit += this.ungranted;
    this.ungranted = 0;
  }

  fileDone(outcome: FileOutcome): void {
    if (this.phase !== Phase.FILE || this.host === undefined) return;
    if (outcome !== 'aborted') this.phase = Phase.STREAMING;
    this.host.channel.control(FrameType.FILE_DONE, this.id, FILE_RESULT[outcome]);
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.host !== undefined && this.phase !== Phase.ENDED && this.phase !== Phase.QUEUED && !this.host.channel.isClosed) {
      try {
        this.host.channel.control(FrameType.CANCEL, this.id);
      } catch {
        /* the worker's connection is gone: its loss ends the request there */
      }
    }
  }
}
