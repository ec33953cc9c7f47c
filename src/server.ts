/**
 * reason: the composition root wires every part in one file on purpose (start, reload, stop,
 * signals, snapshot); split, the wiring would be spread over the files it wires.
 *
 * The composition root: the one place where the parts of a running wsgi-host are made and wired.
 * The worker side (a Supervisor of the configuration's pools) hands its ports to the HTTP side (a
 * FrontEnd and its routes); the admin listener reads one plain snapshot() of the server; the
 * access log subscribes to the requests the HTTP side publishes; signals drive reload and stop.
 * Nothing below this file knows how the others are wired (docs/architecture.md).
 */
import { subscribe } from 'node:diagnostics_channel';
import type { AddressInfo } from 'node:net';
import { AdminServer } from './admin/admin-server.js';
import { describeAdmin } from './admin/admin-address.js';
import { type AdminTarget, alreadyServingHint, serveAddress } from './admin/admin-target.js';
import { listenerProbe, type Readiness, type ServerPhase, serverReadiness } from './admin/readiness.js';
import { addAdminRoutes } from './admin/routes.js';
import type { ServerSnapshot } from './admin/server-snapshot.js';
import { formatSource, type LoadedConfig } from './config/loaded-config.js';
import type { ServePlan } from './config/plan.js';
import type { ServerConfig } from './config/schema.js';
import { servingLines } from './config/serving-lines.js';
import { describeError } from './errors.js';
import { FrontEnd, type ListenerProbe, REQUEST_FINISH_CHANNEL } from './http/front-end.js';
import { canReusePort, listenerSet } from './http/listeners.js';
import { buildRoutes } from './http/routes.js';
import { AccessLog, type AccessRecord } from './observability/access-log.js';
import { countFault } from './observability/faults.js';
import { GroupStats, threadUse } from './observability/group-stats.js';
import { createLogger, type Logger, reopenErrorLog } from './observability/logger.js';
import { SampleClock } from './observability/sample-clock.js';
import { installUnhandledErrorHandlers } from './observability/unhandled-errors.js';
import { launcherForEveryInterpreter } from './python/worker-launch.js';
import { FrontEndLoops, frontEndCount } from './loops/front-end-loops.js';
import { Scoreboard } from './workers/scoreboard.js';
import { resolveEnvironments, Supervisor } from './workers/supervisor.js';
import { boundMainYoungGeneration, boundOldGeneration, releaseMainYoungGeneration } from './util/heap-bounds.js';

export interface ReloadResult {
  ok: boolean;
  message: string;
}

/** A running wsgi-host: the supervisor's pools behind the front end's listeners. */
export class WsgiHostServer {
  readonly log: Logger;
  private plan: ServePlan;
  private readonly configLabel: string;
  private supervisor: Supervisor | undefined;
  private frontEnd: FrontEnd | undefined;
  private reloading = false;
  /** starting -> serving -> draining (SIGTERM: readiness fails) -> stopped. */
  private phase: ServerPhase = 'starting';
  private addresses: AddressInfo[] = [];
  private readonly startedAt = Date.now();
  /** Statistics by group label; they outlive reloads. */
  private readonly stats = new Map<string, GroupStats>();
  /** Samples the statistics once a second while anything happens (sample-clock.ts). */
  private readonly sampler = new SampleClock({
    sample: () => this.sample(),
    fill: (times) => {
      for (const pool of this.supervisor?.snapshot() ?? []) {
        const stats = this.statsFor(pool.label);
        for (const t of times) stats.sampleIdle(t);
      }
    },
  });
  /** front-ends > 1: the other loops, and the scoreboard every loop counts requests on. */
  private loops: FrontEndLoops | undefined;
  private readonly shared: { board: Scoreboard; changed: () => void } | undefined;
  /** The front-end loops this server runs (front-ends, or 1 where more cannot be run safely). */
  private readonly loopCount: number;
  /** Where the access log lines the other loops formatted go (runServer sets it). */
  accessLine: (line: string) => void = () => {};

  constructor(plan: ServePlan, log: Logger, configLabel: string) {
    this.plan = plan;
    this.log = log;
    this.configLabel = configLabel;
    if (plan.config.frontEnds !== 1 && frontEndCount(plan.config) === 1 && process.platform !== 'linux') {
      log.warn(
        `front-ends = ${String(plan.config.frontEnds)}: one front-end loop serves on ${process.platform} (the other loops reach worker processes over unix sockets, on Linux only)`,
      );
    }
    // Without a root-owned launcher, a worker of another user (user=) binds its socket in a folder
    // of its own, where its application could put another socket (or a link to one) in place of
    // its own: the other loops, which connect after the application loaded, would then connect
    // there as root. Such a configuration gets one loop.
    const switched = ownSocketFolders(plan);
    this.loopCount = switched.length > 0 ? 1 : frontEndCount(plan.config);
    if (switched.length > 0 && frontEndCount(plan.config) > 1) {
      log.warn(
        `front-ends = ${String(plan.config.frontEnds)}: one front-end loop serves, because group(s) ${switched.join(', ')} run as another user (user=/group=) and no root-owned system Python (/usr/bin/python3) exists to bind their sockets; the other loops would connect to sockets in folders those users own`,
      );
    }
    if (this.loopCount > 1) this.shared = { board: new Scoreboard(), changed: () => this.loops?.viewChanged() };
  }

  get config(): ServerConfig {
    return this.plan.config;
  }

  /** Checks environments, starts every group, then listens. Throws (having cleaned up) on failure. */
  async start(): Promise<AddressInfo[]> {
    // Certificates first: a bad one stops the start before any process does.
    const listeners = await FrontEnd.loadListeners(listenerSet(this.plan.config, this.plan.baseDir));
    // The front end's heap stays near its idle size under load (util/heap-bounds.ts); the young
    // generation's run-time bound only where the main thread is the one loop.
    boundOldGeneration();
    if (this.shared === undefined) boundMainYoungGeneration();
    else releaseMainYoungGeneration();
    const supervisor = new Supervisor(this.plan, await resolveEnvironments(this.plan), this.log, undefined, this.shared, this.sampler.wake);
    await supervisor.start();
    this.supervisor = supervisor;
    const frontEnd = new FrontEnd(buildRoutes(this.plan, supervisor.ports(), this.statsFor), {
      limits: this.plan.config.limits,
      log: this.log,
      probe: this.listenerProbe(this.plan),
      ...(this.shared !== undefined ? { sharing: { reusePort: canReusePort() } } : {}),
    });
    try {
      this.addresses = await frontEnd.listen(listeners);
      if (this.shared !== undefined) await this.startLoops(frontEnd);
    } catch (err) {
      await frontEnd.close(0);
      await supervisor.stop(0);
      throw err;
    }
    this.frontEnd = frontEnd;
    if (this.phase === 'starting') this.phase = 'serving';
    this.loops?.viewChanged();
    this.sampler.start();
    return this.addresses;
  }

  /** front-ends > 1: the other loops, accepting on the listeners the first loop bound. */
  private async startLoops(frontEnd: FrontEnd): Promise<void> {
    const shared = this.shared as { board: Scoreboard };
    const config = this.plan.config;
    const format = config.log.format === 'auto' ? (process.stderr.isTTY ? 'pretty' : 'json') : config.log.format;
    const loops = new FrontEndLoops({
      log: this.log,
      logOptions: { level: this.log.level as 'info', format, destination: config.log.error },
      board: shared.board.buffer,
      reusePort: canReusePort(),
      view: () => this.supervisor?.view() ?? { pools: {} },
      readiness: () => this.readiness(),
      statsFor: this.statsFor,
      accessLine: (line) => this.accessLine(line),
      activity: () => {
        this.sampler.wake();
        this.supervisor?.activity();
      },
      stuck: (key, pid, ranMs) => this.supervisor?.reportStuck(key, pid, ranMs),
      exhausted: (key, pid) => this.supervisor?.reportExhausted(key, pid),
    });
    this.loops = loops;
    const count = this.loopCount;
    await loops.start(count - 1, this.plan, frontEnd.bindings());
    this.log.info(
      `${count} front-end loops serve HTTP (front-ends = ${String(config.frontEnds)})${canReusePort() ? ', each on its own socket (reusePort)' : ''}`,
    );
  }

  private readonly statsFor = (label: string): GroupStats => {
    let s = this.stats.get(label);
    if (s === undefined) {
      s = new GroupStats(label, this.sampler.wake);
      this.stats.set(label, s);
    }
    return s;
  };

  /** The server as plain data, for the admin side. */
  snapshot(): ServerSnapshot {
    this.sampler.catchUp();
    return {
      startedAt: this.startedAt,
      phase: this.phase,
      config: this.configLabel,
      listen: this.addresses,
      inflight: (this.frontEnd?.inflight ?? 0) + (this.loops?.inflight ?? 0),
      pools: this.supervisor?.snapshot() ?? [],
      stats: this.stats,
    };
  }

  /** [health] on-listeners: the probes the main listeners answer, before routing. */
  private listenerProbe(plan: ServePlan): ListenerProbe | undefined {
    const health = plan.config.health;
    return health.onListeners ? (method, path) => listenerProbe(health, () => this.readiness(), method, path) : undefined;
  }

  /** What /readyz answers: serving, and every group of the running configuration can take a request. */
  readiness(): Readiness {
    return serverReadiness(this.phase, this.supervisor?.snapshot() ?? []);
  }

  /**
   * SIGTERM: readiness fails from now on; the listeners keep serving until stop(), each response
   * closing its connection (a keep-alive client reconnects, through its balancer, elsewhere).
   */
  beginDrain(): void {
    if (this.phase === 'starting' || this.phase === 'serving') this.phase = 'draining';
    this.frontEnd?.beginDrain();
    this.loops?.drain();
    this.loops?.viewChanged();
  }

  /**
   * Once a second: each group's throughput, latency and capacity, for the charts. True when
   * nothing happened in that second (no request finished or in flight in any loop, nothing busy
   * or queued): the sampler then sleeps until something does.
   */
  private sample(): boolean {
    let quiet = true;
    for (const pool of this.supervisor?.snapshot() ?? []) {
      const { busy, capacity } = threadUse(pool.workers);
      const stats = this.statsFor(pool.label);
      const s = stats.sample(busy, capacity, pool.queueLength);
      if (s.requests > 0 || stats.allInflight > 0 || pool.queueLength > 0 || pool.workers.some((w) => w.busy > 0)) quiet = false;
    }
    return quiet;
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
      let listeners: Awaited<ReturnType<FrontEnd['prepareListeners']>>;
      try {
        plan = await load();
        const switched = this.loopCount > 1 ? ownSocketFolders(plan) : [];
        if (switched.length > 0) {
          throw new Error(
            `group(s) ${switched.join(', ')} would run as another user (user=/group=), with no root-owned system Python to bind their sockets, while ${this.loopCount} front-end loops serve; restart wsgi-host to serve them (with one loop)`,
          );
        }
        // Every certificate is read again; one that does not load refuses the reload (the old ones serve on).
        listeners = await this.frontEnd.prepareListeners(listenerSet(plan.config, plan.baseDir));
        next = new Supervisor(plan, await resolveEnvironments(plan), this.log, this.supervisor, this.shared, this.sampler.wake);
        await next.start();
      } catch (err) {
        const message = `reload refused, the running configuration keeps serving: ${describeFailure(err)}`;
        this.log.error(message);
        return { ok: false, message };
      }
      const listenNote = await this.frontEnd.reconfigure(
        buildRoutes(plan, next.ports(), this.statsFor),
        plan.config.limits,
        this.listenerProbe(plan),
        listeners,
      );
      const previous = this.supervisor;
      this.supervisor = next;
      if (frontEndCount(plan.config) !== frontEndCount(this.plan.config))
        this.log.warn('front-ends changed: it applies when wsgi-host restarts, not on reload');
      this.plan = plan;
      await this.loops?.reload(plan, this.frontEnd.bindings());
      const message = `reloaded: ${previous.handOver(next)}${listenNote ? `; ${listenNote}` : ''}`;
      this.log.info(message);
      return { ok: true, message };
    } finally {
      this.reloading = false;
    }
  }

  /** Stop accepting, let requests in flight finish within graceMs, stop the workers. */
  async stop(graceMs: number): Promise<void> {
    this.beginDrain();
    this.sampler.stop();
    await Promise.all([this.frontEnd?.close(graceMs), this.loops?.stop(graceMs)]);
    await this.supervisor?.stop(Math.max(1000, graceMs));
    this.phase = 'stopped';
  }
}

function describeFailure(err: unknown): string {
  const e = err as { code?: string; where?: string; source?: { file?: string; line?: number } };
  const where = e.where ?? (e.source?.file ? `${e.source.file}${e.source.line ? `:${e.source.line}` : ''}` : undefined);
  return `${e.code ? `[${e.code}] ` : ''}${where ? `${where}: ` : ''}${describeError(err)}`;
}

function logNotes(log: Logger, notes: LoadedConfig['notes']): void {
  for (const n of notes) {
    const where = formatSource(n.file ? { file: n.file, ...(n.line !== undefined ? { line: n.line } : {}) } : undefined);
    log[n.kind === 'ignored' || n.kind === 'info' ? 'info' : 'warn']({ note: n.kind }, `${where ? `${where}: ` : ''}${n.message}`);
  }
}

/**
 * Runs a server until SIGTERM or SIGINT; returns the exit status. SIGHUP (or wsgi-host reload)
 * reloads, SIGUSR1 reopens the log files.
 */
export async function runServer(
  plan: ServePlan,
  loaded: LoadedConfig,
  adminAt: AdminTarget,
  reloadPlan: () => Promise<{ plan: ServePlan; notes: LoadedConfig['notes'] }>,
): Promise<number> {
  const log = createLogger({ level: plan.config.log.level, format: plan.config.log.format, destination: plan.config.log.error });
  installUnhandledErrorHandlers(log);
  logNotes(log, loaded.notes);
  const server = new WsgiHostServer(plan, log, loaded.label);
  const adminAddress = serveAddress(adminAt);
  const admin = new AdminServer(adminAddress, adminAt.token, log, {
    alreadyServingHint: alreadyServingHint(adminAt),
    privateSocket: adminAt.listen.kind === 'auto',
  });
  const addresses = await server.start();
  try {
    const where = await admin.listen();
    if (where) log.info(`admin listener on ${where}`);
    if (where && adminAddress.kind === 'tcp') log.info(`status page ${where}/ (metrics ${where}/metrics)`);
  } catch (err) {
    await server.stop(0);
    throw err;
  }
  const accessLog = plan.config.log.access === 'off' ? undefined : new AccessLog(plan.config.log.access, plan.config.log.accessFormat);
  if (accessLog !== undefined) {
    server.accessLine = (line) => accessLog.writeLine(line);
    subscribe(REQUEST_FINISH_CHANNEL, (record) => {
      try {
        accessLog.write(record as AccessRecord);
      } catch (err) {
        // The request is over; only its access log line failed.
        countFault('request');
        log.error({ err, requestId: (record as AccessRecord).requestId }, 'internal error while writing the access log line of this request');
      }
    });
  }
  const reload = (): Promise<ReloadResult> =>
    server.reload(async () => {
      const next = await reloadPlan();
      logNotes(log, next.notes);
      const l = next.plan.config.log;
      if (l.access !== plan.config.log.access || l.accessFormat !== plan.config.log.accessFormat || l.error !== plan.config.log.error) {
        log.warn('log settings changed: they apply when wsgi-host restarts, not on reload');
      }
      const ad = next.plan.config.admin;
      if (ad.listen !== plan.config.admin.listen || ad.token !== plan.config.admin.token) {
        log.warn(`admin settings changed: they apply when wsgi-host restarts; the admin listener stays on ${describeAdmin(adminAddress)}`);
      }
      return next.plan;
    });
  addAdminRoutes(admin, { snapshot: () => server.snapshot(), readiness: () => server.readiness(), reload });
  // Where it serves is shown whatever --log-level says (as mod_wsgi-express always prints its URL).
  const startup = log.isLevelEnabled('info') ? log : log.child({}, { level: 'info' });
  return new Promise((resolve) => {
    let stopping = false;
    /**
     * SIGTERM: readiness fails at once (/readyz answers 503), the listeners keep serving for
     * shutdown.readiness-delay so that load balancers stop sending first, then they close and
     * requests in flight get graceful-timeout; the admin listener (and its probes) closes last.
     * SIGINT (Ctrl-C) skips the delay.
     */
    const stop = (signal: string): void => {
      if (stopping) {
        log.warn(`${signal} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      server.beginDrain();
      const grace = Math.max(...server.snapshot().pools.map((p) => p.settings.gracefulTimeout)) * 1000;
      const delay = signal === 'SIGTERM' ? server.config.shutdown.readinessDelay * 1000 : 0;
      if (delay > 0) {
        log.info(
          `${signal}: not ready from now on (/readyz answers 503); the listeners keep serving for ${delay / 1000}s (shutdown.readiness-delay), then close, and requests in flight get up to ${grace / 1000}s`,
        );
      } else {
        log.info(`${signal}: finishing requests in flight (up to ${grace / 1000}s), then stopping`);
      }
      new Promise<void>((r) => setTimeout(r, delay))
        .then(() => {
          if (delay > 0) log.info('readiness delay over: closing the listeners');
          return server.stop(grace);
        })
        .then(() => admin.close())
        .then(() => accessLog?.flush())
        .then(
          () => {
            log.info('stopped');
            resolve(0);
          },
          (err: unknown) => {
            log.error({ err }, 'error while stopping');
            resolve(1);
          },
        );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGUSR1', () => {
      log.info('SIGUSR1: reopening the log files');
      accessLog?.reopen();
      reopenErrorLog();
    });
    process.on('SIGHUP', () => {
      log.info('SIGHUP: reloading the configuration');
      void reload();
    });
    // Said once the signals are handled: whoever waits for this line may send SIGTERM at once.
    for (const line of servingLines(plan, addresses))
      startup.info({ listen: line.listen }, `wsgi-host serving ${line.url}${line.what ? ` (${line.what})` : ''}`);
  });
}

/**
 * The groups (quoted labels) whose workers would bind their sockets in folders of their own users:
 * they run as another user while this process is root, and no root-owned system Python exists to
 * run the launcher that binds them in the front end's folder (worker-launch.ts).
 */
function ownSocketFolders(plan: ServePlan): string[] {
  if (process.getuid?.() !== 0 || launcherForEveryInterpreter()) return [];
  return plan.pools.filter((p) => p.settings.user !== undefined || p.settings.group !== undefined).map((p) => `'${p.label}'`);
}
