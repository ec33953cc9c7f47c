import { WsgiHostError } from '../errors.js';

/**
 * A worker broke the framed protocol (a frame too large, truncated, out of order, or whose payload
 * does not decode). A worker runs code we host, not code we trust: such a frame fails the request
 * it belongs to (502), or, when it is about the connection itself, the worker is stopped.
 */
export class WorkerProtocolError extends WsgiHostError {
  constructor(message: string) {
    super('WORKER_PROTOCOL_ERROR', message);
  }
}
