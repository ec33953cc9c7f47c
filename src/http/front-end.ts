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
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpLimits, ListenerConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { ExchangeRecord } from './access-record.js';
import { BufferBudget } from './buffer-budget.js';
import { ConnectionFields } from './connection-fields.js';
import { containRequests, noteRequestId } from './containment.js';
import { closeAfter, HTTP1_ENDS, sendError, sendErrorPage } from './error-response.js';
import { Exchange, type ExchangeSettings } from './exchange.js';
import type { ConnItem } from './http-connection.js';
import { REFUSAL_EXPLANATIONS, RequestRefusal } from './http-refusal.js';
import { HttpListeners } from './listeners.js';
import { type CheckedHead, checkRequestHead } from './request-rules.js';
import { guardStatic } from './route-access.js';
import { type AppTarget, resolveRequest, type Routes } from './routes.js';
import { serveStatic } from './static-files.js';

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
    this.applyBodyLimits(options.limits);
    this.listeners = new HttpListeners(options.limits, options.log, containRequests(options.log, this.serve), (host, address) =>
      this.connectionFields.listening(host, address),
    );
  }

  listen(listeners: ListenerConfig[]): Promise<AddressInfo[]> {
    return this.listeners.listen(listeners);
  }

  /** Swaps in new routes, limits, probes and listeners (a reload); requests in flight keep their groups. */
  async reconfigure(routes: Routes, limits: HttpLimits, probe: ListenerProbe | undefined, listeners: ListenerConfig[]): Promise<string | undefined> {
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

  /** SIGTERM: from now on every response closes its connection. */
  beginDrain(): void {
    this.draining = true;
  }

  /** A request whose turn came on its connection: every response before it was sent. */
  private readonly serve = (req: IncomingMessage, res: ServerResponse): void => {
    const active = this.listeners.connections.get(req.socket)?.active;
    const item: ConnItem = active !== undefined && active.res === res ? active : { req, res };
    if (item.bodyError !== undefined) {
      this.refuse(req, res, item.bodyError);
      return;
    }
    const checked = checkRequestHead(req.method as string, req.url as string, req.httpVersionMajor, req.httpVersionMinor, req.rawHeaders, this.limits);
    if (checked instanceof RequestRefusal) {
      this.refuse(req, res, checked);
      return;
    }
    if (this.draining) closeAfter(res);
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
  private route(item: ConnItem, checked: CheckedHead, requestId: string): void {
    const { req, res } = item;
    const routes = this.routes;
    const found = resolveRequest(req, checked, routes, requestId, this.connectionFields);
    if (found.kind === 'refused') return this.refuse(req, res, found.why, requestId);
    if (found.kind === 'none') return sendError(res, 404, requestId);
    if (found.kind === 'denied') return sendError(res, 403, requestId);
    if (found.kind === 'static') {
      const { alias, pathInfo } = found;
      return guardStatic(found.guard, req, res, alias.directory, pathInfo, found.path, requestId, () =>
        serveStatic(req, res, alias, pathInfo, req.url as string),
      );
    }
    const { app, head } = found;
    const max = this.limits.maxBodySize;
    if (max > 0 && checked.contentLength > max) {
      this.log.warn({ requestId }, `${req.method} ${req.url}: Content-Length ${checked.contentLength} is over the limit of ${max} bytes; answered 413`);
      closeAfter(res);
      sendError(res, 413, requestId);
      return;
    }
    const bodyLength = checked.chunked ? -1 : Math.max(checked.contentLength, 0);
    const ex = new Exchange(req, res, head, bodyLength, checked.expectContinue, app.stats, app.label, this.settings);
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
  private dispatchBuffered(ex: Exchange, app: AppTarget, req: IncomingMessage, checked: CheckedHead, routes: Routes, requestId: string): void {
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
  private refuse(req: IncomingMessage, res: ServerResponse, why: RequestRefusal, requestId?: string): void {
    this.log.debug({ requestId }, `${req.method} ${req.url}: ${why.code} (${why.message}); answered ${why.status}`);
    if (why.status !== 404) closeAfter(res);
    sendErrorPage(res, why.status, REFUSAL_EXPLANATIONS[why.status] ?? '', requestId);
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
