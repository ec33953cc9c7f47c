import { ApacheErrorCode as E, apacheError, type Where } from '../errors.js';

/**
 * Conditional sections. <IfModule> is true for mod_wsgi and Apache's usual modules, as a site file
 * without LoadModule lines expects; once the configuration loads modules itself (Debian's
 * mods-enabled/*.load), for those and the modules compiled into Apache only, as Apache decides it.
 * <IfDefine> is true for the names given as defines (and Define directives); <IfVersion> compares
 * with an Apache 2.4 of today.
 */

/** Modules taken as loaded: mod_wsgi and the core modules of a usual Apache 2.4 build. */
const LOADED_MODULES = new Set([
  'wsgi',
  'core',
  'http_core',
  'so',
  'unixd',
  'version',
  'alias',
  'mime',
  'dir',
  'authz_core',
  'authz_host',
  'log_config',
  'headers',
  'rewrite',
  'ssl',
  'env',
  'setenvif',
]);

/** The Apache version <IfVersion> compares with. */
export const ASSUMED_APACHE_VERSION = [2, 4, 62] as const;

/** 'mod_wsgi.c', 'wsgi_module', 'mod_wsgi.so' -> 'wsgi'. */
export function moduleId(name: string): string {
  const n = name.trim().toLowerCase();
  const c = /^mod_(.+)\.(c|so)$/.exec(n);
  if (c !== null) return c[1] as string;
  const m = /^(.+)_module$/.exec(n);
  return m !== null ? (m[1] as string) : n;
}

/** Modules compiled into Debian's (and a default) Apache: loaded without a LoadModule. */
const BUILT_IN_MODULES = new Set(['core', 'http_core', 'so', 'watchdog', 'log_config', 'logio', 'version', 'unixd']);

export function isModuleLoaded(name: string, loaded: ReadonlySet<string>): boolean {
  const id = moduleId(name);
  if (loaded.size > 0) return BUILT_IN_MODULES.has(id) || loaded.has(id) || id === 'wsgi';
  return LOADED_MODULES.has(id) || id.startsWith('mpm_') || loaded.has(id);
}

/** Evaluates the argument of <IfModule> or <IfDefine>: a name, '!' negating it. */
export function evaluateNamed(arg: string, isTrue: (name: string) => boolean): boolean {
  const negated = arg.startsWith('!');
  const name = negated ? arg.slice(1) : arg;
  return isTrue(name) !== negated;
}

/** <IfVersion [[!]op] version>: op is = == > >= < <= or ~ (version a /regex/ with = or ~). */
export function evaluateIfVersion(args: string[], where: Where): boolean {
  if (args.length === 0 || args.length > 2) {
    throw apacheError(E.SYNTAX, '<IfVersion> takes an operator and a version', where, '<IfVersion>', 'Write e.g. <IfVersion >= 2.4>');
  }
  let op = args.length === 2 ? (args[0] as string) : '=';
  const version = args[args.length - 1] as string;
  const negated = op.startsWith('!');
  if (negated) op = op.slice(1);
  const current = ASSUMED_APACHE_VERSION.join('.');
  const regex = /^\/(.*)\/$/.exec(version);
  let result: boolean;
  if (op === '~' || regex !== null) {
    result = new RegExp(regex !== null ? (regex[1] as string) : version).test(current);
  } else {
    const cmp = compareVersions(ASSUMED_APACHE_VERSION, version.split('.').map(Number));
    const table: Record<string, boolean> = { '=': cmp === 0, '==': cmp === 0, '>': cmp > 0, '>=': cmp >= 0, '<': cmp < 0, '<=': cmp <= 0 };
    const r = table[op];
    if (r === undefined) {
      throw apacheError(E.SYNTAX, `<IfVersion> has an unknown operator '${op}'`, where, '<IfVersion>', 'Use one of = == > >= < <= ~');
    }
    result = r;
  }
  return result !== negated;
}

/** Compares as many parts as the given version has (2.4 equals 2.4.62, as mod_version does). */
function compareVersions(current: readonly number[], given: number[]): number {
  for (let i = 0; i < given.length; i++) {
    const d = (current[i] ?? 0) - (given[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
