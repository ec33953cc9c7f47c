/**
 * reason: a listener's pipeline, how it binds (alone, or shared between front-end loops) and how it
 * closes are one lifecycle, read together.
 *
 * The listeners. Each one is a pipeline of steps a connection goes through, each step handing the
 * socket to the next:
 *
 *   accept (net.Server: max-connections)
 *     -> [PROXY header (proxy-protocol-stage.ts): trusted peers only, bounded in time and size]
 *     -> [TLS (tls-step.ts): the certificate by SNI, TLS 1.2+, handshake within header-timeout]
 *     -> by ALPN: 'h2' -> an HTTP/2 session (h2-sessions.ts)
 *                 else -> an HTTP/1.1 connection (http1-server.ts, http-connection.ts)
 *
 * A plain listener has no TLS step and every connection is HTTP/1.1 (no h2c). The HTTP servers of
 * node:http and node:http2 never listen themselves: they are handed their connections.
 */
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { HttpLimits, ListenerConfig, ServerConfig } from '../config/schema.js';
import { TlsContexts, type TlsListenerSpec } from '../frontdoor/tls-contexts.js';
import type { TlsWarning } from '../frontdoor/tls-errors.js';
import { tlsListenerSpec } from '../frontdoor/tls-spec.js';
import type { Logger } from '../observability/logger.js';
import { ObjectRegistry } from '../util/object-registry.js';
import { H2Sessions } from './h2-sessions.js';
import { proxyProtocolStage } from './proxy-protocol-stage.js';
import type { HttpConnection } from './http-connection.js';
import { Http1Server } from './http1-server.js';
import type { HttpRequest, HttpResponse } from './message.js';
import { TlsStep } from './tls-step.js';

/** The listeners of a configuration, with the TLS spec of each (undefined: plain HTTP), by index. */
export interface ListenerSet {
  listeners: ListenerConfig[];
  tls: (TlsListenerSpec | undefined)[];
}

/** The listeners of a configuration, with the TLS spec of each (src/frontdoor/tls-spec.ts). */
export function listenerSet(config: ServerConfig, baseDir: string): ListenerSet {
  return { listeners: config.listen, tls: config.listen.map((_, i) => tlsListenerSpec(config, i, baseDir)) };
}

/** A configuration's listeners with every certificate loaded (prepare()), ready for update(). */
export interface PreparedListeners {
  set: ListenerSet;
  /** Swap the new certificates into listeners that stay. */
  commits: (() => void)[];
  /** Certificates of TLS listeners to open, by key. */
  loaded: Map<string, TlsContexts>;
  warnings: TlsWarning[];
}

/**
 * front-ends > 1: how the loops share each listening socket. With reusePort (Node 22.12 and
 * later), every loop binds its own socket to the same address and the kernel spreads connections;
 * otherwise the first loop binds it and the others accept on its descriptor, which then stays open
 * until the process exits (closing a descriptor another loop watches would leave that loop
 * watching whatever file next takes its number).
 */
export interface ListenerSharing {
  reusePort: boolean;
  /** A loop other than the first: the bound port or descriptor of each listener, by key. */
  bound?: (key: string) => { fd?: number; port: number } | undefined;
}

/** Whether this Node can bind several sockets to one address (net's reusePort, Node 22.12+). */
export function canReusePort(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}

interface Listener {
  config: ListenerConfig;
  /** Accepting on a descriptor another loop bound (never closed by this loop). */
  borrowed: boolean;
  key: string;
  accept: NetServer;
  h1: Http1Server;
  h2: H2Sessions | undefined;
  tls: TlsStep | undefined;
  /** TLS listeners: every connection accepted and not closed, whatever step it is in. */
  sockets: ObjectRegistry<Socket, Socket>;
  address: AddressInfo;
}

/**
 * A listener's identity across reloads: scheme, address and port; listeners on port 0 (any free
 * port) are told apart by their place in the list.
 */
const keyOf = (l: ListenerConfig, tls: TlsListenerSpec | undefined, index: number): string =>
  `${tls === undefined ? 'http' : 'https'}|${l.host}:${l.port}${l.port === 0 ? `#${index}` : ''}`;

export class HttpListeners {
  private readonly listeners = new Map<string, Listener>();
  /** The HTTP/1.1 connections of every listener, by socket. */
  readonly connections = new ObjectRegistry<Socket, HttpConnection>();
  private limits: HttpLimits;
  private readonly log: Logger;
  /** Serves a request whose turn came on its connection (HTTP/1.1) or session (HTTP/2). */
  private readonly serve: (req: HttpRequest, res: HttpResponse) => void;
  /** A listener is bound (for mod_wsgi.listener_host). */
  private readonly bound: (host: string, address: AddressInfo) => void;
  /** Whether a peer is a trusted proxy (trusted-proxies of the running configuration). */
  private readonly trustedPeer: (address: string | undefined) => boolean;
  /** front-ends > 1: how listening sockets are shared between loops. */
  private readonly sharing: ListenerSharing | undefined;

  constructor(
    limits: HttpLimits,
    log: Logger,
    serve: (req: HttpRequest, res: HttpResponse) => void,
    bound: (host: string, address: AddressInfo) => void,
    trustedPeer: (address: string | undefined) => boolean = () => false,
    sharing?: ListenerSharing,
  ) {
    this.sharing = sharing;
    this.limits = limits;
    this.log = log;
    this.serve = serve;
    this.bound = bound;
    this.trustedPeer = trustedPeer;
  }

  /** Applies the limits that can change while listening (a reload); max-header-size cannot. */
  setLimits(limits: HttpLimits): void {
    this.limits = limits;
    for (const l of this.listeners.values()) {
      l.accept.maxConnections = maxConnections(limits);
      l.h1.setLimits(limits);
      l.h2?.setLimits(limits);
    }
    for (const c of this.connections.values()) c.setMaxWaiting(limits.maxPipelined);
  }

  /**
   * Loads the certificates of every TLS listener of `set`: those of listeners that stay are read
   * again but not swapped in yet (update() does). Throws a TlsError, naming the file and the fix,
   * when one does not load; then nothing changed.
   */
  prepare(set: ListenerSet): Promise<PreparedListeners> {
    return prepareListeners(set, (key) => this.listeners.get(key)?.tls?.contexts);
  }

  /** Binds every listener of a prepared set (a start); throws when a port is taken. */
  async listen(prepared: PreparedListeners): Promise<AddressInfo[]> {
    this.warn(prepared.warnings);
    return this.open(
      prepared,
      prepared.set.listeners.map((_, i) => i),
    );
  }

  /**
   * A reload: the new certificates of listeners that stay are swapped in, listeners new in the set
   * are opened and those no longer in it closed.
   */
  async update(prepared: PreparedListeners): Promise<string | undefined> {
    this.warn(prepared.warnings);
    for (const commit of prepared.commits) commit();
    const { listeners, tls } = prepared.set;
    const wanted = new Set(listeners.map((l, i) => keyOf(l, tls[i], i)));
    const removed = [...this.listeners.keys()].filter((k) => !wanted.has(k));
    const added = listeners.map((_, i) => i).filter((i) => !this.listeners.has(keyOf(listeners[i] as ListenerConfig, tls[i], i)));
    const kept: string[] = [];
    for (const k of removed) {
      const l = this.listeners.get(k) as Listener;
      if (this.keepsOpen(l)) {
        kept.push(k.replace('|', '://').replace(/#\d+$/, ''));
        continue;
      }
      this.listeners.delete(k);
      l.accept.close(() => {
        l.h1.close();
        l.tls?.close();
      });
      l.h1.closeIdleConnections();
      l.h2?.closeIdle();
    }
    if (added.length) await this.open(prepared, added);
    // A listener kept across the reload keeps how it accepts: another socket cannot bind its port meanwhile.
    const keptProxy = listeners
      .map((l, i) => ({ l, spec: tls[i], running: this.listeners.get(keyOf(l, tls[i], i)) }))
      .filter(({ l, running }) => running !== undefined && running.config.proxyProtocol !== l.proxyProtocol)
      .map(({ l, spec }) => describe(l, spec));
    const restarts = kept.length ? [`${kept.join(', ')} stays open until wsgi-host restarts (front-ends share its socket)`] : [];
    const changedProxy = keptProxy.length ? `proxy-protocol of ${keptProxy.join(', ')} changes when wsgi-host restarts, not on reload` : '';
    if (changedProxy) restarts.push(changedProxy);
    const restart = restarts.join('; ');
    if (!removed.length && !added.length) return restart || undefined;
    return `listening changed: ${added
      .map((i) => `+${describe(listeners[i] as ListenerConfig, tls[i])}`)
      .concat(removed.map((k) => `-${k.replace('|', '://').replace(/#\d+$/, '')}`))
      .join(' ')}${restart ? `; ${restart}` : ''}`;
  }

  /** front-ends > 1: each listener's key, port and descriptor, for the other loops to accept on. */
  bindings(): Record<string, { fd?: number; port: number }> {
    const out: Record<string, { fd?: number; port: number }> = {};
    for (const l of this.listeners.values()) {
      const handle = (l.accept as unknown as { _handle?: { fd?: number } })._handle;
      out[l.key] = { port: l.address.port, ...(this.sharing?.reusePort || handle?.fd === undefined ? {} : { fd: handle.fd }) };
    }
    return out;
  }

  /** Whether closing listener l would close a descriptor other loops accept on (kept open until exit). */
  private keepsOpen(l: Listener): boolean {
    return l.borrowed || (this.sharing !== undefined && !this.sharing.reusePort);
  }

  /** The port of the first TLS listener (where redirect-to-https sends clients), if any. */
  httpsPort(): number | undefined {
    for (const l of this.listeners.values()) if (l.tls !== undefined) return l.address.port;
    return undefined;
  }

  /** SIGTERM: HTTP/2 sessions are told to go away (HTTP/1.1 responses close their connection: front-end.ts). */
  drain(): void {
    for (const l of this.listeners.values()) l.h2?.drain();
  }

  /** Stop accepting; close idle connections; wait up to graceMs while busy() says requests are in flight. */
  async close(graceMs: number, busy: () => boolean): Promise<void> {
    const all = [...this.listeners.values()];
    const closed = Promise.all(all.map((l) => (l.borrowed ? Promise.resolve() : new Promise<void>((resolve) => l.accept.close(() => resolve())))));
    const closeIdle = (): void => {
      for (const l of all) {
        l.h1.closeIdleConnections();
        l.h2?.closeIdle();
      }
    };
    closeIdle();
    const deadline = Date.now() + graceMs;
    while (busy() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      closeIdle();
    }
    for (const l of all) {
      l.h1.closeAllConnections();
      l.h2?.closeAll();
      // Connections in no HTTP server yet (a TLS handshake) or between steps.
      for (const s of l.sockets.values()) s.destroy();
    }
    await closed;
    for (const l of all) {
      l.h1.close();
      l.tls?.close();
    }
  }

  /** Builds and binds listeners `indexes` of the prepared set, in order. */
  private async open(prepared: PreparedListeners, indexes: number[]): Promise<AddressInfo[]> {
    const out: AddressInfo[] = [];
    for (const i of indexes) {
      const config = prepared.set.listeners[i] as ListenerConfig;
      const spec = prepared.set.tls[i];
      const key = keyOf(config, spec, i);
      const listener = this.pipeline(config, spec === undefined ? undefined : { contexts: prepared.loaded.get(key) as TlsContexts, spec });
      listener.key = key;
      const bound = this.sharing?.bound?.(key);
      // The first loop binds (with reusePort when the others bind too); another loop binds the same
      // port with reusePort, or accepts on the first loop's descriptor.
      const how =
        bound === undefined
          ? { port: config.port, host: config.host, ...(this.sharing?.reusePort ? { reusePort: true } : {}) }
          : bound.fd !== undefined
            ? { fd: bound.fd }
            : { port: bound.port, host: config.host, reusePort: true };
      listener.borrowed = bound?.fd !== undefined;
      await new Promise<void>((resolve, reject) => {
        listener.accept.once('error', reject);
        listener.accept.listen(how, () => {
          listener.accept.off('error', reject);
          resolve();
        });
      });
      listener.address = listener.accept.address() as AddressInfo;
      this.listeners.set(key, listener);
      this.bound(config.host, listener.address);
      out.push(listener.address);
    }
    return out;
  }

  /** One listener's steps: accept -> [TLS] -> HTTP/1.1 | HTTP/2 by ALPN. */
  private pipeline(config: ListenerConfig, tls: { contexts: TlsContexts; spec: TlsListenerSpec } | undefined): Listener {
    const h1 = new Http1Server(this.limits, this.log, this.connections, this.serve);
    const h2 = tls?.spec.alpn.includes('h2') ? new H2Sessions(this.limits, this.log, this.serve) : undefined;
    const http = (socket: Socket): void => {
      if (h2 !== undefined && (socket as TLSSocket).alpnProtocol === 'h2') h2.accept(socket);
      else h1.accept(socket);
    };
    const tlsStep = tls === undefined ? undefined : new TlsStep(tls.contexts, this.limits.headerTimeout * 1000, this.log, http);
    const sockets = new ObjectRegistry<Socket, Socket>();
    // A plain connection goes to node:http at once (closeAllConnections reaches it there); a TLS one
    // is tracked from accept, so that a stop can end those still shaking hands.
    const next =
      tlsStep === undefined
        ? http
        : (socket: Socket): void => {
            sockets.set(socket, socket);
            socket.once('close', () => sockets.delete(socket));
            tlsStep.accept(socket);
          };
    // With proxy-protocol, the accepting server is the PROXY stage (it closes the connections still
    // reading their header when it closes).
    const accept = config.proxyProtocol
      ? proxyProtocolStage(next, { trusted: this.trustedPeer, headerTimeoutMs: () => this.limits.headerTimeout * 1000, log: this.log })
      : createNetServer({ allowHalfOpen: true, noDelay: true }, next);
    accept.maxConnections = maxConnections(this.limits);
    return { config, borrowed: false, key: '', accept, h1, h2, tls: tlsStep, sockets, address: { address: config.host, family: '', port: config.port } };
  }

  private warn(warnings: readonly TlsWarning[]): void {
    for (const w of warnings) this.log.warn({ code: w.code }, w.message);
  }
}

/**
 * Loads the certificates of every TLS listener of `set`; `running` gives the certificates of a
 * listener that is already open (by key), which are read again without being swapped in.
 */
export async function prepareListeners(set: ListenerSet, running: (key: string) => TlsContexts | undefined = () => undefined): Promise<PreparedListeners> {
  const prepared: PreparedListeners = { set, commits: [], loaded: new Map(), warnings: [] };
  await Promise.all(
    set.listeners.map(async (l, i) => {
      const spec = set.tls[i];
      if (spec === undefined) return;
      const key = keyOf(l, spec, i);
      const contexts = running(key);
      if (contexts !== undefined) {
        const next = await contexts.prepare(spec);
        prepared.commits.push(next.commit);
        prepared.warnings.push(...next.warnings);
      } else {
        const loaded = await TlsContexts.load(spec);
        prepared.loaded.set(key, loaded);
        prepared.warnings.push(...loaded.warnings);
      }
    }),
  );
  return prepared;
}

function maxConnections(limits: HttpLimits): number {
  return limits.maxConnections > 0 ? limits.maxConnections : Number.POSITIVE_INFINITY;
}

function describe(l: ListenerConfig, tls: TlsListenerSpec | undefined): string {
  return `${tls === undefined ? 'http' : 'https'}://${l.host}:${l.port}`;
}
