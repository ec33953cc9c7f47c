/**
 * The PROXY protocol stage of a listener's accept pipeline:
 *
 *   accept -> [PROXY header: trusted peers only, bounded in time and size] -> [TLS] -> HTTP/1.1 (or h2)
 *
 * A listener with `proxy-protocol = true` listens on a plain net.Server placed in front of the
 * server that speaks the rest (node:http's, or a TLS one): each connection is refused at once when
 * its peer is not a trusted proxy, then its PROXY v1/v2 header is read (src/frontdoor/), and the
 * socket, with the header's bytes taken off, is handed on as the documented `emit('connection')`
 * does. The client's address and port the header carries are kept on the socket (clientOf()), and
 * become REMOTE_ADDR, the address access rules check and the access log's; a LOCAL header (the
 * proxy's own health check) keeps the connection's own. A connection whose header is missing,
 * malformed, late or from an untrusted peer is closed: one connection, never the process.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { ProxyProtocolError, readProxyHeader } from '../frontdoor/proxy-protocol-socket.js';
import type { Logger } from '../observability/logger.js';
import { ObjectRegistry } from '../util/object-registry.js';

/** The connection's client as the PROXY header told it. */
interface ProxiedClient {
  readonly address: string;
  readonly port: number;
}

const CLIENT = Symbol('wsgi-host.proxied-client');
/** A TLS socket wraps the TCP socket the stage tagged: its `_parent` (node:tls). */
type ProxiedSocket = Socket & { [CLIENT]?: ProxiedClient; _parent?: ProxiedSocket | null };

function proxiedClient(socket: Socket): ProxiedClient | undefined {
  const s = socket as ProxiedSocket;
  return s[CLIENT] ?? s._parent?.[CLIENT];
}

/** The client's address: the PROXY header's when the listener speaks it, else the peer's. */
export function clientAddress(socket: Socket): string {
  return proxiedClient(socket)?.address ?? (socket.remoteAddress as string);
}

/** The client's port: the PROXY header's when the listener speaks it, else the peer's. */
export function clientPort(socket: Socket): number {
  return proxiedClient(socket)?.port ?? (socket.remotePort as number);
}

/** The PROXY header must be whole within this time, or header-timeout when that is shorter. */
export const PROXY_HEADER_TIMEOUT_MS = 5000;
/** Refusals are logged at warn at most once per this period (with the count), else at debug. */
const WARN_EVERY_MS = 60_000;

export interface ProxyStageOptions {
  /** Whether a peer is a trusted proxy (trusted-proxies, read at each connection: a reload changes it). */
  trusted: (address: string | undefined) => boolean;
  /** header-timeout in ms (the stage takes the shorter of it and PROXY_HEADER_TIMEOUT_MS). */
  headerTimeoutMs: () => number;
  log: Logger;
}

/**
 * A net.Server that reads each connection's PROXY header, then hands the socket on: to `next`, the
 * listener's next step, or to a server that does not listen itself (as its 'connection'). Listen on
 * the returned server; close it to stop accepting (sockets still reading their header are closed
 * with it).
 */
export function proxyProtocolStage(next: Server | ((socket: Socket) => void), options: ProxyStageOptions): Server {
  const handOff = typeof next === 'function' ? next : (socket: Socket) => next.emit('connection', socket);
  const pending = new ObjectRegistry<Socket, Socket>();
  let refused = 0;
  let lastWarn = 0;
  let lastWhy = '';
  const refuse = (err: unknown): void => {
    const why = err instanceof ProxyProtocolError ? `${err.code}: ${err.message}` : String(err);
    refused++;
    lastWhy = why;
    const now = Date.now();
    if (now - lastWarn >= WARN_EVERY_MS) {
      options.log.warn(`PROXY protocol: closed ${refused} connection(s) without a valid PROXY header from a trusted proxy (last: ${why})`);
      lastWarn = now;
      refused = 0;
    } else options.log.debug(`PROXY protocol: closed a connection (${lastWhy})`);
  };
  // The same socket options node:http's servers take: a client that half-closes still gets its answer.
  const front = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    pending.set(socket, socket);
    socket.once('close', () => pending.delete(socket));
    readProxyHeader(socket, {
      timeoutMs: Math.min(PROXY_HEADER_TIMEOUT_MS, options.headerTimeoutMs()),
      trustedPeer: options.trusted,
    }).then((header) => {
      pending.delete(socket);
      if (socket.destroyed) return;
      if (header.kind === 'proxy') (socket as ProxiedSocket)[CLIENT] = { address: header.source.address, port: header.source.port };
      handOff(socket);
    }, refuse);
  });
  // node:http starts checking its header and request timeouts when its server listens: this one
  // never does itself, so it hears it from the front.
  if (typeof next !== 'function') front.on('listening', () => next.emit('listening'));
  // Closing stops accepting and drops the connections still reading their header at once: the
  // server's close waits for every connection it accepted, and these have no request to finish.
  const close = front.close.bind(front);
  front.close = (callback?: (err?: Error) => void): Server => {
    for (const s of pending.values()) s.destroy();
    return close(callback);
  };
  return front;
}
