import type { Logger } from '../observability/logger.js';
import { type PythonEnvironment, resolveEnvironment } from '../python/environment.js';
import type { PoolPlan, ServePlan } from './plan.js';
import { ProcessPool } from './process-pool.js';
import type { WorkerInit } from './worker-process.js';

/** Request-body bytes the front end sends ahead of the application's reading, per request. */
export const REQUEST_WINDOW = 256 * 1024;
/** Response bytes a worker sends ahead of the client's reading, per request. */
export const RESPONSE_WINDOW = 512 * 1024;

/** Checks every pool's Python environment (in parallel); the first error is thrown. */
export async function resolveEnvironments(plan: ServePlan): Promise<Map<string, PythonEnvironment>> {
  const cache = new Map<string, Promise<PythonEnvironment>>();
  const byPool = new Map<string, PythonEnvironment>();
  await Promise.all(
    plan.pools.map(async (p) => {
      const key = JSON.stringify([p.settings.pythonHome, p.settings.pythonPath, p.cwd, p.env, p.addWorkingDirectory]);
      let env = cache.get(key);
      if (env === undefined) {
        env = resolveEnvironment({
          pythonHome: p.settings.pythonHome,
          what: p.homeSetting,
          pythonPath: p.settings.pythonPath,
          cwd: p.cwd,
          env: p.env,
          addWorkingDirectory: p.addWorkingDirectory,
        });
        cache.set(key, env);
      }
      byPool.set(p.key, await env);
    }),
  );
  return byPool;
}

export function workerInit(p: PoolPlan, busyPollUs: number): WorkerInit {
  const s = p.settings;
  return {
    group: p.group ?? '',
    applicationGroup: p.applicationGroup,
    apps: p.apps.map((a) => ({ kind: a.kind, target: a.target, callable: a.callable, environ: a.environ })),
    pythonPath: s.pythonPath,
    addWorkingDirectory: p.addWorkingDirectory,
    threads: s.threads,
    multiprocess: s.processes > 1 || (s.dynamic !== undefined && s.dynamic.max > 1),
    requestWindow: REQUEST_WINDOW,
    responseWindow: RESPONSE_WINDOW,
    spinBudget: busyPollUs / 1e6,
    environ: {},
  };
}

/** Owns every pool of a running configuration. */
export class Supervisor {
  readonly plan: ServePlan;
  readonly pools = new Map<string, ProcessPool>();
  readonly environments: Map<string, PythonEnvironment>;
  private readonly log: Logger;

  constructor(plan: ServePlan, environments: Map<string, PythonEnvironment>, log: Logger) {
    this.plan = plan;
    this.environments = environments;
    this.log = log;
    for (const p of plan.pools) {
      const env = environments.get(p.key) as PythonEnvironment;
      this.pools.set(
        p.key,
        new ProcessPool({
          label: p.label,
          settings: p.settings,
          interpreter: env.interpreter,
          cwd: p.cwd,
          env: p.env,
          init: workerInit(p, plan.config.busyPoll),
          log,
        }),
      );
    }
  }

  /** Starts every pool; if one fails, stops the others and throws its error. */
  async start(): Promise<void> {
    const results = await Promise.allSettled([...this.pools.values()].map((p) => p.start()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await this.stop(0);
      throw failed.reason;
    }
    for (const [key, pool] of this.pools) {
      const env = this.environments.get(key) as PythonEnvironment;
      this.log.info(
        { group: pool.label },
        `${pool.settings.processes} process(es) x ${pool.settings.threads} thread(s), Python ${env.info.version}, python-home ${env.home}`,
      );
    }
  }

  async stop(graceMs: number): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.stop(graceMs)));
  }
}
