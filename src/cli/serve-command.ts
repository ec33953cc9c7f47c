import { describeAdmin } from '../admin/admin-address.js';
import { AdminServer, sendJson } from '../admin/admin-server.js';
import { type AdminTarget, alreadyServingHint, serveAddress } from '../admin/admin-target.js';
import { addHealthRoutes } from '../admin/health-routes.js';
import { formatSource, type LoadedConfig } from '../config/loaded-config.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AccessLog } from '../observability/access-log.js';
import { createLogger, type Logger, reopenErrorLog } from '../observability/logger.js';
import { installUnhandledErrorHandlers } from '../observability/unhandled-errors.js';
import type { Registry } from 'prom-client';
import { statusReport } from '../admin/status-report.js';
import { packageRoot } from '../util/package-info.js';
import { ExchangeRecord } from '../http/access-record.js';
import { WsgiHostServer } from '../server.js';
import type { ServePlan } from '../config/plan.js';
import { ADMIN_FLAGS, ADMIN_FLAGS_HELP, adminTarget, takeAdminFlags } from './admin-flags.js';
import { parseCommand } from './args.js';
import { servingLines } from './serving-lines.js';
import { INPUT_OPTIONS, loadInput, planLoaded } from './config-input.js';

/** The live status page, served by the admin listener at / (plain HTML and script, no build step). */
const STATUS_PAGE = join(packageRoot(), 'status-page', 'index.html');

export const SERVE_HELP = `Usage: wsgi-host serve SCRIPT [options]
       wsgi-host serve -c wsgi-host.toml [--host H] [--port P] [--admin WHERE]
       wsgi-host serve --apache site.conf [-D NAME] [--host H] [--port P] [--admin WHERE]

Serve a WSGI application: SCRIPT is a WSGI script file (loaded as mod_wsgi loads it) or
package.module:callable (imported as gunicorn imports it). Or serve every application of a
wsgi-host.toml file, or of an Apache mod_wsgi configuration.

Configuration:
  -c, --config FILE        a wsgi-host.toml (see docs/configuration.md)
  --apache FILE            an Apache configuration using mod_wsgi (WSGIScriptAlias, WSGIDaemonProcess...)
  -D, --define NAME        with --apache: define NAME for <IfDefine> (repeatable)
  --accept-apache-differences with --apache: serve even where Apache would restrict access or
                           route requests in ways wsgi-host cannot (redirects, rewrites, Require
                           user...); without it those directives stop the server (wsgi-host check
                           lists them)

Python environment (with SCRIPT):
  --python-home DIR        the application's virtual environment: its top directory (sys.prefix),
                           e.g. ./venv, never ./venv/bin/python. Default: $VIRTUAL_ENV when set,
                           else the python3 on PATH.
  --python-path DIR        put DIR at the front of sys.path, processing its .pth files
                           (repeatable; mod_wsgi's python-path)
  --working-directory DIR  the workers' current directory (default: this one); it is put first on
                           sys.path, as mod_wsgi-express does, so a Django project's package
                           imports when served from the project folder
  --setenv KEY=VALUE       set KEY in the workers' os.environ and in each request's environ
                           (repeatable)

Application (with SCRIPT):
  --callable NAME          the WSGI callable in SCRIPT (default: application)
  --mount /PREFIX          URL prefix to mount the application at (default: /)

Processes (with SCRIPT):
  --processes N            worker processes (default: a dynamic pool of 1 to max(2, cores),
                           started when requests wait and stopped when idle)
  --threads N              threads per process: requests each serves at once (default: 5)

Listening:
  --host HOST              address to listen on (default: 127.0.0.1)
  --port PORT              port to listen on (default: 8000; 0 picks a free one)

${ADMIN_FLAGS_HELP}
Development:
  --reload-on-changes      restart a group when a Python file its processes loaded changes

Logging:
  --access-log FILE        write the access log (Apache's combined format) to FILE; '-' for stdout,
                           'off' for none. Default with SCRIPT: stdout; with -c or --apache: the
                           file's [log] access (off unless set)
  --log-level LEVEL        debug, info, warn or error (default: info)
  --log-format FORMAT      pretty, json or auto (default: auto, pretty on a terminal, json otherwise)

  -h, --help               show this help

Exit status: 0 after SIGTERM or SIGINT (requests in flight finished), 1 when it could not start
(a python-home, an application, a listener) or stopped on an error, 2 when the command line or the
configuration is invalid (nothing was started).
`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('serve', argv, { ...INPUT_OPTIONS, ...ADMIN_FLAGS, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const adminFlags = takeAdminFlags(values);
  const load = async (): Promise<{ loaded: LoadedConfig; plan: ServePlan }> => {
    const loaded = await loadInput('serve', values, positionals);
    return { loaded, plan: planLoaded(loaded) };
  };
  const { loaded, plan } = await load();
  return runServer(plan, loaded, adminTarget(loaded, values, adminFlags, 'serve'), async () => {
    const next = await load();
    return { plan: next.plan, notes: next.loaded.notes };
  });
}

function logNotes(log: Logger, notes: LoadedConfig['notes']): void {
  for (const n of notes) {
    const where = formatSource(n.file ? { file: n.file, ...(n.line !== undefined ? { line: n.line } : {}) } : undefined);
    log[n.kind === 'ignored' || n.kind === 'info' ? 'info' : 'warn']({ note: n.kind }, `${where ? `${where}: ` : ''}${n.message}`);
  }
}

/** Runs until SIGTERM or SIGINT; returns the exit status. SIGHUP (or wsgi-host reload) reloads. */
export async function runServer(
  plan: ServePlan,
  loaded: LoadedConfig,
  adminAt: AdminTarget,
  reloadPlan: () => Promise<{ plan: ServePlan; notes: LoadedConfig['notes'] }>,
): Promise<number> {
  const log = createLogger({ level: plan.config.log.level, format: plan.config.log.format, destination: plan.config.log.error });
  installUnhandledErrorHandlers(log);
  logNotes(log, loaded.notes);
  const server = new WsgiHostServer(plan, log);
  const adminAddress = serveAddress(adminAt);
  const admin = new AdminServer(adminAddress, adminAt.token, log, { alreadyServingHint: alreadyServingHint(adminAt), privateSocket: adminAt.listen.kind === 'auto' });
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
  if (accessLog) server.onRequestFinished = (ex) => accessLog.write(new ExchangeRecord(ex));
  const reload = () =>
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
  // prom-client costs ~12 MB: loaded on the first scrape, not at start.
  let metrics: Promise<Registry> | undefined;
  admin.route('GET', '/ping', (_req, res) => sendJson(res, 200, { ok: true }));
  addHealthRoutes(admin, () => server.readiness());
  admin.route('POST', '/reload', async (_req, res) => {
    const r = await reload();
    sendJson(res, r.ok ? 200 : 409, r);
  });
  admin.route('GET', '/status', async (_req, res) => sendJson(res, 200, await statusReport(server, loaded.label)));
  admin.route('GET', '/metrics', async (_req, res) => {
    metrics ??= import('../admin/metrics.js').then((m) => m.createMetrics(server));
    const registry = await metrics;
    const text = await registry.metrics();
    res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
    res.end(text);
  });
  admin.route('GET', '/', async (_req, res) => {
    const page = await readFile(STATUS_PAGE, 'utf8');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(page);
  });
  // Where it serves is shown whatever --log-level says (as mod_wsgi-express always prints its URL).
  const startup = log.isLevelEnabled('info') ? log : log.child({}, { level: 'info' });
  for (const line of servingLines(plan, addresses)) startup.info({ listen: line.listen }, `wsgi-host serving ${line.url}${line.what ? ` (${line.what})` : ''}`);
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
      const grace = Math.max(...server.currentPlan.pools.map((p) => p.settings.gracefulTimeout)) * 1000;
      const delay = signal === 'SIGTERM' ? server.config.shutdown.readinessDelay * 1000 : 0;
      if (delay > 0) {
        log.info(`${signal}: not ready from now on (/readyz answers 503); the listeners keep serving for ${delay / 1000}s (shutdown.readiness-delay), then close, and requests in flight get up to ${grace / 1000}s`);
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
  });
}
