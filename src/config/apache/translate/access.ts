import { type Dirent, existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { AccessRule } from '../../../access/policy.js';
import type { Scope } from '../directives/scopes.js';
import type { Site } from '../directives/site.js';
import { at, type Where } from '../errors.js';
import { underPrefix, urlPrefix } from '../paths.js';
import { hasWildcard, wildcardRegex } from '../read/files.js';
import type { DirectiveNode } from '../read/nodes.js';
import { SectionReader } from './access-lines.js';

/**
 * Access control of each route (a mount or a static folder), as Apache decides it for the
 * requests the route gets: every <Directory>, <DirectoryMatch>, <Files>, <FilesMatch>, <Location>
 * and <LocationMatch> with Require or Order/Allow/Deny lines that can apply becomes a rule of
 * mount.access or static.access, in Apache's merge order (src/access/evaluate.ts decides).
 *
 * A mount's script is known, so sections about files are decided here: <Directory> of its folder,
 * <Files> of its name. A static folder's files are not, so those stay rules that match the file.
 * What wsgi-host cannot decide (Require host, user, valid-user, expr...; a variable SetEnvIf sets;
 * .htaccess files Apache would read) is refused (notes.refuse), and kept in the rule so that, when
 * the difference is accepted, it is decided both ways (never more open than Apache).
 */

export interface RouteTarget {
  kind: 'mount' | 'static';
  /** URL prefix as the model keeps it ('/app', '/'). */
  url: string;
  /** VirtualHost declaration index; undefined at server level. */
  host: number | undefined;
  /** The mount's script, or the static folder. */
  file: string;
  label: string;
  at: Where;
}

export interface RouteAccess {
  rules: AccessRule[];
  /** Where each rule was written (its section). */
  sources: Where[];
}

export class AccessTranslator {
  private readonly lines: SectionReader;
  private readonly overridesNoted = new Set<Scope>();

  constructor(private readonly site: Site) {
    this.lines = new SectionReader(site);
    // Apache checks every section's lines when it starts, whether a request ever reaches it or not.
    for (const scope of site.scopes) this.lines.read(scope);
  }

  /** The rules of a route, or undefined when nothing can deny a request of it. */
  route(target: RouteTarget): RouteAccess | undefined {
    const rules: { rule: AccessRule; scope: Scope; rank: number[] }[] = [];
    let authType: DirectiveNode | undefined;
    for (const scope of this.site.scopes) {
      if (scope.kind === 'server' || scope.kind === 'vhost') continue;
      const access = this.lines.read(scope);
      if (scope.allowOverride !== undefined) this.checkOverrides(scope, target);
      if (target.kind === 'static') this.checkSymlinks(scope, target);
      if (access === undefined) continue;
      if (scope.host !== undefined && scope.host !== target.host) {
        if (target.host === undefined && this.matcherFor(scope, target) !== undefined) {
          this.site.notes.refuse(
            `${scope.label} at ${at(scope.at)} restricts access to ${target.label} for the requests of that VirtualHost only; wsgi-host gives a server-level ${target.kind === 'mount' ? 'mount' : 'Alias'} the same access rules in every host: move the ${target.kind === 'mount' ? 'WSGIScriptAlias' : 'Alias'} into the VirtualHost(s), or the section out of it.`,
            scope.at,
          );
        }
        continue;
      }
      const matcher = this.matcherFor(scope, target);
      if (matcher === undefined) continue;
      for (const r of access.refusals) this.site.notes.refuse(r.message, r.at);
      if (access.authType !== undefined) authType = access.authType;
      if (access.require === undefined && access.merge === undefined && access.compat === undefined) continue;
      const rule: AccessRule = { ...matcher };
      if (access.require !== undefined) rule.require = access.require;
      if (access.merge !== undefined) rule.merge = access.merge;
      if (access.compat !== undefined) rule.compat = access.compat;
      rules.push({ rule, scope, rank: mergeRank(scope) });
    }
    if (authType !== undefined && !rules.some((r) => r.rule.require !== undefined)) {
      this.site.notes.refuse(
        `AuthType ${authType.args.join(' ')} applies to ${target.label} with no Require line: Apache answers its requests with 500 (AuthType configured with no corresponding authorization directives); add the Require lines it is for (Require user and valid-user are refused: authenticate in the application), or remove AuthType.`,
        authType,
      );
    }
    rules.sort((a, b) => compareRanks(a.rank, b.rank));
    if (rules.length === 0 || grantsEverything(rules.map((r) => r.rule))) return undefined;
    return { rules: rules.map((r) => r.rule), sources: rules.map((r) => r.scope.at) };
  }

  // ---- which requests of the route a section covers ---------------------------------------------

  /** The matcher of a rule for this section and route; undefined when the section never covers the route. */
  private matcherFor(scope: Scope, target: RouteTarget): Partial<AccessRule> | undefined {
    if (scope.kind === 'location') return locationMatcher(scope, target);
    const own = this.fileMatcher(scope, target);
    if (own === undefined || scope.parent === undefined) return own;
    const parent = this.fileMatcher(scope.parent, target);
    if (parent === undefined) return undefined;
    return { ...parent, ...own };
  }

  private fileMatcher(scope: Scope, target: RouteTarget): Partial<AccessRule> | undefined {
    const pattern = scope.pattern;
    if (pattern === undefined) return {};
    if (scope.kind === 'files') {
      if (target.kind === 'static') return pattern.regex ? { filesMatch: pattern.text } : { files: pattern.text };
      const name = basename(target.file);
      return (pattern.regex ? new RegExp(pattern.text).test(name) : wildcardRegex(pattern.text).test(name)) ? {} : undefined;
    }
    if (pattern.regex) {
      if (target.kind === 'static') return { directoryMatch: pattern.text };
      return new RegExp(pattern.text).test(target.file) ? {} : undefined;
    }
    const dir = this.site.paths.absolute(pattern.text);
    const folder = target.kind === 'mount' ? dirname(target.file) : target.file;
    if (hasWildcard(dir)) {
      const leading = new RegExp(`${wildcardRegex(dir).source.slice(0, -1)}(?=/|$)`);
      if (leading.test(folder)) return {};
      return target.kind === 'static' ? { directory: dir } : undefined;
    }
    if (underPrefix(folder, dir)) return {};
    if (target.kind === 'static') return underPrefix(dir, folder) ? { directory: dir } : undefined;
    // Apache's walk takes a script named by <Directory> as a folder when no PATH_INFO follows it.
    if (dir === target.file && target.url !== '/') return { pathMatch: `^${escapeRegex(target.url)}$` };
    return undefined;
  }

  /**
   * Options without FollowSymLinks: Apache answers 403 for a symbolic link, wsgi-host follows links
   * that stay inside the folder. Refused where the folder served holds a link (the table notes Options otherwise).
   */
  private checkSymlinks(scope: Scope, target: RouteTarget): void {
    if (scope.kind !== 'directory' || scope.pattern === undefined || scope.pattern.regex) return;
    if (scope.host !== undefined && scope.host !== target.host) return;
    const options = scope.directives.filter((d) => d.key === 'options' && !d.args.some((a) => /^\+?(followsymlinks|all)$/i.test(a)));
    const removes = options.filter((d) => d.args.some((a) => /^-(followsymlinks|symlinksifownermatch)$/i.test(a)) || d.args.every((a) => !/^[+-]/.test(a)));
    const line = removes[removes.length - 1];
    if (line === undefined) return;
    const dir = this.site.paths.absolute(scope.pattern.text);
    if (!underPrefix(target.file, dir) && !underPrefix(dir, target.file)) return;
    const link = findEntry(underPrefix(target.file, dir) ? target.file : dir, (e) => e.isSymbolicLink());
    if (link !== undefined) {
      this.site.notes.refuse(
        `Options ${line.args.join(' ')} in ${scope.label} makes Apache refuse symbolic links such as ${link} (served by ${target.label}), which wsgi-host follows when they stay inside the folder: remove the links, or allow FollowSymLinks.`,
        line,
      );
    }
  }

  /** AllowOverride other than None lets .htaccess files add rules: refused where one exists in what is served. */
  private checkOverrides(scope: Scope, target: RouteTarget): void {
    const o = scope.allowOverride;
    if (o === undefined || scope.kind !== 'directory' || scope.pattern === undefined || scope.pattern.regex) return;
    if (scope.host !== undefined && scope.host !== target.host) return;
    const dir = this.site.paths.absolute(scope.pattern.text);
    const name = accessFileName(this.site);
    const folder = target.kind === 'mount' ? dirname(target.file) : target.file;
    let found: string | undefined;
    if (target.kind === 'mount') {
      if (!underPrefix(folder, dir)) return;
      for (let d = folder; underPrefix(d, dir) && found === undefined; d = dirname(d)) {
        if (existsSync(join(d, name))) found = join(d, name);
        if (d === '/' || d === dir) break;
      }
    } else {
      if (!underPrefix(folder, dir) && !underPrefix(dir, folder)) return;
      found = findEntry(underPrefix(folder, dir) ? folder : dir, (e) => e.name === name);
      for (let d = dirname(folder); found === undefined && underPrefix(d, dir) && d !== '/'; d = dirname(d)) {
        if (existsSync(join(d, name))) found = join(d, name);
      }
    }
    if (found !== undefined) {
      this.site.notes.refuse(
        `AllowOverride ${o.value.join(' ')} in ${scope.label} lets ${found} change how Apache serves ${target.label}, and wsgi-host reads no ${name} files: move its rules into the configuration and set AllowOverride None.`,
        o.at,
      );
    } else if (!this.overridesNoted.has(scope)) {
      this.overridesNoted.add(scope);
      this.site.notes.ignore(
        'AllowOverride',
        `wsgi-host reads no ${name} files; none is there now (add its rules to the configuration if one is added).`,
        o.at,
      );
    }
  }
}

// ---- helpers ----------------------------------------------------------------------------------------

/** <Location> and <LocationMatch>: a rule on the URL, unless it can never meet the route's URLs. */
function locationMatcher(scope: Scope, target: RouteTarget): Partial<AccessRule> | undefined {
  const pattern = scope.pattern;
  if (pattern === undefined) return undefined;
  if (pattern.regex) return { pathMatch: pattern.text };
  if (hasWildcard(pattern.text)) return { path: pattern.text };
  const loc = urlPrefix(pattern.text);
  if (!underPrefix(target.url, loc) && !underPrefix(loc, target.url)) return undefined;
  return { path: pattern.text.replace(/\/{2,}/g, '/') };
}

/** Apache's merge order: <Directory> (fewest path parts first), <DirectoryMatch>, <Files>, <Location>; the main server's before a VirtualHost's; then as written. */
function mergeRank(s: Scope): number[] {
  const nested = s.parent !== undefined;
  const kind = s.kind === 'directory' ? (s.pattern?.regex === true ? 1 : 0) : s.kind === 'files' ? 2 : 3;
  const depth = kind === 0 ? s.rank : nested ? 1 : 0;
  return [kind, depth, s.host === undefined ? 0 : 1, s.order];
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

/** Rules that let every request in: each is only Require all granted (whatever it matches). */
function grantsEverything(rules: AccessRule[]): boolean {
  return rules.every(
    (r) =>
      r.compat === undefined &&
      r.merge === undefined &&
      (r.require === 'all granted' || (Array.isArray(r.require) && r.require.length === 1 && r.require[0] === 'all granted')),
  );
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function accessFileName(site: Site): string {
  const d = site.scopes[0]?.directives.find((x) => x.key === 'accessfilename');
  return d?.args[0] ?? '.htaccess';
}

/** An entry in the folder or below that `is` accepts (bounded: the first 20000 entries). */
function findEntry(root: string, is: (e: Dirent) => boolean): string | undefined {
  const stack = [root];
  let seen = 0;
  while (stack.length > 0 && seen < 20_000) {
    const dir = stack.pop() as string;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      seen++;
      if (is(e)) return join(dir, e.name);
      if (e.isDirectory()) stack.push(join(dir, e.name));
    }
  }
  return undefined;
}
