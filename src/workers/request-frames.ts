/**
 * A worker's frame about one of the requests a connection holds, handled the same way on every
 * connection: the first loop's (worker-process.ts) and another loop's (worker-link.ts). The frame
 * goes to its request's handle, which checks it; the request's END frees its thread (release); a
 * recalled request the worker never ran goes back to run elsewhere (giveBack); a frame that
 * breaks the protocol, or whose handling throws, fails that request only.
 */
import { countFault } from '../observability/faults.js';
import type { Logger } from '../observability/logger.js';
import { Flag, FrameType } from '../protocol/frame-types.js';
import { WorkerProtocolError } from '../protocol/protocol-error.js';
import type { InflightTable } from './inflight.js';
import type { RequestHandle } from './request-handle.js';

export interface FrameSink {
  readonly inflight: InflightTable;
  readonly log: Logger;
  /** The worker process, for messages. */
  readonly pid: number | undefined;
  /** Request id ended, as far as the worker is concerned: forget it; how long it ran (ms). */
  release(id: number): number;
  /** A recalled request the worker never ran (already forgotten): it runs elsewhere. */
  giveBack(handle: RequestHandle): void;
}

/** Handles one request frame; returns how long the request ran when this frame ended it, else -1. */
export function requestFrame(sink: FrameSink, type: number, id: number, flags: number, payload: Buffer): number {
  const handle = sink.inflight.get(id);
  if (handle === undefined) return -1; // it ended already: nothing to fail
  let ranMs = -1;
  try {
    if (type === FrameType.DATA && flags & Flag.END && flags & Flag.NOT_STARTED) {
      if (!handle.recalling) {
        ranMs = sink.release(id); // it ended, as far as the worker is concerned
        throw new WorkerProtocolError('NOT_STARTED for a request that was not recalled');
      }
      sink.inflight.forget(id);
      handle.recalled();
      sink.giveBack(handle);
      return -1;
    }
    if (flags & Flag.END && (type === FrameType.RESPONSE || type === FrameType.DATA)) ranMs = sink.release(id);
    handle.frame(type, flags, payload);
  } catch (err) {
    countFault('worker-frame');
    try {
      handle.fault(`a frame of type ${type} from worker process ${sink.pid}`, err);
    } catch (err2) {
      sink.log.error({ err: err2, requestId: handle.requestId }, `could not fail the request after a frame of type ${type} broke it`);
    }
  }
  return ranMs;
}
