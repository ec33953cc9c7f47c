/**
 * The TLS step of a listener: a tls.Server that never listens itself, handed each accepted socket.
 * The handshake takes the certificate SNI names (src/frontdoor/tls-contexts.ts: the virtual
 * host's, else the listener's), TLS 1.2 at least, and must finish within header-timeout; then the
 * socket goes on to the HTTP version ALPN chose (`next`). A reload swaps the certificates for new
 * connections (TlsContexts.prepare/commit); connections already open keep theirs.
 */
import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { TlsContexts } from '../frontdoor/tls-contexts.js';
import type { Logger } from '../observability/logger.js';

export class TlsStep {
  private readonly server: Server;
  readonly contexts: TlsContexts;

  constructor(contexts: TlsContexts, handshakeTimeoutMs: number, log: Logger, next: (socket: TLSSocket) => void) {
    this.contexts = contexts;
    this.server = createServer({ ...contexts.serverOptions(), handshakeTimeout: Math.max(1, handshakeTimeoutMs) });
    contexts.attach(this.server);
    this.server.on('secureConnection', next);
    // A failed handshake (an old protocol version, no shared cipher, a timeout) closes that
    // connection only; it is worth a debug line, never more (scanners make many).
    this.server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      log.debug(`${socket.remoteAddress}:${socket.remotePort}: TLS handshake failed: ${err.code ?? err.message}`);
    });
  }

  /** An accepted connection: the handshake starts. */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  /** No more connections (the certificates stop following reloads). */
  close(): void {
    this.server.emit('close');
  }
}
