import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, ConfigErrorCode as C, type ConfigSource } from './errors.js';
import { refusePendingFeatures } from './pending-features.js';
import type { DotfilesSetting, EncodedSlashesSetting, GroupSettings, MountConfig, ServerConfig, StaticConfig } from './schema.js';
import { normalizePrefix } from './url-prefix.js';

export interface AppPlan {
  kind: 'script' | 'module';
  /** Absolute script path, or 'package.module:callable'. */
  target: string;
  callable: string;
  environ: Record<string, string>;
}

/** One pool of processes: a process group, or one application group inside it. */
export interface PoolPlan {
  key: string;
  /** The process group's name; undefined for the default group. */
  group: string | undefined;
  applicationGroup: string;
  /** 'name' or 'name/application-group'; '(default)' for the default group. */
  label: string;
  settings: GroupSettings;
  /** How python-home is named in messages ('--python-home', "WSGIDaemonProcess x python-home="...). */
  homeSetting: string;
  /** Where that python-home is in the config model. */
  homePath: (string | number)[];
  apps: AppPlan[];
  cwd: string;
  env: Record<string, string>;
  addWorkingDirectory: boolean;
}

export interface MountPlan {
  /** Index into hosts; undefined for a server-wide mount. */
  host: number | undefined;
  prefix: string;
  pool: string;
  appIndex: number;
  passAuthorization: boolean;
  /** Where the mount is in the config model, for messages. */
  path: (string | number)[];
}

export interface StaticPlan {
  host: number | undefined;
  prefix: string;
  directory: string;
  dotfiles: DotfilesSetting;
  /** Where the static alias is in the config model. */
  path: (string | number)[];
}

export interface HostPlan {
  serverName: string;
  names: string[];
  /** AllowEncodedSlashes in this host (its own, else the server-wide one). */
  encodedSlashes: EncodedSlashesSetting;
}

export interface ServePlan {
  config: ServerConfig;
  /** Where a model path came from (file:line), for messages about it. */
  locate: (path: (string | number)[]) => ConfigSource | undefined;
  pools: PoolPlan[];
  mounts: MountPlan[];
  statics: StaticPlan[];
  hosts: HostPlan[];
  defaultHost: number;
}

export const DEFAULT_GROUP_LABEL = '(default)';
export const GLOBAL_APPLICATION_GROUP = '%{GLOBAL}';

/**
 * Turns a validated config into what runs: pools of processes and the routes to them. Relative
 * paths are taken from baseDir (the config file's folder, or the current directory for flags).
 */
export interface PlanOptions {
  /** How the input names a group's python-home in messages; the default group has no name. */
  homeSetting?: (group: string | undefined) => string;
  locate?: (path: (string | number)[]) => ConfigSource | undefined;
  /** Every group's working directory goes on sys.path (module targets always have it). */
  addWorkingDirectory?: boolean;
  /**
   * Collect errors here instead of throwing the first (wsgi-host check): a mount or group in error
   * is left out of the plan and the rest is planned.
   */
  errors?: ConfigError[];
}

export function planServer(config: ServerConfig, baseDir: string, options: PlanOptions = {}): ServePlan {
  refusePendingFeatures(config);
  const homeName = options.homeSetting ?? ((g: string | undefined) => (g === undefined ? 'python-home' : `python-home of group '${g}'`));
  const collected = options.errors;
  /** Runs one step of planning; with options.errors, its ConfigError is collected, not thrown. */
  const step = (fn: () => void): void => {
    if (collected === undefined) return fn();
    try {
      fn();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      collected.push(err);
    }
  };
  const groups = new Map<string, { settings: GroupSettings; index: number }>();
  config.group.forEach((g, index) => {
    if (groups.has(g.name)) {
      step(() => {
        throw new ConfigError(C.DUPLICATE_GROUP, `process group '${g.name}' is defined twice`, {
          path: ['group', index, 'name'],
          hint: `Give each group its own name, or merge the two definitions of '${g.name}'`,
        });
      });
      return;
    }
    const { name: _name, ...settings } = g;
    groups.set(g.name, { settings, index });
  });
  const pools = new Map<string, PoolPlan>();
  const mounts: MountPlan[] = [];
  const statics: StaticPlan[] = [];
  const hosts: HostPlan[] = [];
  let defaultHost = 0;

  const addMount = (m: MountConfig, host: number | undefined, path: (string | number)[]): void => {
    if ((m.script === undefined) === (m.module === undefined)) {
      throw new ConfigError(
        C.MOUNT_TARGET,
        m.script === undefined ? `mount '${m.path}' names no application` : `mount '${m.path}' names both a script and a module`,
        { path, hint: "Give exactly one of script = 'app.wsgi' or module = 'package.module:callable'" },
      );
    }
    let app: AppPlan;
    if (m.script !== undefined) {
      const file = abs(baseDir, m.script);
      let isFile = false;
      try {
        isFile = statSync(file).isFile();
      } catch {
        /* reported below */
      }
      if (!isFile) {
        throw new ConfigError(C.SCRIPT_NOT_FOUND, `the WSGI script ${file} of mount '${m.path}' does not exist or is not a file`, {
          path: [...path, 'script'],
          hint: "Check the path; relative paths are taken from the config file's folder",
        });
      }
      app = { kind: 'script', target: file, callable: m.callable, environ: m.environ };
    } else {
      const spec = m.module as string;
      app = { kind: 'module', target: spec.includes(':') ? spec : `${spec}:${m.callable}`, callable: m.callable, environ: m.environ };
    }
    let settings: GroupSettings;
    let homePath: (string | number)[];
    if (m.group !== undefined) {
      const g = groups.get(m.group);
      if (g === undefined) {
        const known = [...groups.keys()];
        throw new ConfigError(C.UNKNOWN_GROUP, `mount '${m.path}' names process group '${m.group}', which is not defined`, {
          path: [...path, 'group'],
          hint: known.length ? `Define it, or use one of: ${known.join(', ')}` : `Define it with a [[group]] whose name = '${m.group}'`,
        });
      }
      // As in mod_wsgi, a daemon group without python-home runs the server-wide one (WSGIPythonHome).
      settings = g.settings.pythonHome !== undefined ? g.settings : { ...g.settings, pythonHome: config.pythonHome };
      homePath = g.settings.pythonHome !== undefined ? ['group', g.index, 'pythonHome'] : ['pythonHome'];
    } else {
      const d = config.defaultGroup;
      settings = { ...d, processes: d.processes ?? d.dynamic?.max ?? 1, pythonHome: config.pythonHome, pythonPath: config.pythonPath };
      homePath = ['pythonHome'];
    }
    const appGroup = m.applicationGroup;
    const key = `${m.group ?? ''}\0${appGroup}`;
    let pool = pools.get(key);
    if (pool === undefined) {
      const base = m.group ?? DEFAULT_GROUP_LABEL;
      const cwd = abs(baseDir, settings.workingDirectory ?? '.');
      const env: Record<string, string> = { ...settings.env };
      if (settings.lang !== undefined) env.LANG = settings.lang;
      if (settings.locale !== undefined) env.LC_ALL = settings.locale;
      pool = {
        key,
        group: m.group,
        applicationGroup: appGroup,
        label: appGroup === GLOBAL_APPLICATION_GROUP ? base : `${base}/${appGroup}`,
        settings: {
          ...settings,
          ...(settings.pythonHome !== undefined ? { pythonHome: abs(baseDir, settings.pythonHome) } : {}),
          pythonPath: settings.pythonPath.map((p) => abs(baseDir, p)),
        },
        homeSetting: homeName(homePath.length === 1 ? undefined : m.group),
        homePath,
        apps: [],
        cwd,
        env,
        addWorkingDirectory: options.addWorkingDirectory ?? false,
      };
      pools.set(key, pool);
    }
    let appIndex = pool.apps.findIndex((a) => a.kind === app.kind && a.target === app.target && a.callable === app.callable);
    if (appIndex < 0) {
      appIndex = pool.apps.push(app) - 1;
      if (app.kind === 'module') pool.addWorkingDirectory = true;
    }
    const prefix = normalizePrefix(m.path);
    const clash = mounts.find((x) => x.host === host && x.prefix === prefix);
    if (clash !== undefined) {
      throw new ConfigError(C.DUPLICATE_MOUNT, `two mounts at '${m.path || '/'}' in the same host`, {
        path: [...path, 'path'],
        hint: 'Remove one, or give them different URL prefixes',
      });
    }
    mounts.push({ host, prefix, pool: key, appIndex, passAuthorization: m.passAuthorization, path });
  };

  const addStatic = (s: StaticConfig, host: number | undefined, path: (string | number)[]): void => {
    statics.push({ host, prefix: normalizePrefix(s.path), directory: abs(baseDir, s.directory), dotfiles: s.dotfiles, path });
  };

  config.mount.forEach((m, i) => {
    step(() => addMount(m, undefined, ['mount', i]));
  });
  config.static.forEach((s, i) => {
    addStatic(s, undefined, ['static', i]);
  });
  config.host.forEach((h, i) => {
    hosts.push({ serverName: h.serverName, names: [h.serverName, ...h.aliases], encodedSlashes: h.allowEncodedSlashes ?? config.allowEncodedSlashes });
    if (h.default) defaultHost = i;
    h.mount.forEach((m, j) => {
      step(() => addMount(m, i, ['host', i, 'mount', j]));
    });
    h.static.forEach((s, i2) => {
      addStatic(s, i, ['host', i, 'static', i2]);
    });
  });
  if (mounts.length === 0 && statics.length === 0 && !(collected !== undefined && collected.length > 0)) {
    throw new ConfigError(C.NO_MOUNTS, 'the configuration mounts no application', {
      path: ['mount'],
      hint: "Add a [[mount]] with path = '/' and script = 'app.wsgi' (or module = 'package.module:app')",
    });
  }
  return { config, locate: options.locate ?? (() => undefined), pools: [...pools.values()], mounts, statics, hosts, defaultHost };
}

function abs(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}
