import { WsgiHostError } from '../errors.js';
import { ProtocolErrorCode } from '../error-codes.js';
export { ProtocolErrorCode } from '../error-codes.js';

/**
 * A worker broke the framed protocol (a frame too large, truncated, out of order, or whose payload
 * does not decode). A worker runs code we host, not code we trust: such a frame fails the request
 * it belongs to (502), or, when it is about the connection itself, the worker is stopped.
 */
export class WorkerProtocolError extends WsgiHostError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ProtocolErrorCode.WORKER_PROTOCOL, message, options);
  }
}
