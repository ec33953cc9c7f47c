import type { AddressInfo } from 'node:net';
import type { ServerConfig } from './config/schema.js';
import { describeError } from './errors.js';
import type { Exchange } from './http/exchange.js';
import { buildRoutes, FrontEnd } from './http/front-end.js';
import { GroupStats, threadUse } from './observability/group-stats.js';
import type { Logger } from './observability/logger.js';
import type { ServePlan } from './config/plan.js';
import { probeAnswer, type Readiness, type ServerPhase, serverReadiness } from './admin/readiness.js';
import { resolveEnvironments, Supervisor } from './workers/supervisor.js';

export interface ReloadResult {
  ok: boolean;
  message: string;
}

/** A running wsgi-host: the supervisor's pools behind the front end's listeners. */
export class WsgiHostServer {
  readonly log: Logger;
  private plan: ServePlan;
  private supervisor: Supervisor | undefined;
  private frontEnd: FrontEnd | undefined;
  private reloading = false;
  /** starting -> serving -> draining (SIGTERM: readiness fails) -> stopped. */
  private phase: ServerPhase = 'starting';
  addresses: AddressInfo[] = [];
  readonly startedAt = Date.now();
  /** Statistics by group label; they outlive reloads. */
  readonly stats = new Map<string, GroupStats>();
  private sampler: NodeJS.Timeout | undefined;
  /** Every finished request (the access log). */
  onRequestFinished: ((ex: Exchange) => void) | undefined;

  constructor(plan: ServePlan, log: Logger) {
    this.plan = plan;
    this.log = log;
  }

  get config(): ServerConfig {
    return this.plan.config;
  }

  get currentPlan(): ServePlan {
    return this.plan;
  }

  get currentSupervisor(): Supervisor | undefined {
    return this.supervisor;
  }

  /** Checks environments, starts every group, then listens. Throws (having cleaned up) on failure. */
  async start(): Promise<AddressInfo[]> {
    const environments = await resolveEnvironments(this.plan);
    const supervisor = new Supervisor(this.plan, environments, this.log);
    await supervisor.start();
    this.supervisor = supervisor;
    const frontEnd = new FrontEnd(buildRoutes(this.plan, supervisor.pools, this.statsFor), this.plan.config.limits, this.log, this.plan.config.busyPoll);
    frontEnd.onFinished = (ex) => this.onRequestFinished?.(ex);
    try {
      this.addresses = await frontEnd.listen(this.plan.config.listen);
    } catch (err) {
      await supervisor.stop(0);
      throw err;
    }
    this.frontEnd = frontEnd;
    this.applyProbes(this.plan.config.health);
    if (this.phase === 'starting') this.phase = 'serving';
    this.sampler = setInterval(() => this.sample(), 1000);
    this.sampler.unref();
    return this.addresses;
  }

  readonly statsFor = (label: string): GroupStats => {
    let s = this.stats.get(label);
    if (s === undefined) {
      s = new GroupStats(label);
      this.stats.set(label, s);
    }
    return s;
  };

  /** What /readyz answers: serving, and every group of the running configuration can take a request. */
  readiness(): Readiness {
    return serverReadiness(this.phase, [...(this.supervisor?.pools.values() ?? [])]);
  }

  /**
   * SIGTERM: readiness fails from now on; the listeners keep serving until stop(), each response
   * closing its connection (a keep-alive client reconnects, through its balancer, elsewhere).
   */
  beginDrain(): void {
    if (this.phase === 'starting' || this.phase === 'serving') this.phase = 'draining';
    if (this.frontEnd !== undefined) this.frontEnd.draining = true;
  }

  /** [health] on-listeners: the probes answered on the main listeners, before routing. */
  private applyProbes(h: ServerConfig['health']): void {
    if (this.frontEnd === undefined) return;
    this.frontEnd.probe = !h.onListeners
      ? undefined
      : (method, path) => {
          if (method !== 'GET' && method !== 'HEAD') return undefined;
          if (path === h.alivePath) return probeAnswer('alive', this.readiness());
          if (path === h.readyPath) return probeAnswer('ready', this.readiness());
          return undefined;
        };
  }

  get frontEndState(): FrontEnd | undefined {
    return this.frontEnd;
  }

  /** Once a second: each group's throughput, latency and capacity, for the charts. */
  private sample(): void {
    for (const pool of this.supervisor?.pools.values() ?? []) {
      const { busy, capacity } = threadUse(pool.workers);
      this.statsFor(pool.label).sample(busy, capacity, pool.queueLength);
    }
  }

  /**
   * Re-reads the configuration (load). Groups whose effective settings did not change keep their
   * processes untouched; the others get new processes, all ready before the routes switch and the
   * old ones drain. Any failure (invalid config, a python-home or an application that does not load)
   * leaves the running configuration serving, and says why.
   */
  async reload(load: () => Promise<ServePlan>): Promise<ReloadResult> {
    if (this.reloading) return { ok: false, message: 'a reload is already in progress' };
    if (this.supervisor === undefined || this.frontEnd === undefined) return { ok: false, message: 'the server is not running' };
    this.reloading = true;
    try {
      let next: Supervisor;
      let plan: ServePlan;
      try {
        plan = await load();
        const environments = await resolveEnvironments(plan);
        next = new Supervisor(plan, environments, this.log, this.supervisor);
        await next.start();
      } catch (err) {
        const message = `reload refused, the running configuration keeps serving: ${describeFailure(err)}`;
        this.log.error(message);
        return { ok: false, message };
      }
      const previous = this.supervisor;
      this.frontEnd.setRoutes(buildRoutes(plan, next.pools, this.statsFor));
      this.frontEnd.setLimits(plan.config.limits, plan.config.busyPoll);
      this.applyProbes(plan.config.health);
      const listenNote = await this.frontEnd.updateListeners(plan.config.listen);
      this.supervisor = next;
      this.plan = plan;
      const retired = previous.retiredBy(next);
      for (const [key, pool] of previous.pools) {
        if (!retired.includes(pool)) continue;
        for (const w of pool.workers) pool.restarts.add(w.pid, 'reload', 'the configuration changed');
        void pool.retireTo(next.pools.get(key), pool.settings.gracefulTimeout * 1000);
      }
      const { started, kept } = next.counts();
      const message = `reloaded: ${started} group(s) started with new settings, ${kept} unchanged, ${retired.length} retired${listenNote ? `; ${listenNote}` : ''}`;
      this.log.info(message);
      return { ok: true, message };
    } finally {
      this.reloading = false;
    }
  }

  /** Stop accepting, let requests in flight finish within graceMs, stop the workers. */
  async stop(graceMs: number): Promise<void> {
    this.beginDrain();
    clearInterval(this.sampler);
    await this.frontEnd?.close(graceMs);
    await this.supervisor?.stop(Math.max(1000, graceMs));
    this.phase = 'stopped';
  }
}

function describeFailure(err: unknown): string {
  const e = err as { code?: string; where?: string; source?: { file?: string; line?: number } };
  const where = e.where ?? (e.source?.file ? `${e.source.file}${e.source.line ? `:${e.source.line}` : ''}` : undefined);
  return `${e.code ? `[${e.code}] ` : ''}${where ? `${where}: ` : ''}${describeError(err)}`;
}
