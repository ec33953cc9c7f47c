/**
 * reason: buffering, streaming with credit and pacing share one reading loop and its state.
 *
 * A request body on its way from the client to the application. Bodies up to buffer-request-body
 * are read whole into memory before a worker thread is taken (nginx's proxy_request_buffering,
 * uWSGI's post-buffering), within one budget for all of them (buffer-memory); larger bodies, and
 * bodies that find the budget spent, are streamed as the application reads, with flow control.
 * Either way the body must keep arriving (BodyClock: body-timeout, body-min-rate) and stay within
 * max-body-size; a failure is reported once, as a RequestRefusal, and the body stops.
 */
import type { Readable } from 'node:stream';
import type { BodySink } from '../contract/request-port.js';
import { BodyClock, type BodyPace } from './body-clock.js';
import type { BufferBudget } from './buffer-budget.js';
import { RefusalCode as C, RequestRefusal } from './http-refusal.js';
import { bodyCollection } from '../util/young-collection.js';

export interface BodySettings {
  /** Bytes at most (0: no limit). */
  maxBodySize: number;
  pace: BodyPace;
  /** Bodies up to this size are read whole before the request is dispatched (0: never). */
  bufferLimit: number;
  budget: BufferBudget;
}

export type { BodySink };

const EMPTY = Buffer.alloc(0);
/** Each body read is a new buffer outside V8's heap: see util/young-collection.ts. */
const YOUNG = bodyCollection();

type State = 'new' | 'buffering' | 'held' | 'forwarding' | 'done';

export class RequestBody {
  /** Content-Length, or -1 for a chunked body. */
  readonly length: number;
  private readonly stream: Readable;
  private readonly settings: BodySettings;
  private readonly onFail: (why: RequestRefusal) => void;
  private readonly onError: (err: unknown) => void;
  private state: State = 'new';
  private readonly chunks: Buffer[] = [];
  /** Budget taken (released when the buffered bytes have gone to the sink, or on stop). */
  private reserved = 0;
  private ended = false;
  private listening = false;
  private paused = false;
  private clock: BodyClock | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ready: ((complete: boolean) => void) | undefined;
  private sink: BodySink | undefined;
  private window = 0;
  /** Bytes received from the client so far. */
  received = 0;

  /**
   * onFail: the body broke a limit or the framing broke (answered with its status); onError: a bug
   * of ours while reading it (the listeners are guarded: it fails that request, never the process).
   */
  constructor(
    stream: Readable,
    length: number,
    settings: BodySettings,
    onFail: (why: RequestRefusal) => void,
    onError: (err: unknown) => void = (err) => {
      throw err;
    },
  ) {
    this.stream = stream;
    this.length = length;
    this.settings = settings;
    this.onFail = onFail;
    this.onError = onError;
  }

  /**
   * Reads the body into memory when it may be buffered (false: it may not; nothing was read).
   * ready(true) when all of it is here; ready(false) when it turned out too large for the buffer
   * or the budget (a chunked body): what was read is kept and forward() streams the rest.
   */
  buffer(ready: (complete: boolean) => void): boolean {
    const { bufferLimit, budget } = this.settings;
    if (this.state !== 'new' || bufferLimit <= 0) return false;
    if (this.length >= 0) {
      if (this.length > bufferLimit || !budget.take(this.length)) return false;
      this.reserved = this.length;
    }
    this.state = 'buffering';
    this.ready = ready;
    this.listen();
    return true;
  }

  /** Sends the body to sink: what was buffered first, then the rest as it arrives, within credit. */
  forward(sink: BodySink, credit: number): void {
    if (this.state === 'done') return;
    this.state = 'forwarding';
    this.sink = sink;
    this.window += credit;
    this.flush();
    if (this.state !== 'forwarding' || this.ended) return;
    if (!this.listening) this.listen();
    else if (this.chunks.length === 0 && this.window > 0) this.unpause();
  }

  /** The application read this much more: send more. */
  credit(increment: number): void {
    if (this.state !== 'forwarding') return;
    this.window += increment;
    this.flush();
    if (this.state === 'forwarding' && this.window > 0 && this.chunks.length === 0 && !this.ended) this.unpause();
  }

  /** The framing broke under the body (a bad chunk, the client's end mid-body): fail it. */
  broken(why: RequestRefusal): void {
    if (this.state === 'done' || this.ended) return;
    this.fail(why);
  }

  /** No more of it is wanted: stop reading, let the stream discard the rest, free the memory. */
  stop(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.clearTimer();
    this.chunks.length = 0;
    this.release();
    if (this.listening) {
      this.stream.off('data', this.onData);
      this.stream.off('end', this.onEnd);
      this.listening = false;
    }
    if (!this.ended) this.stream.resume();
  }

  // -- reading -------------------------------------------------------------------------------

  private listen(): void {
    this.listening = true;
    this.clock = new BodyClock(this.settings.pace, Date.now());
    this.stream.on('data', this.onData);
    this.stream.on('end', this.onEnd);
    this.arm();
  }

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.data(chunk);
    } catch (err) {
      this.crash(err);
    }
  };

  private readonly onEnd = (): void => {
    try {
      this.end();
    } catch (err) {
      this.crash(err);
    }
  };

  private readonly onTimer = (): void => {
    this.timer = undefined;
    try {
      this.arm();
    } catch (err) {
      this.crash(err);
    }
  };

  private crash(err: unknown): void {
    try {
      this.stop();
    } finally {
      this.onError(err);
    }
  }

  private data(chunk: Buffer): void {
    if (this.state === 'done') return;
    this.received += chunk.length;
    YOUNG.note(chunk.length);
    this.clock?.data(chunk.length, Date.now());
    const max = this.settings.maxBodySize;
    if (max > 0 && this.received > max) {
      this.fail(new RequestRefusal(C.BODY_TOO_LARGE, 413, `request body over the limit of ${max} bytes`));
      return;
    }
    if (this.state === 'buffering') {
      this.chunks.push(chunk);
      if (this.length < 0) this.growChunked(chunk.length);
      return;
    }
    if (this.state !== 'forwarding') {
      this.chunks.push(chunk);
      this.hold();
      return;
    }
    if (this.chunks.length > 0 || this.window <= 0) {
      this.chunks.push(chunk);
      this.hold();
      return;
    }
    (this.sink as BodySink).body(chunk, false);
    this.window -= chunk.length;
    if (this.window <= 0) this.hold();
  }

  /** A chunked body keeps its share of the budget as it grows; past the limit it is streamed. */
  private growChunked(n: number): void {
    const { bufferLimit, budget } = this.settings;
    if (this.reserved + n <= bufferLimit && budget.take(n)) {
      this.reserved += n;
      return;
    }
    this.state = 'held';
    this.hold();
    this.ready?.(false);
  }

  private end(): void {
    if (this.state === 'done') return;
    if ((this.stream as { aborted?: boolean }).aborted === true) {
      // node:http2 ends a request stream the client reset (RST_STREAM) as if its body were whole:
      // it is not, and the application must never take it for the whole body.
      this.fail(new RequestRefusal(C.BODY_MALFORMED, 400, 'the client reset the stream before the request body ended'));
      return;
    }
    this.ended = true;
    this.clearTimer();
    this.listening = false;
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    if (this.state === 'buffering') {
      this.state = 'held';
      this.ready?.(true);
    } else if (this.state === 'forwarding') {
      this.flush();
    }
  }

  /** Sends what is buffered while there is credit; the end once everything went. */
  private flush(): void {
    const sink = this.sink as BodySink;
    while (this.chunks.length > 0 && this.window > 0) {
      const chunk = this.chunks.shift() as Buffer;
      sink.body(chunk, false);
      this.window -= chunk.length;
    }
    if (this.chunks.length === 0) {
      this.release();
      if (this.ended) {
        this.state = 'done';
        sink.body(EMPTY, true);
      }
    }
  }

  // -- pacing --------------------------------------------------------------------------------

  /** Stop reading: the application is not reading (or the buffer is full); the clock stops too. */
  private hold(): void {
    if (this.paused || this.ended) return;
    this.paused = true;
    this.stream.pause();
    this.clock?.pause(Date.now());
    this.clearTimer();
  }

  private unpause(): void {
    if (!this.paused) return;
    this.paused = false;
    this.clock?.resume(Date.now());
    this.stream.resume();
    this.arm();
  }

  /** One timer at the earliest deadline; data only moves deadlines later, so it is checked when it fires. */
  private arm(): void {
    this.clearTimer();
    const clock = this.clock;
    if (clock === undefined || this.ended || this.state === 'done') return;
    const s = clock.check(Date.now());
    if ('expired' in s) {
      const p = this.settings.pace;
      this.fail(
        s.expired === 'gap'
          ? new RequestRefusal(C.BODY_TIMEOUT, 408, `no request body bytes for ${p.gapMs / 1000}s (body-timeout)`)
          : new RequestRefusal(
              C.BODY_TOO_SLOW,
              408,
              `the request body came slower than body-min-rate (${p.minRate} bytes/s after ${p.graceMs / 1000}s): ${clock.bytes} bytes so far`,
            ),
      );
      return;
    }
    if ('waitMs' in s) this.timer = setTimeout(this.onTimer, s.waitMs);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private release(): void {
    if (this.reserved > 0) {
      this.settings.budget.give(this.reserved);
      this.reserved = 0;
    }
  }

  private fail(why: RequestRefusal): void {
    this.stop();
    this.onFail(why);
  }
}
