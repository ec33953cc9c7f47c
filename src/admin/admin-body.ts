import type { IncomingMessage } from 'node:http';
import { WsgiHostError } from '../errors.js';
import { AdminErrorCode } from './admin-errors.js';

/** The most any admin route reads of a request body. */
export const ADMIN_BODY_LIMIT = 64 * 1024;

/** The client went away before its request was complete. */
export class RequestAbortedError extends WsgiHostError {
  constructor(cause?: unknown) {
    super(AdminErrorCode.REQUEST_ABORTED, 'the client closed the connection before sending its whole request', { cause });
  }
}

/** Whether the request says it has a body (Content-Length above 0, or a Transfer-Encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** Whether the declared Content-Length is already more than `limit`. */
export function declaredTooLarge(req: IncomingMessage, limit: number): boolean {
  const cl = req.headers['content-length'];
  return cl !== undefined && Number(cl) > limit;
}

/**
 * Reads a request body of at most `limit` bytes. Resolves with the body, or 'too-large' as soon
 * as more than `limit` bytes arrived (the rest is never read); rejects with RequestAbortedError
 * when the client goes away first.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  if (!hasBody(req)) return Promise.resolve(Buffer.alloc(0));
  if (declaredTooLarge(req, limit)) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve('too-large');
        return;
      }
      chunks.push(c);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new RequestAbortedError(err));
    };
    const onClose = (): void => {
      if (req.complete) return;
      cleanup();
      reject(new RequestAbortedError());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
