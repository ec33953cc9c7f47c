import { existsSync, statSync } from 'node:fs';
import { ConfigError, ConfigErrorCode as C } from '../config/errors.js';
import type { LoadedConfig } from '../config/loaded-config.js';
import { LogSchema, type ServerConfigInput } from '../config/schema.js';
import { validateConfig } from '../config/validate.js';
import { intFlag, type OptionSpec } from './args.js';

/** `wsgi-host serve SCRIPT` flags, modelled on mod_wsgi-express and gunicorn. */
export const SCRIPT_FLAGS: OptionSpec = {
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
  certificate: { type: 'string' },
  'private-key': { type: 'string' },
  'certificate-chain': { type: 'string' },
  'https-port': { type: 'string' },
  'access-log': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'reload-on-changes': { type: 'boolean' },
  'front-ends': { type: 'string' },
  // the front door (mod_wsgi-express's --compress-responses, --trust-proxy, --trust-proxy-header)
  compress: { type: 'boolean' },
  'trust-proxy': { type: 'string', multiple: true },
  'trust-proxy-header': { type: 'string', multiple: true },
};

const MODULE_SPEC = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(:.+)?$/;

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
  env: '--setenv',
  environ: '--setenv',
  certificate: '--certificate',
  privateKey: '--private-key',
  certificateChain: '--certificate-chain',
  compress: '--compress',
  trustedProxies: '--trust-proxy',
  trustedProxyHeaders: '--trust-proxy-header',
};

type Values = Record<string, string | boolean | string[] | undefined>;

export function scriptFlagsToConfig(command: string, v: Values, positionals: string[]): LoadedConfig {
  if (positionals.length !== 1) {
    throw new ConfigError(
      C.BAD_FLAG,
      positionals.length === 0
        ? `'wsgi-host ${command}' needs the application (a WSGI script file or package.module:callable), or -c FILE, or --apache FILE`
        : `'wsgi-host ${command}' takes one application, got ${positionals.length}: ${positionals.join(' ')}`,
      { hint: `Example: wsgi-host ${command} app.wsgi   or   wsgi-host ${command} mysite.wsgi:application   or   wsgi-host ${command} -c wsgi-host.toml` },
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
    if (eq <= 0) throw new ConfigError(C.BAD_FLAG, `--setenv '${kv}' is not KEY=VALUE`, { hint: 'Write --setenv NAME=value' });
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const port = intFlag('port', v.port as string | undefined, 0, 65535);
  const processes = intFlag('processes', v.processes as string | undefined, 1, 1024);
  const threads = intFlag('threads', v.threads as string | undefined, 1, 1024);
  const input: ServerConfigInput = {
    listen: listenFlags(v, port),
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
        ...(v.compress ? { compress: true } : {}),
      },
    ],
    trustedProxies: (v['trust-proxy'] as string[] | undefined) ?? [],
    trustedProxyHeaders: (v['trust-proxy-header'] as string[] | undefined) ?? [],
    // serve SCRIPT logs each request to stdout (combined format) unless --access-log says otherwise.
    log: { access: '-', ...logFlags(v) },
    ...(v['reload-on-changes'] ? { reloadOnChanges: true } : {}),
    ...(v['front-ends'] !== undefined ? { frontEnds: frontEndsFlag(v['front-ends'] as string) } : {}),
  };
  const describer = {
    keyName: (path: (string | number)[]) => FLAG_FOR[String(path[path.length - 1])] ?? path.join('.'),
    locate: (path: (string | number)[]) => {
      const flag = FLAG_FOR[String([...path].reverse().find((p) => typeof p === 'string' && FLAG_FOR[p]))];
      return flag === undefined ? undefined : { key: flag };
    },
  };
  return {
    config: validateConfig(input, describer),
    baseDir: process.cwd(),
    describer,
    notes: [],
    homeSetting: () => '--python-home',
    label: 'command-line flags',
    addWorkingDirectory: true,
    // Servers started with flags are told apart by their address (and, for --port 0, their pid).
    identity: `flags:${input.listen?.[0] ? JSON.stringify(input.listen[0]) : ''}${port === 0 ? `:${process.pid}` : ''}`,
  };
}

/**
 * The listeners the flags ask for: --host and --port, speaking TLS with --certificate and
 * --private-key; with --https-port too, --port stays plain HTTP and a TLS listener is added on
 * --https-port (as mod_wsgi-express's --https-port).
 */
function listenFlags(v: Values, port: number | undefined): NonNullable<ServerConfigInput['listen']> {
  const host = (v.host as string | undefined) ?? '127.0.0.1';
  const certificate = v.certificate as string | undefined;
  const privateKey = v['private-key'] as string | undefined;
  const chain = v['certificate-chain'] as string | undefined;
  const httpsPort = intFlag('https-port', v['https-port'] as string | undefined, 0, 65535);
  if ((certificate === undefined) !== (privateKey === undefined)) {
    throw new ConfigError(
      C.BAD_FLAG,
      `${certificate === undefined ? '--private-key' : '--certificate'} needs ${certificate === undefined ? '--certificate' : '--private-key'}`,
      {
        hint: 'Give the certificate (PEM) and its private key (PEM, unencrypted) together: --certificate site.crt --private-key site.key',
      },
    );
  }
  if (certificate === undefined && (chain !== undefined || httpsPort !== undefined)) {
    throw new ConfigError(C.BAD_FLAG, `${chain !== undefined ? '--certificate-chain' : '--https-port'} needs --certificate and --private-key`, {
      hint: 'Add --certificate site.crt --private-key site.key',
    });
  }
  const plain = { host, port: port ?? 8000 };
  if (certificate === undefined || privateKey === undefined) return [plain];
  const tls = { certificate, privateKey, ...(chain !== undefined ? { certificateChain: chain } : {}) };
  if (httpsPort === undefined) return [{ ...plain, tls }];
  return [plain, { host, port: httpsPort, tls }];
}

/** The values the configuration's [log] level and format take: the flags take the same. */
const LOG_LEVELS: readonly string[] = LogSchema.shape.level.unwrap().options;
const LOG_FORMATS: readonly string[] = LogSchema.shape.format.unwrap().options;

function oneOf(flag: string, what: string, value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) {
    throw new ConfigError(C.BAD_FLAG, `${flag} '${value}' is not a ${what}`, {
      hint: `Use ${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}`,
    });
  }
  return value;
}

export function logFlags(v: Values): Record<string, string> {
  const out: Record<string, string> = {};
  if (v['access-log'] !== undefined) out.access = v['access-log'] as string;
  if (v['log-level'] !== undefined) out.level = oneOf('--log-level', 'level', v['log-level'] as string, LOG_LEVELS);
  if (v['log-format'] !== undefined) out.format = oneOf('--log-format', 'format', v['log-format'] as string, LOG_FORMATS);
  return out;
}

/** --front-ends N|auto. */
export function frontEndsFlag(text: string | undefined): number | 'auto' | undefined {
  if (text === undefined || text === 'auto') return text;
  return intFlag('front-ends', text, 1, 64);
}
