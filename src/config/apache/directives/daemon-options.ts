import { didYouMean } from '../../../util/did-you-mean.js';
import { ConfigError, ConfigErrorCode } from '../../errors.js';
import { GROUP_NAME, GroupSettingsSchema } from '../../schema.js';
import { ApacheErrorCode as E, apacheError, at, type Where } from '../errors.js';
import { type PathResolver, splitPathList } from '../paths.js';
import { type DirectiveNode, whereOf } from '../read/nodes.js';
import { expectArgs } from './args.js';
import { type Ctx, collecting, type DaemonGroup, type GroupField, type Site } from './site.js';

/**
 * WSGIDaemonProcess NAME option=value...: a process group of the model (group[]). The table below
 * says what each of mod_wsgi's options maps to (a field of the group, an environment variable of
 * its processes) or why it is not honoured; a new option is one row. The model names a group's
 * value back by its option (WSGIDaemonProcess blog processes=) through daemonOptionName.
 */

type Parser = 'count' | 'seconds' | 'text' | 'path' | 'paths' | 'displayName';

interface FieldOption {
  field: GroupField;
  parse: Parser;
  min?: number;
  max?: number;
}

interface EnvOption {
  env: string;
  parse: 'path';
}

interface UnhonouredOption {
  why: string;
}

export type DaemonOption = FieldOption | EnvOption | UnhonouredOption;

const APACHE_SOCKET = "it tunes the socket between Apache and mod_wsgi's daemon processes, which wsgi-host replaces with flow-controlled pipes of its own";

export const DAEMON_OPTIONS: Readonly<Record<string, DaemonOption>> = {
  processes: { field: 'processes', parse: 'count', min: 1, max: 1024 },
  threads: { field: 'threads', parse: 'count', min: 0, max: 1024 },
  home: { field: 'workingDirectory', parse: 'path' },
  user: { field: 'user', parse: 'text' },
  group: { field: 'group', parse: 'text' },
  'display-name': { field: 'displayName', parse: 'displayName' },
  lang: { field: 'lang', parse: 'text' },
  locale: { field: 'locale', parse: 'text' },
  'python-home': { field: 'pythonHome', parse: 'path' },
  'python-path': { field: 'pythonPath', parse: 'paths' },
  'python-eggs': { env: 'PYTHON_EGG_CACHE', parse: 'path' },
  'maximum-requests': { field: 'maximumRequests', parse: 'count', min: 0 },
  'inactivity-timeout': { field: 'inactivityTimeout', parse: 'seconds' },
  'request-timeout': { field: 'requestTimeout', parse: 'seconds' },
  'queue-timeout': { field: 'queueTimeout', parse: 'seconds' },
  'graceful-timeout': { field: 'gracefulTimeout', parse: 'seconds' },
  'startup-timeout': { field: 'startupTimeout', parse: 'seconds' },
  'shutdown-timeout': { field: 'shutdownTimeout', parse: 'seconds' },
  'restart-interval': { field: 'restartInterval', parse: 'seconds' },
  'supplementary-groups': { why: 'wsgi-host sets only the user and the primary group of its processes' },
  umask: { why: "wsgi-host's processes keep the umask wsgi-host was started with: set it where wsgi-host is started (e.g. UMask= in its systemd unit)" },
  chroot: { why: 'wsgi-host does not chroot its processes (mod_wsgi deprecates it too): run wsgi-host in a container instead' },
  'script-user': { why: 'wsgi-host does not check who owns a WSGI script file' },
  'script-group': { why: 'wsgi-host does not check the group of a WSGI script file' },
  'socket-user': { why: 'wsgi-host has no Apache-side UNIX socket whose owner could be set' },
  'listen-backlog': { why: "wsgi-host's processes do not listen on a socket: waiting requests queue in the front end, bounded by queueSize" },
  'socket-timeout': { why: `${APACHE_SOCKET}; a slow client is cut by limits.bodyTimeout` },
  'connect-timeout': { why: APACHE_SOCKET },
  'response-socket-timeout': { why: `${APACHE_SOCKET}; a slow client is cut by limits.bodyTimeout` },
  'send-buffer-size': { why: APACHE_SOCKET },
  'receive-buffer-size': { why: APACHE_SOCKET },
  'header-buffer-size': { why: "it sizes Apache's buffer for response headers, which wsgi-host does not have" },
  'response-buffer-size': { why: "wsgi-host's per-request flow-control window replaces Apache's response buffer" },
  'deadlock-timeout': { why: 'wsgi-host does not watch the Python GIL; request-timeout still replaces a process whose requests stop finishing' },
  'eviction-timeout': { why: 'wsgi-host gives in-flight requests graceful-timeout whatever the reason a process is replaced' },
  'interrupt-timeout': { why: 'wsgi-host does not inject an exception into a request that runs too long: after request-timeout it replaces the process' },
  'cpu-time-limit': { why: 'wsgi-host does not limit CPU time: use restart-interval or maximum-requests to recycle processes' },
  'cpu-priority': { why: 'wsgi-host does not renice its processes: start wsgi-host itself with the priority wanted (nice, or Nice= in systemd)' },
  'memory-limit': {
    why: "mod_wsgi's memory-limit is an address-space rlimit (RLIMIT_AS/RLIMIT_DATA) under which allocations fail, while wsgi-host's memoryLimit recycles a process whose resident memory (RSS) grows past it, a different thing: set memoryLimit in wsgi-host's own configuration if recycling is what you want",
  },
  'virtual-memory-limit': { why: 'wsgi-host sets no rlimits on its processes: set one where wsgi-host is started (ulimit -v, or LimitAS= in systemd)' },
  'stack-size': { why: "wsgi-host's threads use Python's default stack size (threading.stack_size() in the application can change it)" },
  'server-metrics': { why: 'wsgi-host has no Apache scoreboard for mod_wsgi.server_metrics() to read' },
  'switch-interval': { why: "wsgi-host leaves the GIL switch interval at Python's default: call sys.setswitchinterval() in the WSGI script instead" },
};

/** The option that sets a field of a group: 'home' for workingDirectory; undefined for none. */
export function daemonOptionName(field: string): string | undefined {
  return Object.entries(DAEMON_OPTIONS).find(([, o]) => 'field' in o && o.field === field)?.[0];
}

/** mod_wsgi's default threads per daemon process (wsgi-host's own default is lower). */
export const MOD_WSGI_DEFAULT_THREADS = 15;

export function daemonProcess(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 1, Infinity, 'WSGIDaemonProcess NAME [option=value ...]');
  const name = d.args[0] as string;
  if (!GROUP_NAME.test(name)) {
    throw apacheError(
      E.BAD_VALUE,
      `WSGIDaemonProcess '${name}': a process group name may use letters, digits and _ . : @ - only`,
      d,
      'WSGIDaemonProcess',
      `Rename it, e.g. WSGIDaemonProcess ${name.replace(/[^A-Za-z0-9_.:@-]/g, '_') || 'app'} (and every WSGIProcessGroup or process-group= naming it)`,
    );
  }
  const earlier = site.groups.find((g) => g.name === name);
  if (earlier !== undefined) {
    throw new ConfigError(ConfigErrorCode.DUPLICATE_GROUP, `WSGIDaemonProcess ${name} is defined twice: here and at ${at(earlier.at)}`, {
      source: { file: d.file, line: d.line, key: 'WSGIDaemonProcess' },
      hint: `mod_wsgi needs each name once in the whole server: merge the two lines, or rename one (and the WSGIProcessGroup or process-group= naming it)`,
    });
  }
  const group: DaemonGroup = { name, at: whereOf(d), host: ctx.host?.index, fields: new Map(), env: new Map() };
  // In wsgi-host check, an option in error is reported and left out: the group still exists, so
  // what names it is checked too.
  for (const word of d.args.slice(1)) collecting(site, () => applyDaemonOption(word, group, d, site));
  site.groups.push(group);
}

function applyDaemonOption(word: string, group: DaemonGroup, d: DirectiveNode, site: Site): void {
  const where = whereOf(d);
  const result = parseDaemonOption(word, group.name, where, site.paths);
  if (typeof result === 'string') {
    site.notes.add('not-honoured', `WSGIDaemonProcess ${group.name} ${word} is not honoured: ${result}.`, where);
  } else if (result.env !== undefined) {
    group.env.set(result.env, { value: String(result.value), at: where });
  } else if (result.field !== undefined) {
    group.fields.set(result.field, { value: result.value, at: where });
    // mod_wsgi: wsgi.multiprocess is True whenever processes= is given; above 1 it is anyway.
    if (result.field === 'processes' && result.value === 1) group.fields.set('multiprocess', { value: true, at: where });
  }
}

interface OptionValue {
  field?: GroupField;
  env?: string;
  value: unknown;
}

/**
 * Parses one "name=value" option of a WSGIDaemonProcess; returns the mapped value, or a string
 * saying why it is not honoured.
 */
function parseDaemonOption(word: string, group: string, where: Where, paths: PathResolver): OptionValue | string {
  const eq = word.indexOf('=');
  if (eq <= 0) throw notAnOption(word, where);
  const name = word.slice(0, eq);
  const raw = word.slice(eq + 1);
  const spec = DAEMON_OPTIONS[name];
  if (spec === undefined) {
    const guess = didYouMean(name, Object.keys(DAEMON_OPTIONS));
    throw apacheError(
      E.BAD_OPTION,
      `WSGIDaemonProcess ${group}: '${name}' is not an option of mod_wsgi's WSGIDaemonProcess`,
      where,
      `WSGIDaemonProcess ${name}=`,
      guess !== undefined ? `Did you mean ${guess}=?` : `mod_wsgi's options are: ${Object.keys(DAEMON_OPTIONS).join(', ')}`,
    );
  }
  if ('why' in spec) return spec.why;
  const value = parseValue(spec.parse, name, raw, group, where, paths, 'min' in spec ? spec : {});
  if (name === 'threads' && value === 0) {
    return `threads=0 is mod_wsgi's mode for a process that runs a WSGIImportScript forever and serves no requests; wsgi-host always serves requests, so the group keeps mod_wsgi's default of ${MOD_WSGI_DEFAULT_THREADS} threads`;
  }
  if (name === 'startup-timeout' && value === 0) {
    return `mod_wsgi takes 0 as "no limit", while wsgi-host always waits a limited time for an application to load, so the group keeps its default startup-timeout (${GroupSettingsSchema.parse({}).startupTimeout} seconds)`;
  }
  return 'env' in spec ? { env: spec.env, value } : { field: spec.field, value };
}

function parseValue(
  parse: Parser,
  name: string,
  raw: string,
  group: string,
  where: Where,
  paths: PathResolver,
  range: { min?: number; max?: number },
): unknown {
  const key = `WSGIDaemonProcess ${name}=`;
  const bad = (what: string, example: string): Error =>
    apacheError(E.BAD_VALUE, `WSGIDaemonProcess ${group} ${name}=${raw}: ${name} takes ${what}`, where, key, `Write e.g. ${name}=${example}`);
  if (raw === '') throw bad('a value', parse === 'count' || parse === 'seconds' ? '5' : '...');
  switch (parse) {
    case 'count': {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
      const { min = 0, max = Number.MAX_SAFE_INTEGER } = range;
      if (!(n >= min && n <= max))
        throw bad(max < Number.MAX_SAFE_INTEGER ? `a whole number from ${min} to ${max}` : 'a whole number', String(Math.max(min, 2)));
      return n;
    }
    case 'seconds':
      if (!/^\d+(\.\d+)?$/.test(raw)) throw bad('a number of seconds', '60');
      return Number(raw);
    case 'path':
      return paths.absolute(raw);
    case 'paths':
      return splitPathList(raw).map((p) => paths.absolute(p));
    case 'displayName':
      return raw.replace(/%\{GROUP\}/g, `(wsgi:${group})`);
    default:
      return raw;
  }
}

function notAnOption(word: string, where: Where): Error {
  const hint = word.startsWith('#')
    ? 'Apache has no comments after a directive: put the comment on a line of its own'
    : 'Write options as name=value, e.g. processes=2 threads=15';
  return apacheError(E.BAD_OPTION, `WSGIDaemonProcess: '${word}' is not a name=value option`, where, 'WSGIDaemonProcess', hint);
}
