import type { Socket } from 'node:net';
import { WsgiHostError } from '../errors.js';
import { type ProxyParse, ProxyProtocolErrorCode as C, parseProxyHeader, V2_DEFAULT_MAX_LENGTH } from './proxy-protocol.js';

/** A connection whose PROXY header is missing, malformed, late or from an untrusted peer: it is closed. */
export class ProxyProtocolError extends WsgiHostError {}

export type ProxyHeader = Extract<ProxyParse, { kind: 'proxy' | 'local' }>;

export interface ReadProxyOptions {
  /** The header must be whole within this time (default 5 s). */
  timeoutMs?: number;
  maxV2Length?: number;
  /** When given, a peer it refuses is closed before a byte is read (trusted-proxies). */
  trustedPeer?: (address: string | undefined) => boolean;
}

/**
 * Reads the PROXY header from a fresh connection, then leaves the socket as if nothing had been
 * read: the bytes after the header are unshifted, so the socket can be handed on
 * (`httpServer.emit('connection', socket)`, or a tls.Server's) unchanged. On any failure the
 * socket is destroyed and the promise rejects with a ProxyProtocolError (code from
 * ProxyProtocolErrorCode): the fault ends that connection, never the process.
 */
export function readProxyHeader(socket: Socket, options: ReadProxyOptions = {}): Promise<ProxyHeader> {
  return new Promise((resolve, reject) => {
    const peer = socket.remoteAddress;
    if (options.trustedPeer !== undefined && !options.trustedPeer(peer)) {
      socket.destroy();
      reject(
        new ProxyProtocolError(C.UNTRUSTED_PEER, `a PROXY protocol header is only taken from trusted proxies; ${peer ?? 'an unknown peer'} is not one`, {
          hint: 'Add the proxy to trusted-proxies, or let clients reach this listener only through the proxy',
        }),
      );
      return;
    }
    const maxV2Length = options.maxV2Length ?? V2_DEFAULT_MAX_LENGTH;
    let received: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (err: ProxyProtocolError | undefined, header?: ProxyHeader): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      if (err !== undefined) {
        socket.destroy();
        reject(err);
      } else resolve(header as ProxyHeader);
    };
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null && !done; chunk = socket.read() as Buffer | null) {
        received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
        const r = parseProxyHeader(received, { maxV2Length });
        if (r.kind === 'need-more') continue;
        if (r.kind === 'error') {
          finish(
            new ProxyProtocolError(r.code, `${peer ?? 'a peer'}: ${r.message}`, {
              hint: 'Check that the proxy sends the PROXY protocol to this listener (and that clients cannot reach it directly)',
            }),
          );
          return;
        }
        const rest = received.subarray(r.length);
        finish(undefined, r);
        if (rest.length > 0) socket.unshift(rest);
        return;
      }
    };
    const onEnd = (): void =>
      finish(new ProxyProtocolError(C.CLOSED, `${peer ?? 'a peer'} closed the connection before its PROXY header was whole (${received.length} bytes)`));
    const onError = (err: Error): void => finish(new ProxyProtocolError(C.CLOSED, `${peer ?? 'a peer'}: ${err.message}`, { cause: err }));
    const timer = setTimeout(() => {
      finish(
        new ProxyProtocolError(C.TIMEOUT, `${peer ?? 'a peer'} sent no whole PROXY header within ${options.timeoutMs ?? 5000} ms (${received.length} bytes)`),
      );
    }, options.timeoutMs ?? 5000);
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.on('error', onError);
  });
}
