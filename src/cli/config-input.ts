import { ConfigError, ConfigErrorCode as C } from '../config/errors.js';
import { collapseHostAddresses } from '../config/listen-override.js';
import { type LoadedConfig, locateError } from '../config/loaded-config.js';
import { loadTomlConfig } from '../config/toml-file.js';
import { validateConfig } from '../config/validate.js';
import { type PlanOptions, planServer, type ServePlan } from '../config/plan.js';
import { intFlag, type OptionSpec } from './args.js';
import { frontEndsFlag, logFlags, SCRIPT_FLAGS, scriptFlagsToConfig } from './script-flags.js';

/** Flags that choose the configuration: a TOML file, an Apache file, or SCRIPT with flags. */
export const INPUT_OPTIONS: OptionSpec = {
  config: { type: 'string', short: 'c' },
  apache: { type: 'string' },
  define: { type: 'string', short: 'D', multiple: true },
  'accept-apache-differences': { type: 'boolean' },
  ...SCRIPT_FLAGS,
};

/** Flags that may adjust a file's configuration (tests and one-off runs use --port 0). */
const OVERRIDES = new Set([
  'host',
  'port',
  'access-log',
  'log-level',
  'log-format',
  'reload-on-changes',
  'front-ends',
  'config',
  'apache',
  'define',
  'help',
  'json',
  'accept-apache-differences',
]);

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * The configuration the flags choose. With `errors` (wsgi-host check), a TOML file's validation
 * errors are collected there and the rest of the file is returned, so every error shows at once.
 */
export async function loadInput(command: string, v: Values, positionals: string[], errors?: ConfigError[]): Promise<LoadedConfig> {
  const file = v.config as string | undefined;
  const apache = v.apache as string | undefined;
  if (file !== undefined && apache !== undefined) {
    throw new ConfigError(C.BAD_FLAG, `'wsgi-host ${command}' takes -c FILE or --apache FILE, not both`, { hint: 'Choose one configuration' });
  }
  if (file === undefined && apache === undefined) return scriptFlagsToConfig(command, v, positionals);
  if (positionals.length > 0) {
    throw new ConfigError(C.BAD_FLAG, `'wsgi-host ${command}' with ${file ? '-c' : '--apache'} takes no SCRIPT (got ${positionals.join(' ')})`, {
      hint: 'Mount applications in the configuration file',
    });
  }
  for (const [k, val] of Object.entries(v)) {
    if (val !== undefined && !OVERRIDES.has(k)) {
      throw new ConfigError(C.BAD_FLAG, `--${k} cannot be combined with ${file ? '-c' : '--apache'}`, {
        hint: `Set it in ${file ?? apache} instead (only --host, --port and the logging flags adjust a file's settings)`,
      });
    }
  }
  const accept = v['accept-apache-differences'] === true;
  if (accept && apache === undefined) {
    throw new ConfigError(C.BAD_FLAG, '--accept-apache-differences goes with --apache', {
      hint: 'Leave it out: it is about Apache directives wsgi-host cannot honour',
    });
  }
  const loaded =
    file !== undefined
      ? loadTomlConfig(file, errors)
      : (await import('../config/apache-file.js')).loadApacheConfig(apache as string, (v.define as string[] | undefined) ?? [], {
          acceptDifferences: accept,
          refuse: command !== 'check',
          listenGiven: v.host !== undefined || v.port !== undefined,
          ...(errors !== undefined ? { errors } : {}),
        });
  applyOverrides(loaded, v, accept);
  return loaded;
}

function applyOverrides(loaded: LoadedConfig, v: Values, accept: boolean): void {
  const c = loaded.config;
  const port = intFlag('port', v.port as string | undefined, 0, 65535);
  const host = v.host as string | undefined;
  if (port !== undefined || host !== undefined) {
    // A validated config has at least one listener: the flags replace all of them with one (which
    // keeps the first one's other settings: tls, proxy-protocol).
    const first = c.listen[0] as (typeof c.listen)[number];
    c.listen = [{ ...first, host: host ?? first.host, port: port ?? first.port }];
    collapseHostAddresses(loaded, accept);
  }
  c.log = validateConfig({ log: { ...c.log, ...logFlags(v) } }).log;
  if (v['reload-on-changes']) c.reloadOnChanges = true;
  const loops = frontEndsFlag(v['front-ends'] as string | undefined);
  if (loops !== undefined) c.frontEnds = loops;
}

/** How a loaded configuration is planned: its names for settings, where values are, sys.path. */
export function planOptions(loaded: LoadedConfig): PlanOptions {
  return {
    homeSetting: loaded.homeSetting,
    locate: loaded.describer.locate,
    ...(loaded.addWorkingDirectory ? { addWorkingDirectory: true } : {}),
  };
}

/** The plan for a loaded configuration; errors about model paths get their file and line. */
export function planLoaded(loaded: LoadedConfig): ServePlan {
  try {
    return planServer(loaded.config, loaded.baseDir, planOptions(loaded));
  } catch (err) {
    throw locateError(err, loaded.describer);
  }
}
