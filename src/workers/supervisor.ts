import { formatSource } from '../config/loaded-config.js';
import { WsgiHostError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { type PythonEnvironment, resolveEnvironment } from '../python/environment.js';
import { pythonPathSetting } from '../python/setting-form.js';
import type { RunAs } from '../python/worker-launch.js';
import type { PoolPlan, ServePlan } from '../config/plan.js';
import type { RequestPort } from '../contract/request-port.js';
import { REQUEST_WINDOW, RESPONSE_WINDOW } from '../protocol/frame-types.js';
import type { WorkerInit } from '../protocol/messages.js';
import { WorkerErrorCode } from './errors.js';
import { accessProblem } from './file-access.js';
import { type PoolView, poolView, type WorkerView } from './loop-view.js';
import { type PoolOptions, ProcessPool } from './process-pool.js';
import { ReplyPoller } from './reply-poller.js';
import type { PoolSnapshot } from './snapshot.js';
import { lookupIdentity, runAsOf } from './user-ids.js';

/**
 * Checks every pool's Python environment (in parallel), as the group's user when it has one (so
 * nothing of the environment runs as root); the first error is thrown.
 */
export async function resolveEnvironments(plan: ServePlan): Promise<Map<string, PythonEnvironment>> {
  const cache = new Map<string, Promise<PythonEnvironment>>();
  const byPool = new Map<string, PythonEnvironment>();
  await Promise.all(
    plan.pools.map(async (p) => {
      const runAs = poolRunAs(p);
      const key = JSON.stringify([p.settings.pythonHome, p.settings.pythonPath, p.cwd, p.env, p.addWorkingDirectory, runAs]);
      let env = cache.get(key);
      if (env === undefined) {
        env = resolveEnvironment({
          pythonHome: p.settings.pythonHome,
          what: p.homeSetting,
          pythonPath: p.settings.pythonPath,
          cwd: p.cwd,
          env: p.env,
          addWorkingDirectory: p.addWorkingDirectory,
          label: p.label,
          ...(runAs !== undefined ? { runAs } : {}),
        });
        cache.set(key, env);
      }
      try {
        if (runAs !== undefined) checkScriptsReadable(p, runAs);
        byPool.set(p.key, await env);
      } catch (err) {
        // The message names the setting already; add where it was set only when that is a file.
        const source = plan.locate(p.homePath);
        if (err instanceof WsgiHostError && err.where === undefined && source?.file) err.where = formatSource(source);
        throw err;
      }
    }),
  );
  return byPool;
}

/** The user a pool's processes run as, when wsgi-host runs as root and the group names one. */
export function poolRunAs(p: PoolPlan): RunAs | undefined {
  const s = p.settings;
  if ((s.user === undefined && s.group === undefined) || process.getuid?.() !== 0) return undefined;
  return runAsOf(lookupIdentity(s.user ?? 'root', s.group));
}

/** A WSGI script the group's user cannot read is refused before anything starts, as check reports it. */
function checkScriptsReadable(p: PoolPlan, runAs: RunAs): void {
  const who = lookupIdentity(String(runAs.uid), undefined);
  const id = { ...who, gid: runAs.gid, groups: [...new Set([runAs.gid, ...who.groups])], name: runAs.name ?? String(runAs.uid) };
  for (const app of p.apps) {
    if (app.kind !== 'script') continue;
    const problem = accessProblem(app.target, 'r', id);
    if (problem !== undefined) {
      throw new WsgiHostError(
        WorkerErrorCode.SCRIPT_UNREADABLE,
        `the WSGI script ${app.target} of group ${p.label} cannot be read by its user ${id.name}: ${problem}`,
        {
          hint: 'Make the file readable and its folders searchable by that user (chmod o+r on the file, o+x on the folders), or change user=',
        },
      );
    }
  }
}

/** The front end's log level as Python's numbers: the workers do not send lines below it. */
const PYTHON_LEVEL: Record<string, number> = { trace: 0, debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

export function workerInit(p: PoolPlan, busyPollUs: number, reloadOnChanges = false, logLevel = 'info'): WorkerInit {
  const s = p.settings;
  return {
    group: p.group ?? '',
    applicationGroup: p.applicationGroup,
    apps: p.apps.map((a) => ({ kind: a.kind, target: a.target, callable: a.callable, environ: a.environ })),
    pythonPath: s.pythonPath,
    addWorkingDirectory: p.addWorkingDirectory,
    threads: s.threads,
    multiprocess: s.multiprocess ?? (s.processes > 1 || (s.dynamic !== undefined && s.dynamic.max > 1)),
    requestWindow: REQUEST_WINDOW,
    responseWindow: RESPONSE_WINDOW,
    spinBudget: busyPollUs / 1e6,
    ...(reloadOnChanges ? { reloadOnChanges: true } : {}),
    pathSetting: pythonPathSetting(p.homeSetting),
    logLevel: PYTHON_LEVEL[logLevel] ?? 0,
    ...(s.displayName !== undefined ? { displayName: s.displayName.replace('%{GROUP}', `(wsgi:${p.group ?? 'default'})`) } : {}),
    environ: { 'mod_wsgi.script_reloading': s.scriptReloading ? '1' : '0' },
  };
}

/** Owns every pool of a running configuration. */
export class Supervisor {
  readonly plan: ServePlan;
  private readonly pools = new Map<string, ProcessPool>();
  readonly environments: Map<string, PythonEnvironment>;
  /** Pools this supervisor started itself (not taken over from a previous configuration). */
  private readonly created = new Set<ProcessPool>();
  private readonly log: Logger;
  /** Busy-polls the event loop while replies are due (busy-poll); shared by the pools it creates. */
  private readonly poller: ReplyPoller;

  /** previous: on reload, pools whose effective settings did not change are taken over, untouched. */
  /** shared: front-ends > 1 (the scoreboard, and who to tell when the other loops' view changed). */
  /** onChange: told when a pool's processes or state changed (PoolOptions.onChange). */
  constructor(
    plan: ServePlan,
    environments: Map<string, PythonEnvironment>,
    log: Logger,
    previous?: Supervisor,
    shared?: PoolOptions['shared'],
    onChange?: () => void,
  ) {
    this.plan = plan;
    this.environments = environments;
    this.log = log;
    this.poller = new ReplyPoller(plan.config.busyPoll);
    for (const p of plan.pools) {
      const env = environments.get(p.key) as PythonEnvironment;
      const options: PoolOptions = {
        label: p.label,
        scripts: p.apps.filter((a) => a.kind === 'script').map((a) => a.target),
        settings: p.settings,
        interpreter: env.interpreter,
        cwd: p.cwd,
        env: p.env,
        // The level the running logger has (set at start; [log] changes apply at restart).
        init: workerInit(p, plan.config.busyPoll, plan.config.reloadOnChanges, log.level),
        log,
        ...identityFor(p, log),
        ...(shared !== undefined ? { shared } : {}),
        ...(onChange !== undefined ? { onChange } : {}),
      };
      const same = previous?.pools.get(p.key);
      if (same !== undefined && poolIdentity(same.options) === poolIdentity(options) && same.state === 'serving') {
        this.pools.set(p.key, same);
        continue;
      }
      const pool = new ProcessPool(options, this.poller);
      if (same !== undefined) pool.restarts.inherit(same.restarts);
      this.pools.set(p.key, pool);
      this.created.add(pool);
    }
  }

  /** Starts the pools this supervisor created; if one fails, stops them and throws its error. */
  async start(): Promise<void> {
    const fresh = [...this.created];
    const results = await Promise.allSettled(fresh.map((p) => p.start()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(fresh.map((p) => p.stop(0)));
      throw failed.reason;
    }
    for (const [key, pool] of this.pools) {
      if (!this.created.has(pool)) continue;
      const env = this.environments.get(key) as PythonEnvironment;
      const s = pool.settings;
      const count = s.dynamic ? `${s.dynamic.min}-${s.dynamic.max} process(es) (dynamic)` : `${s.processes} process(es)`;
      this.log.info({ group: pool.label }, `${count} x ${s.threads} thread(s), Python ${env.info.version}, python-home ${env.home}`);
    }
  }

  /** The port of each pool, by its key in the plan (what the HTTP side's routes send requests to). */
  ports(): Map<string, RequestPort> {
    return new Map(this.pools);
  }

  /** What the other front-end loops must know of the pools (front-ends > 1). */
  view(): WorkerView {
    const pools: Record<string, PoolView> = {};
    for (const [key, pool] of this.pools) pools[key] = poolView(pool);
    return { pools };
  }

  /** Another loop started or finished requests (front-ends > 1): every pool's tick looks. */
  activity(): void {
    for (const pool of this.pools.values()) pool.activity();
  }

  /** Another loop saw process pid of the pool reach its maximum-requests. */
  reportExhausted(poolKey: string, pid: number): void {
    this.pools.get(poolKey)?.reportExhausted(pid);
  }

  /** Another loop saw a request of process pid of pool poolId run past request-timeout. */
  reportStuck(poolKey: string, pid: number, ranMs: number): void {
    this.pools.get(poolKey)?.reportStuck(pid, ranMs);
  }

  /** Every pool as plain data, in the plan's order (status, metrics, readiness). */
  snapshot(): PoolSnapshot[] {
    const plan = this.plan;
    return plan.pools.flatMap((p) => {
      const pool = this.pools.get(p.key);
      if (pool === undefined) return [];
      const mounts = plan.mounts.filter((m) => m.pool === p.key).map((m) => `${m.host === undefined ? '*' : plan.hosts[m.host]?.serverName}${m.prefix || '/'}`);
      return [
        { ...pool.snapshot(), key: p.key, group: p.group ?? null, applicationGroup: p.applicationGroup, mounts, environment: this.environments.get(p.key) },
      ];
    });
  }

  /**
   * A reload: `next` serves from now on. The pools it did not take over retire: the requests
   * waiting in each go to its successor (the same group in `next`), then its processes finish
   * what they run and stop. Says what changed.
   */
  handOver(next: Supervisor): string {
    const kept = new Set(next.pools.values());
    let retired = 0;
    for (const [key, pool] of this.pools) {
      if (kept.has(pool)) continue;
      retired++;
      for (const m of pool.members) pool.restarts.add(m.pid, 'reload', 'the configuration changed');
      void pool.retireTo(next.pools.get(key), pool.settings.gracefulTimeout * 1000);
    }
    return `${next.created.size} group(s) started with new settings, ${next.pools.size - next.created.size} unchanged, ${retired} retired`;
  }

  async stop(graceMs: number): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.stop(graceMs)));
  }
}

/** Two pools with the same identity run the same thing the same way. */
function poolIdentity(o: Omit<PoolOptions, 'log'> & { log?: unknown }): string {
  const { log: _log, shared: _shared, onChange: _onChange, ...rest } = o;
  return JSON.stringify(rest);
}

/** user= and group= apply when wsgi-host runs as root, as in mod_wsgi; otherwise they are reported. */
function identityFor(p: PoolPlan, log: Logger): { uid?: number; gid?: number } {
  const s = p.settings;
  if (s.user === undefined && s.group === undefined) return {};
  if (process.getuid?.() !== 0) {
    log.warn({ group: p.label }, `user=${s.user ?? ''} group=${s.group ?? ''} is applied only when wsgi-host starts as root; the workers run as this user`);
    return {};
  }
  const id = lookupIdentity(s.user ?? 'root', s.group);
  return { uid: id.uid, gid: id.gid };
}
