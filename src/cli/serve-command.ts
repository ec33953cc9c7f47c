import { existsSync, statSync } from 'node:fs';
import { ConfigError, ConfigErrorCode as C } from '../config/errors.js';
import type { ServerConfigInput } from '../config/schema.js';
import { validateConfig } from '../config/validate.js';
import { createLogger } from '../observability/logger.js';
import { WsgiHostServer } from '../server.js';
import { planServer } from '../supervisor/plan.js';
import { intFlag, type OptionSpec, parseCommand } from './args.js';

export const SERVE_HELP = `Usage: wsgi-host serve SCRIPT [options]

Serve a WSGI application. SCRIPT is a WSGI script file (loaded as mod_wsgi loads it) or
package.module:callable (imported as gunicorn imports it).

Python environment:
  --python-home DIR        the application's virtual environment: its top directory (sys.prefix),
                           e.g. ./venv, never ./venv/bin/python. Default: $VIRTUAL_ENV when set,
                           else the python3 on PATH.
  --python-path DIR        put DIR at the front of sys.path, processing its .pth files
                           (repeatable; mod_wsgi's python-path)
  --working-directory DIR  the workers' current directory (default: this one)
  --setenv KEY=VALUE       set KEY in the workers' os.environ and in each request's environ
                           (repeatable)

Application:
  --callable NAME          the WSGI callable in SCRIPT (default: application)
  --mount /PREFIX          URL prefix to mount the application at (default: /)

Processes:
  --processes N            worker processes (default: 1)
  --threads N              threads per process: requests each serves at once (default: 5)

Listening:
  --host HOST              address to listen on (default: 127.0.0.1)
  --port PORT              port to listen on (default: 8000; 0 picks a free one)

Logging:
  --access-log FILE        write an access log to FILE ('-' for stdout)
  --log-level LEVEL        debug, info, warn or error (default: info)
  --log-format FORMAT      pretty or json (default: pretty on a terminal, json otherwise)

  -h, --help               show this help
`;

const OPTIONS: OptionSpec = {
  'python-home': { type: 'string' },
  'python-path': { type: 'string', multiple: true },
  'working-directory': { type: 'string' },
  setenv: { type: 'string', multiple: true },
  callable: { type: 'string' },
  mount: { type: 'string' },
  processes: { type: 'string' },
  threads: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'access-log': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const MODULE_SPEC = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(:.+)?$/;

/** `wsgi-host serve` flags, translated into the config model. */
export function serveFlagsToConfig(argv: string[]): ServerConfigInput | 'help' {
  const { values: v, positionals } = parseCommand('serve', argv, OPTIONS, true);
  if (v.help) return 'help';
  if (positionals.length !== 1) {
    throw new ConfigError(
      C.BAD_FLAG,
      positionals.length === 0 ? "'wsgi-host serve' needs the application: a WSGI script file or package.module:callable" : `'wsgi-host serve' takes one application, got ${positionals.length}: ${positionals.join(' ')}`,
      { hint: 'Example: wsgi-host serve app.wsgi   or   wsgi-host serve mysite.wsgi:application' },
    );
  }
  const target = positionals[0] as string;
  const isFile = existsSync(target) && statSync(target).isFile();
  if (!isFile && (!MODULE_SPEC.test(target) || /\.(py|wsgi)$/.test(target))) {
    throw new ConfigError(C.SCRIPT_NOT_FOUND, `'${target}' is neither an existing WSGI script file nor a package.module:callable`, {
      hint: existsSync(target) ? `${target} is a directory; name the WSGI script inside it` : 'Check the path of the script',
    });
  }
  const env: Record<string, string> = {};
  for (const kv of (v.setenv as string[] | undefined) ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) {
      throw new ConfigError(C.BAD_FLAG, `--setenv '${kv}' is not KEY=VALUE`, { hint: 'Write --setenv NAME=value' });
    }
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const port = intFlag('port', v.port as string | undefined, 0, 65535);
  const processes = intFlag('processes', v.processes as string | undefined, 1, 1024);
  const threads = intFlag('threads', v.threads as string | undefined, 1, 1024);
  const logLevel = v['log-level'] as string | undefined;
  if (logLevel !== undefined && !['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError(C.BAD_FLAG, `--log-level '${logLevel}' is not a level`, { hint: 'Use debug, info, warn or error' });
  }
  const logFormat = v['log-format'] as string | undefined;
  if (logFormat !== undefined && !['pretty', 'json'].includes(logFormat)) {
    throw new ConfigError(C.BAD_FLAG, `--log-format '${logFormat}' is not a format`, { hint: 'Use pretty or json' });
  }
  return {
    listen: [{ host: (v.host as string | undefined) ?? '127.0.0.1', port: port ?? 8000 }],
    ...(v['python-home'] !== undefined ? { pythonHome: v['python-home'] as string } : {}),
    pythonPath: (v['python-path'] as string[] | undefined) ?? [],
    defaultGroup: {
      ...(processes !== undefined ? { processes } : {}),
      ...(threads !== undefined ? { threads } : {}),
      ...(v['working-directory'] !== undefined ? { workingDirectory: v['working-directory'] as string } : {}),
      env,
    },
    mount: [
      {
        path: (v.mount as string | undefined) ?? '/',
        ...(isFile ? { script: target } : { module: target }),
        ...(v.callable !== undefined ? { callable: v.callable as string } : {}),
        environ: env,
      },
    ],
    log: {
      ...(v['access-log'] !== undefined ? { access: v['access-log'] as string } : {}),
      ...(logLevel !== undefined ? { level: logLevel as 'info' } : {}),
      ...(logFormat !== undefined ? { format: logFormat as 'json' } : {}),
    },
  };
}

const FLAG_FOR: Record<string, string> = {
  pythonHome: '--python-home',
  pythonPath: '--python-path',
  port: '--port',
  host: '--host',
  processes: '--processes',
  threads: '--threads',
  workingDirectory: '--working-directory',
  callable: '--callable',
  path: '--mount',
};

export async function serveCommand(argv: string[]): Promise<number> {
  const input = serveFlagsToConfig(argv);
  if (input === 'help') {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const config = validateConfig(input, {
    keyName: (path) => FLAG_FOR[String(path[path.length - 1])] ?? path.join('.'),
    locate: () => undefined,
  });
  const plan = planServer(config, process.cwd(), { homeSetting: () => '--python-home' });
  return runServer(plan);
}

/** Runs until SIGTERM or SIGINT; returns the exit status. */
export async function runServer(plan: ReturnType<typeof planServer>): Promise<number> {
  const log = createLogger({ level: plan.config.log.level, format: plan.config.log.format, destination: plan.config.log.error });
  const server = new WsgiHostServer(plan, log);
  const addresses = await server.start();
  for (const a of addresses) {
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    log.info(`wsgi-host serving http://${host}:${a.port}/`);
  }
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        log.warn(`${signal} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      const grace = Math.max(...plan.pools.map((p) => p.settings.gracefulTimeout)) * 1000;
      log.info(`${signal}: finishing requests in flight (up to ${grace / 1000}s), then stopping`);
      server.stop(grace).then(
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
  });
}
