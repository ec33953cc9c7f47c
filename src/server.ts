import type { AddressInfo } from 'node:net';
import type { ServerConfig } from './config/schema.js';
import { buildRoutes, FrontEnd } from './frontend/front-end.js';
import type { Logger } from './observability/logger.js';
import type { ServePlan } from './supervisor/plan.js';
import { resolveEnvironments, Supervisor } from './supervisor/supervisor.js';

/** A running wsgi-host: the supervisor's pools behind the front end's listeners. */
export class WsgiHostServer {
  readonly log: Logger;
  private plan: ServePlan;
  private supervisor: Supervisor | undefined;
  private frontEnd: FrontEnd | undefined;
  addresses: AddressInfo[] = [];

  constructor(plan: ServePlan, log: Logger) {
    this.plan = plan;
    this.log = log;
  }

  get config(): ServerConfig {
    return this.plan.config;
  }

  /** Checks environments, starts every group, then listens. Throws (having cleaned up) on failure. */
  async start(): Promise<AddressInfo[]> {
    const environments = await resolveEnvironments(this.plan);
    const supervisor = new Supervisor(this.plan, environments, this.log);
    await supervisor.start();
    this.supervisor = supervisor;
    const frontEnd = new FrontEnd(buildRoutes(this.plan, supervisor.pools), this.plan.config.limits, this.log, this.plan.config.busyPoll);
    try {
      this.addresses = await frontEnd.listen(this.plan.config.listen);
    } catch (err) {
      await supervisor.stop(0);
      throw err;
    }
    this.frontEnd = frontEnd;
    return this.addresses;
  }

  /** Stop accepting, let requests in flight finish within graceMs, stop the workers. */
  async stop(graceMs: number): Promise<void> {
    await this.frontEnd?.close(graceMs);
    await this.supervisor?.stop(Math.max(1000, graceMs));
  }
}
