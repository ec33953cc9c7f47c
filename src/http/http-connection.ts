/**
 * One client connection on top of node:http: its requests go through a ConnectionQueue (one served
 * at a time, in order, reading ahead bounded), a parse error waits for the responses before it, and
 * when the client goes away every request of it that has not started is dropped.
 *
 * node:http parses every pipelined request of a read at once and offers no bound of its own, so
 * reading is held the way node:http holds it when responses back up (socket._paused, which its own
 * read-side code honours), and held again when node:http lets go while we still hold.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ConnectionQueue } from './connection-queue.js';
import { REFUSAL_EXPLANATIONS, RefusalCode, RequestRefusal } from './http-refusal.js';

export interface ConnItem {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The framing broke under this request's body before it started. */
  bodyError?: RequestRefusal;
  /** Set while something reads this request's body: told when the framing breaks under it. */
  bodyReader?: { bodyBroken(why: RequestRefusal): void };
}

/** node:http's own state on its sockets, used to hold reading as node:http itself does. */
interface NodeHttpSocket extends Socket {
  _paused?: boolean;
  parser?: { pause(): void; resume(): void } | null;
  _httpMessage?: ServerResponse | null;
}

/** How long a connection that was answered an error may take to close after it. */
const CLOSE_GRACE_MS = 5000;

export class HttpConnection {
  readonly socket: NodeHttpSocket;
  private readonly queue: ConnectionQueue<ConnItem>;
  private closed = false;

  /** serve: called with each request when its turn comes (it is then `active`). */
  constructor(socket: Socket, maxWaiting: number, serve: (req: IncomingMessage, res: ServerResponse) => void) {
    this.socket = socket as NodeHttpSocket;
    this.queue = new ConnectionQueue<ConnItem>(maxWaiting, {
      start: (item) => serve(item.req, item.res),
      hold: this.hold,
      release: this.release,
      final: (status, why) => this.writeFinal(status, why),
    });
    socket.on('resume', this.onResume);
    socket.once('close', this.onClose);
  }

  /** A request node:http parsed on this connection. */
  push(req: IncomingMessage, res: ServerResponse): void {
    const item: ConnItem = { req, res };
    const done = (): void => {
      // A response that closes the connection (Connection: close, an error) ends what it serves:
      // a request after it would be answered into a closed socket.
      if (!res.shouldKeepAlive || (res as ServerResponse & { _last?: boolean })._last === true || this.socket.destroyed) this.queue.close();
      this.queue.done(item);
    };
    res.once('finish', done);
    res.once('close', done);
    this.queue.push(item);
  }

  /** The request being served. */
  get active(): ConnItem | undefined {
    return this.queue.active;
  }

  /** Requests parsed and waiting behind the one being served. */
  get waiting(): number {
    return this.queue.waitingCount;
  }

  setMaxWaiting(n: number): void {
    this.queue.setMaxWaiting(n);
  }

  /**
   * The parser refused what followed (or the headers timed out): the request whose body it broke
   * hears of it; the error is answered after every earlier response, then the connection closes.
   */
  fail(why: RequestRefusal): void {
    const last = this.queue.last;
    if (last !== undefined && !last.req.complete && !this.queue.failed) {
      const body = new RequestRefusal(RefusalCode.BODY_MALFORMED, why.status, `the request body is malformed (${why.message})`, { cause: why });
      last.bodyError = body;
      last.bodyReader?.bodyBroken(body);
      // The parser gives no more of this body: end it, so that nothing waits for the rest of it
      // (a response that lingers to read the body it did not take, for one).
      last.req.push(null);
    }
    this.queue.fail(why.status, why.message);
  }

  private readonly hold = (): void => {
    const s = this.socket;
    s._paused = true;
    s.pause();
  };

  private readonly release = (): void => {
    const s = this.socket;
    if (this.closed || s.destroyed) return;
    s._paused = false;
    s.parser?.resume();
    s.resume();
  };

  /** node:http resumes reading when its responses drain; we may still hold. */
  private readonly onResume = (): void => {
    if (this.queue.held && !this.closed) this.hold();
  };

  private readonly onClose = (): void => {
    this.closed = true;
    this.queue.close();
  };

  /** A short error response written on the socket itself, after every response before it. */
  private writeFinal(status: number, why: string): void {
    const s = this.socket;
    const current = s._httpMessage;
    if (current) {
      // A response node:http answered itself is still going out: after it.
      const again = (): void => {
        current.off('finish', again);
        current.off('close', again);
        setImmediate(() => this.writeFinal(status, why));
      };
      current.once('finish', again);
      current.once('close', again);
      return;
    }
    if (this.closed || !s.writable) {
      s.destroy();
      return;
    }
    s.end(finalResponse(status, why));
    setTimeout(() => s.destroy(), CLOSE_GRACE_MS).unref();
  }
}

/** The bytes of a connection-level error response. */
export function finalResponse(status: number, why: string): string {
  const reason = STATUS_CODES[status] ?? 'Error';
  const body = `${status} ${reason}\n\n${REFUSAL_EXPLANATIONS[status] ?? ''}\n${why ? `(${why})\n` : ''}`;
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `Connection: close\r\n\r\n${body}`
  );
}
