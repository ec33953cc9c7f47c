import { WsgiHostError } from '../errors.js';

/** Stable codes of the worker protocol's checks (docs/protocol.md). */
export const ProtocolErrorCode = {
  /** A worker broke the framed protocol. */
  WORKER_PROTOCOL: 'WORKER_PROTOCOL_ERROR',
  /** A worker's response head cannot be sent (its status, a header name or value). */
  INVALID_RESPONSE: 'INVALID_RESPONSE',
} as const;

/**
 * A worker broke the framed protocol (a frame too large, truncated, out of order, or whose payload
 * does not decode). A worker runs code we host, not code we trust: such a frame fails the request
 * it belongs to (502), or, when it is about the connection itself, the worker is stopped.
 */
export class WorkerProtocolError extends WsgiHostError {
  constructor(message: string) {
    super(ProtocolErrorCode.WORKER_PROTOCOL, message);
  }
}
