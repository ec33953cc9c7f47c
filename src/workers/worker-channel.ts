/**
 * The connection to one worker process: frames out (corked, so the frames of one tick leave in one
 * write), frames in (read into reused slabs, decoded) and turned into typed events. On Linux the
 * worker listens on a unix socket in the front end's private folder (it accepts only its parent)
 * and the front end reads that connection into its slabs (util/read-slabs.ts), from which the
 * response bytes are written to the client uncopied: a child's stdio pipe would allocate a new
 * 64 KiB buffer per read, which caps bulk transfers at a few hundred MB/s here. Elsewhere, file
 * descriptor 3 is a socketpair made at spawn.
 *
 * The worker runs code we host, not code we trust: a frame about the connection itself that breaks
 * the protocol (bad framing, an unknown type, a second READY) makes the channel `broken` (the
 * process is then stopped); a frame of one request that cannot be handled fails that request only.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { countFault } from '../observability/faults.js';
import { FrameDecoder } from '../protocol/frame-decoder.js';
import { creditFrame, frame, frameHeader, latin1Frame } from '../protocol/frame-encoder.js';
import { Flag, FrameType, MAX_FRONT_END_PAYLOAD } from '../protocol/frame-types.js';
import {
  decodeLoadFailure,
  decodeLog,
  decodeModules,
  decodeReady,
  encodeInit,
  type LoadFailure,
  type ReadyInfo,
  type WorkerInit,
} from '../protocol/messages.js';
import { WorkerProtocolError } from '../protocol/protocol-error.js';
import { SlabReader } from '../util/read-slabs.js';

/** What a channel reports, in the order the frames came. */
export interface ChannelEvents {
  /**
   * RESPONSE, DATA, CREDIT or FILE of request `id`. The payload is borrowed: read over by the
   * connection's next reads unless retained (util/read-slabs.ts) or copied.
   */
  requestFrame(type: number, id: number, flags: number, payload: Buffer): void;
  ready(info: ReadyInfo): void;
  loadFailed(failure: LoadFailure): void;
  /** A log line from the worker: of request `id`, or of the process (id 0). */
  logLine(id: number, level: number, text: string): void;
  modules(files: string[]): void;
  /** The worker broke the protocol about its connection: it must be stopped, never trusted again. */
  broken(why: string, err: unknown): void;
  /** The connection closed. */
  closed(): void;
}

export class WorkerChannel {
  private readonly events: ChannelEvents;
  /** MODULES frames are read only when asked for (--reload-on-changes); else they are dropped. */
  private readonly wantModules: boolean;
  private readonly decoder: FrameDecoder;
  /** The connection, once it is up; frames written before wait in `queued`. */
  private sock: Socket | undefined;
  private queued: Buffer[] = [];
  private corked = false;
  /** READY or LOAD_FAILED came: a second one breaks the protocol. */
  private reported = false;
  isBroken = false;
  isClosed = false;

  constructor(events: ChannelEvents, wantModules: boolean) {
    this.events = events;
    this.wantModules = wantModules;
    this.decoder = new FrameDecoder((t, id, f, p) => this.onFrame(t, id, f, p));
  }

  get connected(): boolean {
    return this.sock !== undefined;
  }

  /** Closes the connection (its requests are failed by whoever calls this). */
  destroy(): void {
    this.sock?.destroy();
  }

  /** Reads and writes on a socketpair made at spawn (file descriptor 3 of the child). */
  attachPair(sock: Socket): void {
    sock.on('data', (chunk: Buffer) => this.push(chunk));
    this.attach(sock);
  }

  /** Connects to the worker's unix socket once it listens (retrying while it starts, until giveUp says so). */
  connect(path: string, giveUp: () => boolean): void {
    const reader = new SlabReader();
    let delay = 2;
    const attempt = (): void => {
      if (giveUp()) {
        reader.close();
        return;
      }
      const sock = netConnect({
        path,
        onread: {
          buffer: () => reader.next(),
          callback: (n: number, buf: Uint8Array): boolean => {
            reader.filled(n);
            this.push((buf as Buffer).subarray(0, n));
            return true;
          },
        },
      });
      const retry = (): void => {
        sock.destroy();
        setTimeout(attempt, delay);
        delay = Math.min(delay * 2, 50);
      };
      sock.once('error', retry);
      sock.once('connect', () => {
        sock.off('error', retry);
        sock.once('close', () => reader.close());
        this.attach(sock);
      });
    };
    attempt();
  }

  /** The connection is up: send what waited for it, watch its end. */
  private attach(sock: Socket): void {
    this.sock = sock;
    sock.on('error', () => {});
    sock.on('close', () => {
      this.isClosed = true;
      this.events.closed();
    });
    if (this.queued.length) {
      sock.cork();
      for (const b of this.queued) sock.write(b);
      this.queued = [];
      sock.uncork();
    }
  }

  // -- frames out ----------------------------------------------------------------------------

  init(init: WorkerInit): void {
    this.write(frame(FrameType.INIT, 0, 0, encodeInit(init)));
  }

  request(id: number, flags: number, payload: string): void {
    this.write(latin1Frame(FrameType.REQUEST, id, flags, payload));
  }

  data(id: number, chunk: Buffer, end: boolean): void {
    let off = 0;
    while (chunk.length - off > MAX_FRONT_END_PAYLOAD) {
      const part = chunk.subarray(off, off + MAX_FRONT_END_PAYLOAD);
      this.write(frameHeader(FrameType.DATA, id, 0, part.length));
      this.write(part);
      off += MAX_FRONT_END_PAYLOAD;
    }
    const rest = off === 0 ? chunk : chunk.subarray(off);
    this.write(frameHeader(FrameType.DATA, id, end ? Flag.END : 0, rest.length));
    if (rest.length > 0) this.write(rest);
  }

  credit(id: number, increment: number): void {
    this.write(creditFrame(id, increment));
  }

  /** CANCEL, FILE_DONE (with its result byte), RECALL or SHUTDOWN. */
  control(type: number, id: number, result?: number): void {
    this.write(result === undefined ? frame(type, id, 0) : frame(type, id, 0, Buffer.of(result)));
  }

  private write(buf: Buffer): void {
    const sock = this.sock;
    if (sock === undefined) {
      this.queued.push(buf);
      return;
    }
    if (!this.corked) {
      this.corked = true;
      sock.cork();
      process.nextTick(this.uncork);
    }
    sock.write(buf);
  }

  /** Ends write()'s cork at the end of the tick: the tick's frames leave in one write. */
  private readonly uncork = (): void => {
    this.corked = false;
    this.sock?.uncork();
  };

  // -- frames in -----------------------------------------------------------------------------

  /** Bytes from the worker: frames, unless the worker broke the framing (then it is stopped). */
  private push(chunk: Buffer): void {
    if (this.isBroken) return;
    try {
      this.decoder.push(chunk);
    } catch (err) {
      countFault('worker-frame');
      this.fail(err instanceof WorkerProtocolError ? err.message : 'its frames could not be read', err);
    }
  }

  /**
   * The one guarded dispatch of a worker's frames: request frames go to requestFrame (which guards
   * each request itself); a frame about the connection that breaks the protocol, or whose handling
   * throws, breaks the channel. Nothing a worker sends reaches the process.
   */
  private onFrame(type: number, id: number, flags: number, payload: Buffer): void {
    if (this.isBroken) return;
    try {
      switch (type) {
        case FrameType.RESPONSE:
        case FrameType.DATA:
        case FrameType.CREDIT:
        case FrameType.FILE:
          this.events.requestFrame(type, id, flags, payload);
          return;
        case FrameType.LOG: {
          const line = decodeLog(payload);
          this.events.logLine(id, line.level, line.text);
          return;
        }
        case FrameType.MODULES:
          if (this.wantModules) this.events.modules(decodeModules(payload));
          return;
        case FrameType.READY:
          if (this.reported) throw new WorkerProtocolError('a second READY frame');
          this.reported = true;
          this.events.ready(decodeReady(payload));
          return;
        case FrameType.LOAD_FAILED:
          if (this.reported) throw new WorkerProtocolError('LOAD_FAILED after READY');
          this.reported = true;
          this.events.loadFailed(decodeLoadFailure(payload));
          return;
        default:
          throw new WorkerProtocolError(`unknown frame type ${type}`);
      }
    } catch (err) {
      countFault('worker-frame');
      this.fail(err instanceof WorkerProtocolError ? err.message : `a frame of type ${type} could not be handled`, err);
    }
  }

  private fail(why: string, err: unknown): void {
    if (this.isBroken) return;
    this.isBroken = true;
    this.events.broken(why, err);
  }
}
