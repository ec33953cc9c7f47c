/**
 * The HTTP side: every request a listener takes comes through serve() when its turn on its
 * connection comes, and goes, in this order, through the request rules (request-rules.ts), the
 * health probes of the listeners, the routes (routes.ts: virtual host, mount, access rules), and
 * then to a static file (static-files.ts) or to an application: an Exchange (exchange.ts) handed
 * to its group's RequestPort (src/contract/request-port.ts), with its body buffered first when it
 * may be.
 */
import { randomBytes } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import type { AddressInfo } from 'node:net';
import type { HttpLimits } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { ExchangeRecord } from './access-record.js';
import { BufferBudget } from './buffer-budget.js';
import { ConnectionFields } from './connection-fields.js';
import { containRequests, noteRequestId } from './containment.js';
import { H2_ENDS, HTTP1_ENDS, sendError, sendErrorPage } from './error-response.js';
import { Exchange, type ExchangeSettings } from './exchange.js';
import type { ConnItem } from './http-connection.js';
import { REFUSAL_EXPLANATIONS, RequestRefusal } from './http-refusal.js';
import { HttpListeners, type ListenerSet, type ListenerSharing, type PreparedListeners, prepareListeners } from './listeners.js';
import { type HttpRequest, type HttpResponse, isHttp2 } from './message.js';
import { trustedPeer } from './proxied-request.js';
import { type CheckedHead, checkRequestHead } from './request-rules.js';
import { checkH2Head } from './request-rules-h2.js';
import { guardStatic } from './route-access.js';
import { type AppTarget, resolveRequest, type Routes } from './routes.js';
import { serveStatic } from './static-files.js';

/** A request being served, with what its connection found out about its body (HTTP/1.1). */
type ServedItem = Pick<ConnItem, 'bodyError'> & { req: HttpRequest; res: HttpResponse; bodyReader?: ConnItem['bodyReader'] };

/** Published for every request an application answered, when it is over: an AccessRecord. */
export const REQUEST_FINISH_CHANNEL = 'wsgi-host:request:finish';
const requestFinish = channel(REQUEST_FINISH_CHANNEL);

/** A health probe answered on the main listeners ([health] on-listeners), before routing. */
export interface ProbeReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The probes of the listeners: a reply for (method, path), or undefined to route the request. */
export type ListenerProbe = (method: string, path: string) => ProbeReply | undefined;

export interface FrontEndOptions {
  limits: HttpLimits;
  log: Logger;
  /** The probes of the listeners, when they answer any. */
  probe: ListenerProbe | undefined;
  /** front-ends > 1: how this loop shares the listening sockets with the others. */
  sharing?: ListenerSharing;
}

/** Request ids: a random prefix per front-end process, then a counter (unique, cheap to make). */
const ID_PREFIX = randomBytes(6).toString('hex');
let idCounter = 0;
function newRequestId(): string {
  return `${ID_PREFIX}-${(idCounter++).toString(36)}`;
}

export class FrontEnd {
  private routes: Routes;
  private limits: HttpLimits;
  private readonly log: Logger;
  private probe: ListenerProbe | undefined;
  private readonly listeners: HttpListeners;
  private readonly settings: ExchangeSettings;
  /** The same, for HTTP/2 streams (their own ResponseEnds). */
  private readonly h2Settings: ExchangeSettings;
  private readonly budget: BufferBudget;
  private readonly connectionFields = new ConnectionFields();
  private closing = false;
  /** After SIGTERM: responses close their connection, so clients reconnect through the balancer. */
  private draining = false;
  /** Application requests not over yet. */
  inflight = 0;

  constructor(routes: Routes, options: FrontEndOptions) {
    this.routes = routes;
    this.limits = options.limits;
    this.log = options.log;
    this.probe = options.probe;
    this.budget = new BufferBudget(options.limits.bufferMemory);
    this.settings = {
      log: options.log,
      ends: HTTP1_ENDS,
      body: { maxBodySize: 0, pace: { gapMs: 0, minRate: 0, graceMs: 0 }, bufferLimit: 0, budget: this.budget },
      finished: this.exchangeFinished,
      warnedHopByHop: new Set(),
    };
    this.h2Settings = { ...this.settings, ends: H2_ENDS };
    this.applyBodyLimits(options.limits);
    this.listeners = new HttpListeners(
      options.limits,
      options.log,
      containRequests(options.log, this.serve),
      (host, address) => this.connectionFields.listening(host, address),
      (address) => trustedPeer(this.routes.proxies, address),
      options.sharing,
    );
  }

  /** front-ends > 1: what the other loops accept on (listeners.ts bindings()). */
  bindings(): Record<string, { fd?: number; port: number }> {
    return this.listeners.bindings();
  }

  /**
   * The listeners of a configuration about to start, with every certificate read and checked
   * (throws a TlsError naming the file when one does not load).
   */
  static loadListeners(listeners: ListenerSet): Promise<PreparedListeners> {
    return prepareListeners(listeners);
  }

  /** Binds the listeners (loadListeners); throws when one cannot (a port in use). */
  listen(listeners: PreparedListeners): Promise<AddressInfo[]> {
    return this.listeners.listen(listeners);
  }

  /**
   * A reload's first step: every certificate of the new listeners is read and checked (throws a
   * TlsError when one does not load); nothing changes until reconfigure().
   */
  prepareListeners(listeners: ListenerSet): Promise<PreparedListeners> {
    return this.listeners.prepare(listeners);
  }

  /** Swaps in new routes, limits, probes and listeners (a reload); requests in flight keep their groups. */
  async reconfigure(routes: Routes, limits: HttpLimits, probe: ListenerProbe | undefined, listeners: PreparedListeners): Promise<string | undefined> {
    this.routes = routes;
    this.probe = probe;
    if (limits.maxHeaderSize !== this.limits.maxHeaderSize) {
      this.log.warn('limits.max-header-size changed: it applies when wsgi-host restarts, not on reload');
    }
    this.limits = { ...limits, maxHeaderSize: this.limits.maxHeaderSize };
    this.applyBodyLimits(limits);
    this.listeners.setLimits(this.limits);
    return this.listeners.update(listeners);
  }

  private applyBodyLimits(limits: HttpLimits): void {
    const b = this.settings.body;
    b.maxBodySize = limits.maxBodySize;
    b.pace = { gapMs: limits.bodyTimeout * 1000, minRate: limits.bodyMinRate, graceMs: limits.bodyMinRateGrace * 1000 };
    b.bufferLimit = limits.bufferRequestBody;
    this.budget.setLimit(limits.bufferMemory);
  }

  /** SIGTERM: from now on every response closes its connection (HTTP/2: GOAWAY). */
  beginDrain(): void {
    this.draining = true;
    this.listeners.drain();
  }

  /** A request whose turn came on its connection: every response before it was sent. */
  private readonly serve = (req: HttpRequest, res: HttpResponse): void => {
    const h2 = isHttp2(res);
    const active = h2 ? undefined : this.listeners.connections.get(req.socket)?.active;
    const item: ServedItem = active !== undefined && active.res === res ? active : { req, res };
    if (item.bodyError !== undefined) {
      this.refuse(req, res, item.bodyError);
      return;
    }
    const checked = h2
      ? checkH2Head(req.rawHeaders, res.stream.endAfterHeaders, this.limits)
      : checkRequestHead(req.method as string, req.url as string, req.httpVersionMajor, req.httpVersionMinor, req.rawHeaders, this.limits);
    if (checked instanceof RequestRefusal) {
      this.refuse(req, res, checked);
      return;
    }
    if (this.draining && !h2) HTTP1_ENDS.closeAfter(res);
    const probe = this.probe?.(req.method as string, checked.target.rawPath);
    if (probe !== undefined) {
      res.writeHead(probe.status, probe.headers);
      res.end(probe.body);
      return;
    }
    if (checked.target.form === 'asterisk') {
      // OPTIONS * asks about the server itself (RFC 9110 9.3.7): no application is involved.
      res.writeHead(200, { 'Content-Length': '0' });
      res.end();
      return;
    }
    const requestId = checked.requestId ?? newRequestId();
    noteRequestId(res, requestId);
    this.route(item, checked, requestId);
  };

  /**
   * Routes a request that passed the rules and starts it: a static file, or an application
   * request, whose body is read into memory first when it may be.
   */
  private route(item: ServedItem, checked: CheckedHead, requestId: string): void {
    const { req, res } = item;
    const routes = this.routes;
    const found = resolveRequest(req, checked, routes, requestId, this.connectionFields);
    if (found.kind === 'refused') return this.refuse(req, res, found.why, requestId);
    if (found.kind === 'none') return sendError(res, 404, requestId);
    if (found.kind === 'denied') return sendError(res, 403, requestId);
    if (found.kind === 'redirect') return this.redirect(res, found.location(this.listeners.httpsPort()), requestId);
    if (found.kind === 'static') {
      const { alias, pathInfo } = found;
      return guardStatic(found.guard, req, res, alias.directory, pathInfo, found.path, requestId, found.client, () =>
        serveStatic(req, res, alias, pathInfo, req.url as string),
      );
    }
    const { app, head } = found;
    const max = this.limits.maxBodySize;
    if (max > 0 && checked.contentLength > max) {
      this.log.warn({ requestId }, `${req.method} ${req.url}: Content-Length ${checked.contentLength} is over the limit of ${max} bytes; answered 413`);
      const ends = this.endsOf(res);
      ends.closeAfter(res);
      ends.error(res, 413, requestId);
      return;
    }
    const bodyLength = checked.chunked ? -1 : Math.max(checked.contentLength, 0);
    const settings = isHttp2(res) ? this.h2Settings : this.settings;
    const ex = new Exchange(req, res, head, bodyLength, checked.expectContinue, app.stats, app.label, settings, app.compress);
    this.inflight++;
    if (bodyLength !== 0) {
      item.bodyReader = ex;
      const buffering = ex.bufferBody(() => {
        if (!ex.over) this.dispatchBuffered(ex, app, req, checked, routes, requestId);
      });
      if (buffering) return;
    }
    ex.dispatchTo(app.port);
  }

  /** The body is in memory (or must stream from here): to the group, routed again if a reload came meanwhile. */
  private dispatchBuffered(ex: Exchange, app: AppTarget, req: HttpRequest, checked: CheckedHead, routes: Routes, requestId: string): void {
    if (this.routes === routes) {
      ex.dispatchTo(app.port);
      return;
    }
    const found = resolveRequest(req, checked, this.routes, requestId, this.connectionFields);
    if (found.kind !== 'app') {
      ex.fail(503, 'a reload changed the configuration while the request body arrived, and the URL no longer leads to an application', {
        level: 'warn',
        retryAfter: 1,
      });
      return;
    }
    ex.retarget(found.head);
    ex.dispatchTo(found.app.port);
  }

  /** A request wsgi-host answers itself (the rules refused it): an error page, then the connection closes. */
  private refuse(req: HttpRequest, res: HttpResponse, why: RequestRefusal, requestId?: string): void {
    this.log.debug({ requestId }, `${req.method} ${req.url}: ${why.code} (${why.message}); answered ${why.status}`);
    if (why.status !== 404) this.endsOf(res).closeAfter(res);
    sendErrorPage(res, why.status, REFUSAL_EXPLANATIONS[why.status] ?? '', requestId);
  }

  /** redirect-to-https: a 308 to the same URL on the HTTPS listener (the method and body kept). */
  private redirect(res: HttpResponse, location: string | undefined, requestId: string): void {
    if (location === undefined) {
      // No HTTPS listener is open (a reload removed it): the request is not served in the clear.
      sendError(res, 503, requestId);
      return;
    }
    const body = `Moved to ${location}\n`;
    res.writeHead(308, { Location: location, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) });
    this.endsOf(res).end(res, res.req.method === 'HEAD' ? undefined : body);
  }

  private endsOf(res: HttpResponse): ExchangeSettings['ends'] {
    return isHttp2(res) ? H2_ENDS : HTTP1_ENDS;
  }

  /** Every application request, once over: counted, and published for the access log. */
  private readonly exchangeFinished = (ex: Exchange): void => {
    this.inflight--;
    if (requestFinish.hasSubscribers) requestFinish.publish(new ExchangeRecord(ex));
  };

  /** Stop accepting; close idle connections; wait up to graceMs for requests in flight. */
  async close(graceMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.listeners.close(graceMs, () => this.inflight > 0);
  }
}
