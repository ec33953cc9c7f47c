/**
 * The HTTP/2 step of a TLS listener: a node:http2 server (its compatibility API: each stream is an
 * Http2ServerRequest/Http2ServerResponse pair, served like an HTTP/1.1 request) that never listens
 * itself; the listener's pipeline hands it each TLS socket whose ALPN chose h2.
 *
 * The limits of a session:
 * - max-concurrent-streams is advertised (SETTINGS_MAX_CONCURRENT_STREAMS); nghttp2 refuses a
 *   stream beyond it (RST_STREAM REFUSED_STREAM) and ends a session that keeps trying.
 * - Of its open streams, a session has at most max-pipelined in service (routed, in a group's
 *   queue or served) at once; the others wait, in order, unread (their flow-control window holds
 *   the client), so that one connection takes no more of a group's queue than an HTTP/1.1 one
 *   reads ahead (issue 12's rule).
 * - A session without open streams for keep-alive-timeout is closed (GOAWAY).
 * - Header fields: max-header-count and max-header-size are the request rules' (431,
 *   request-rules-h2.ts); nghttp2 resets a stream whose fields go beyond twice that.
 * Draining (SIGTERM) and closing send GOAWAY: streams already open finish, the client opens new
 * ones elsewhere.
 */
import { constants, createServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { HttpLimits } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { ObjectRegistry } from '../util/object-registry.js';

type Serve = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

interface Pair {
  req: Http2ServerRequest;
  res: Http2ServerResponse;
}

/** One HTTP/2 connection: its streams in service and waiting, and its idle timer. */
class H2Connection {
  readonly session: ServerHttp2Session;
  private readonly owner: H2Sessions;
  private open = 0;
  private active = 0;
  private readonly waiting: Pair[] = [];
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(session: ServerHttp2Session, owner: H2Sessions) {
    this.session = session;
    this.owner = owner;
    session.on('stream', (stream) => {
      this.open++;
      this.clearIdle();
      stream.once('close', () => {
        this.open--;
        if (this.open === 0) this.armIdle();
      });
      // During a drain every new session is told to go away once it made its first request.
      if (owner.draining) this.goAway();
    });
    session.once('close', () => this.clearIdle());
    this.armIdle();
  }

  /** A stream's request, parsed: served now, or when one of this connection's finishes. */
  push(pair: Pair): void {
    if (this.active < this.owner.maxActive) {
      this.begin(pair);
      return;
    }
    this.waiting.push(pair);
    // A stream reset while it waits is dropped from the line.
    pair.res.once('close', () => {
      const i = this.waiting.indexOf(pair);
      if (i >= 0) this.waiting.splice(i, 1);
    });
  }

  private begin(pair: Pair): void {
    this.active++;
    let done = false;
    const finished = (): void => {
      if (done) return;
      done = true;
      this.active--;
      const next = this.waiting.shift();
      if (next !== undefined) this.begin(next);
    };
    pair.res.once('finish', finished);
    pair.res.once('close', finished);
    this.owner.serve(pair.req, pair.res);
  }

  /** GOAWAY: the streams already open finish; the session closes after them. */
  goAway(): void {
    if (!this.session.closed && !this.session.destroyed) this.session.close();
  }

  destroy(): void {
    if (!this.session.destroyed) this.session.destroy();
  }

  private armIdle(): void {
    this.clearIdle();
    const ms = this.owner.idleMs;
    if (ms > 0) {
      this.idleTimer = setTimeout(() => this.goAway(), ms);
      this.idleTimer.unref();
    }
  }

  private clearIdle(): void {
    if (this.idleTimer !== undefined) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }
}

export class H2Sessions {
  private readonly server: Http2Server;
  private readonly connections = new ObjectRegistry<ServerHttp2Session, H2Connection>();
  readonly serve: Serve;
  private readonly log: Logger;
  /** Streams in service at once per session. */
  maxActive: number;
  /** A session without streams is closed after this long (keep-alive-timeout). */
  idleMs: number;
  draining = false;

  constructor(limits: HttpLimits, log: Logger, serve: Serve) {
    this.serve = serve;
    this.log = log;
    this.maxActive = limits.maxPipelined;
    this.idleMs = limits.keepAliveTimeout * 1000;
    const fieldPairs = (limits.maxHeaderCount > 0 ? limits.maxHeaderCount : 1000) * 2 + 16;
    this.server = createServer({
      settings: {
        maxConcurrentStreams: limits.maxConcurrentStreams,
        // What the rules answer 431 for (max-header-size) must reach them: nghttp2 resets a
        // stream only beyond twice that.
        maxHeaderListSize: Math.max(2 * limits.maxHeaderSize, 16 * 1024),
      },
      maxHeaderListPairs: fieldPairs,
    });
    this.server.on('request', this.onRequest);
    // Expect: 100-continue is answered when the application reads the body (exchange.ts), never
    // by node:http2 at once.
    this.server.on('checkContinue', this.onRequest);
    this.server.on('session', (session: ServerHttp2Session) => {
      const c = new H2Connection(session, this);
      this.connections.set(session, c);
      session.once('close', () => this.connections.delete(session));
    });
    this.server.on('sessionError', (err: Error) => this.log.debug(`HTTP/2 session error: ${err.message}`));
  }

  /** A TLS socket whose ALPN chose h2. */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  setLimits(limits: HttpLimits): void {
    this.maxActive = limits.maxPipelined;
    this.idleMs = limits.keepAliveTimeout * 1000;
    for (const c of this.connections.values()) {
      if (!c.session.closed && !c.session.destroyed) c.session.settings({ maxConcurrentStreams: limits.maxConcurrentStreams });
    }
  }

  /** SIGTERM: every session is told to go away (GOAWAY), now and as new ones make a request. */
  drain(): void {
    this.draining = true;
    for (const c of this.connections.values()) c.goAway();
  }

  /** Stop: GOAWAY to every session; those without streams close now, the others after them. */
  closeIdle(): void {
    for (const c of this.connections.values()) c.goAway();
  }

  closeAll(): void {
    for (const c of this.connections.values()) c.destroy();
  }

  get sessionCount(): number {
    return this.connections.size;
  }

  private readonly onRequest = (req: Http2ServerRequest, res: Http2ServerResponse): void => {
    const c = this.connections.get(req.stream.session as ServerHttp2Session);
    if (c === undefined) {
      res.stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    c.push({ req, res });
  };
}
