import { basename, dirname } from 'node:path';
import type { Where } from '../errors.js';
import { type PathResolver, underPrefix, urlPrefix } from '../paths.js';
import { hasWildcard, wildcardRegex } from '../read/files.js';
import type { DirectiveNode, SectionNode, Sourced } from '../read/nodes.js';

/**
 * The section model: the server level, each <VirtualHost>, and each <Directory>, <DirectoryMatch>,
 * <Files>, <FilesMatch>, <Location>, <LocationMatch> is a Scope, kept with its file:line, what it
 * matches and the directives written in it; and how Apache merges them for one request: server
 * level, then the VirtualHost, then <Directory> (shortest path first, regular expressions last),
 * <Files>, and <Location> (shortest first): the most specific context wins.
 */

/** mod_wsgi settings that Apache merges from the server, VirtualHost, Directory, Files and Location contexts. */
export type WsgiSetting = 'processGroup' | 'applicationGroup' | 'callable' | 'passAuthorization' | 'scriptReloading';

export type ScopeKind = 'server' | 'vhost' | 'directory' | 'files' | 'location';

/** What a mount is tested against: its URL prefix and its script file. */
export interface MountTarget {
  url: string;
  script: string;
}

export type ScopeMatch = 'yes' | 'no' | 'partial';

/** A context whose per-directory settings apply to the mounts it matches. */
export interface Scope {
  kind: ScopeKind;
  /** The VirtualHost (declaration index) it belongs to; undefined at server level. */
  host: number | undefined;
  /** '<Location /app>', '<VirtualHost *:80>', 'server level'. */
  label: string;
  at: Where;
  /** The section as read (name, arguments, file:line, its children in order); absent at server level. */
  section?: SectionNode;
  /** What a <Directory>/<Files>/<Location> (or Match form) matches, as written. */
  pattern?: { text: string; regex: boolean };
  /** The <Directory> a <Files> is nested in. */
  parent?: Scope;
  /** The directives written in it, in order (those of its <Limit>/<RequireAll>... blocks too). */
  directives: DirectiveNode[];
  /** Specificity within its kind: the most specific is merged last and wins. */
  rank: number;
  order: number;
  test: (target: MountTarget) => ScopeMatch;
  /** The URL prefix of a literal <Location>. */
  prefix?: string;
  settings: Partial<Record<WsgiSetting, Sourced<string | boolean>>>;
  /** SetEnv: extra keys of the WSGI environ. */
  env: Map<string, Sourced<string>>;
  /** SetHandler wsgi-script. */
  wsgiHandler?: Sourced<boolean>;
  /** AllowOverride other than None: .htaccess files may add rules here. */
  allowOverride?: Sourced<string[]>;
}

const KIND_ORDER: Record<ScopeKind, number> = { server: 0, vhost: 1, directory: 2, files: 3, location: 4 };
const REGEX_RANK = 10_000;

export function newScope(
  kind: ScopeKind,
  host: number | undefined,
  label: string,
  at: Where,
  order: number,
  test: Scope['test'] = () => 'yes',
  rank = 0,
): Scope {
  return { kind, host, label, at, rank, order, test, directives: [], settings: {}, env: new Map() };
}

type Tester = { test: Scope['test']; rank: number };

/** <Directory path> (wildcards allowed), <Directory ~ re>, <DirectoryMatch re>: the script's folder. */
export function directoryTester(pattern: string, regex: boolean, paths: PathResolver): Tester {
  if (regex) {
    const re = new RegExp(pattern);
    return { rank: REGEX_RANK, test: (t) => (re.test(`${dirname(t.script)}/`) ? 'yes' : 'no') };
  }
  const dir = paths.absolute(pattern);
  const rank = dir.split('/').filter((s) => s !== '').length;
  if (hasWildcard(dir)) {
    const re = new RegExp(`${wildcardRegex(dir).source.slice(0, -1)}(/|$)`);
    return { rank, test: (t) => (re.test(dirname(t.script)) ? 'yes' : 'no') };
  }
  return { rank, test: (t) => (underPrefix(dirname(t.script), dir) ? 'yes' : 'no') };
}

/** <Files name> (wildcards allowed), <Files ~ re>, <FilesMatch re>: the script's file name. */
export function filesTester(pattern: string, regex: boolean): Tester {
  const re = regex ? new RegExp(pattern) : wildcardRegex(pattern);
  return { rank: 0, test: (t) => (re.test(basename(t.script)) ? 'yes' : 'no') };
}

/**
 * <Location url>, <Location ~ re>, <LocationMatch re>: the mount's URL prefix. A Location below a
 * mount's prefix covers only part of its URLs: 'partial'.
 */
export function locationTester(pattern: string, regex: boolean): Tester {
  if (regex) {
    const re = new RegExp(pattern);
    return { rank: REGEX_RANK, test: (t) => (re.test(t.url) || re.test(`${t.url}/`) ? 'yes' : 'no') };
  }
  const loc = urlPrefix(pattern);
  return {
    rank: loc.length,
    test: (t): ScopeMatch => (underPrefix(t.url, loc) ? 'yes' : underPrefix(loc, t.url) ? 'partial' : 'no'),
  };
}

/** A tester inside another (<Files> inside <Directory>): both must match. */
export function within(outer: Scope['test'], inner: Scope['test']): Scope['test'] {
  return (t) => {
    const o = outer(t);
    const i = inner(t);
    if (o === 'no' || i === 'no') return 'no';
    return o === 'partial' || i === 'partial' ? 'partial' : 'yes';
  };
}

export interface MergedSettings {
  values: Partial<Record<WsgiSetting, Sourced<string | boolean>>>;
  env: Map<string, Sourced<string>>;
  wsgiHandler?: Sourced<boolean>;
  /** Contexts covering only part of the mount's URLs, with WSGI settings. */
  partial: Scope[];
  /** VirtualHost contexts that would apply to a server-level mount for requests to their host. */
  perHost: Scope[];
}

/** Merges the settings of the contexts that apply to a mount of host `host` (undefined: server-level). */
export function mergeScopes(scopes: Scope[], target: MountTarget, host: number | undefined): MergedSettings {
  const merged: MergedSettings = { values: {}, env: new Map(), partial: [], perHost: [] };
  const applicable: Scope[] = [];
  for (const s of scopes) {
    if (s.host !== undefined && s.host !== host) continue;
    const m = s.test(target);
    if (m === 'yes') applicable.push(s);
    else if (m === 'partial' && hasWsgiSettings(s)) merged.partial.push(s);
  }
  applicable.sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.rank - b.rank || a.order - b.order);
  for (const s of applicable) {
    Object.assign(merged.values, s.settings);
    for (const [k, v] of s.env) merged.env.set(k, v);
    if (s.wsgiHandler !== undefined) merged.wsgiHandler = s.wsgiHandler;
  }
  if (host === undefined) {
    merged.perHost = scopes.filter((s) => s.host !== undefined && hasWsgiSettings(s) && s.test(target) === 'yes');
  }
  return merged;
}

export const hasWsgiSettings = (s: Scope): boolean => Object.keys(s.settings).length > 0 || s.env.size > 0;
