import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { mergeScopes, type Scope } from '../directives/scopes.js';
import type { AliasOptions, ScriptAliasDecl, Site, StaticDecl } from '../directives/site.js';
import { at, type Where } from '../errors.js';
import { underPrefix, urlPrefix } from '../paths.js';
import { isDirectory, isFile } from '../read/files.js';
import type { Sourced } from '../read/nodes.js';
import { analyseAliasRegex, expandAliasMatch } from './alias-match.js';

/**
 * Mounts and static folders: what the declarations come to, once WSGIScriptAliasMatch and
 * WSGIScriptAlias to a folder are expanded and each Alias is told apart from a WSGI script
 * (candidates); then each mount with its settings merged over the sections that cover it and
 * mod_wsgi's %{...} values expanded (resolveMount).
 */

// ---- candidates ---------------------------------------------------------------------------------

export interface MountCandidate {
  url: string;
  script: string;
  at: Where;
  host: number | undefined;
  order: number;
  options: AliasOptions;
  /** 'WSGIScriptAlias /app', for messages. */
  label: string;
}

export interface StaticCandidate {
  url: string;
  /** Written with a trailing slash (Alias /static/ ...): it matches only below the prefix. */
  slash: boolean;
  directory: string;
  at: Where;
  host: number | undefined;
  order: number;
  label: string;
}

export function mountCandidates(site: Site): MountCandidate[] {
  return site.scriptAliases.flatMap((decl) => (decl.match ? fromMatch(decl, site) : fromAlias(decl, site)));
}

const directiveName = (d: ScriptAliasDecl): string => (d.match ? 'WSGIScriptAliasMatch' : 'WSGIScriptAlias');

function candidate(decl: ScriptAliasDecl, url: string, script: string): MountCandidate {
  return { url, script, at: decl.at, host: decl.host, order: decl.order, options: decl.options, label: `${directiveName(decl)} ${url}` };
}

/** WSGIScriptAlias /url /script, or /url /folder/ (each file in it is a script at /url/NAME). */
function fromAlias(decl: ScriptAliasDecl, site: Site): MountCandidate[] {
  const url = urlPrefix(decl.url);
  if (!isDirectory(decl.target)) {
    if (url !== '/' && decl.url.endsWith('/')) {
      site.notes.refuse(
        `WSGIScriptAlias ${decl.url} ${decl.target} is not honoured: with the trailing slash, mod_wsgi runs the script for ${decl.url} alone (SCRIPT_NAME ${decl.url}) and answers 404 below it, while wsgi-host mounts it at ${url}; write WSGIScriptAlias ${url} ${decl.target}.`,
        decl.at,
      );
    }
    return [candidate(decl, url, decl.target)];
  }
  const files = readdirSync(decl.target)
    .filter((n) => !n.startsWith('.') && isFile(join(decl.target, n)))
    .sort();
  const mounts = files.map((n) => candidate(decl, urlPrefix(`${url}/${n}`), join(decl.target, n)));
  const shown = mounts.map((m) => m.url).join(', ');
  if (mounts.length === 0) {
    site.notes.add(
      'not-honoured',
      `WSGIScriptAlias ${decl.url} ${decl.target} maps a URL to a folder with no script file in it, so nothing is mounted for it; add the scripts, or point it at one script file.`,
      decl.at,
    );
  } else {
    site.notes.add(
      'info',
      `WSGIScriptAlias ${decl.url} ${decl.target} maps a URL to a folder: it was expanded at translation time into one mount per file in it (${shown}); translate again, or add a WSGIScriptAlias, when a script is added.`,
      decl.at,
    );
  }
  return mounts;
}

function fromMatch(decl: ScriptAliasDecl, site: Site): MountCandidate[] {
  const what = `WSGIScriptAliasMatch ${decl.url} ${decl.target}`;
  const pattern = analyseAliasRegex(decl.url);
  const expanded = typeof pattern === 'string' ? pattern : expandAliasMatch(pattern, decl.target);
  if (typeof expanded === 'string') {
    site.notes.refuse(
      `${what} is not honoured: wsgi-host mounts applications at fixed URL prefixes, and this is not a literal prefix plus one capture group within a path segment used as $1 in the script path (${expanded}); write one WSGIScriptAlias /prefix /path/to/script.wsgi per application instead.`,
      decl.at,
    );
    return [];
  }
  const mounts = expanded.mounts.map((m) => candidate(decl, m.url, m.script));
  if (mounts.length === 0) {
    site.notes.add(
      'not-honoured',
      `${what} matched no script file (${expanded.glob}) at translation time, so nothing is mounted for it; create the scripts and translate again, or write a WSGIScriptAlias per application.`,
      decl.at,
    );
  } else if (typeof pattern !== 'string' && pattern.group === undefined) {
    site.notes.add('info', `${what} has no capture group: it was translated as the prefix mount ${mounts[0]?.url}.`, decl.at);
  } else {
    site.notes.add(
      'info',
      `${what} was expanded at translation time into ${mounts.length} mount${mounts.length > 1 ? 's' : ''} (${mounts.map((m) => m.url).join(', ')}), one per script matching ${expanded.glob}: wsgi-host has prefix mounts only, so translate again (or add a WSGIScriptAlias) when a script is added.`,
      decl.at,
    );
  }
  return mounts;
}

/**
 * Alias /url DIR is a static folder, unless DIR is run as WSGI (AddHandler or SetHandler
 * wsgi-script): then a script file becomes a mount, and a folder of scripts is not served at all.
 */
export function staticCandidates(site: Site, mounts: MountCandidate[]): StaticCandidate[] {
  const out: StaticCandidate[] = [];
  for (const decl of site.statics) {
    const label = `Alias ${urlPrefix(decl.url)}`;
    if (isFile(decl.directory)) aliasToFile(decl, site, mounts, label);
    else if (runsScripts(decl, site)) {
      site.notes.refuse(
        `Alias ${decl.url} ${decl.directory} is not honoured: Apache runs the WSGI scripts in that folder (AddHandler or SetHandler wsgi-script), which wsgi-host does not do for a folder, and serving it as static files would publish their source; write a WSGIScriptAlias per script instead.`,
        decl.at,
      );
    } else
      out.push({
        url: urlPrefix(decl.url),
        slash: decl.url.length > 1 && decl.url.endsWith('/'),
        directory: decl.directory,
        at: decl.at,
        host: decl.host,
        order: decl.order,
        label,
      });
  }
  return out;
}

function aliasToFile(decl: StaticDecl, site: Site, mounts: MountCandidate[], label: string): void {
  if (isWsgiScript(decl.directory, decl, site)) {
    mounts.push({ url: urlPrefix(decl.url), script: decl.directory, at: decl.at, host: decl.host, order: decl.order, options: {}, label });
    site.notes.add(
      'info',
      `Alias ${decl.url} ${decl.directory} names a WSGI script run through AddHandler/SetHandler wsgi-script: it was translated as WSGIScriptAlias ${decl.url} ${decl.directory}.`,
      decl.at,
    );
    return;
  }
  site.notes.refuse(
    `Alias ${decl.url} ${decl.directory} is not honoured: it names a single file, and wsgi-host serves static folders only; move the file into a folder served by an Alias, or serve it from the application.`,
    decl.at,
  );
}

function isWsgiScript(file: string, decl: StaticDecl, site: Site): boolean {
  if (site.wsgiExtensions.some((e) => e.value === extname(file))) return true;
  return mergeScopes(site.scopes, { url: urlPrefix(decl.url), script: file }, decl.host).wsgiHandler?.value === true;
}

function runsScripts(decl: StaticDecl, site: Site): boolean {
  const probe = { url: urlPrefix(decl.url), script: join(decl.directory, 'probe') };
  if (mergeScopes(site.scopes, probe, decl.host).wsgiHandler?.value === true) return true;
  if (site.wsgiExtensions.length === 0 || !isDirectory(decl.directory)) return false;
  return readdirSync(decl.directory).some((n) => site.wsgiExtensions.some((e) => e.value === extname(n)));
}

// ---- resolved mounts -----------------------------------------------------------------------------

/** A mount with its settings merged from every context that applies, as Apache merges them. */
export interface ResolvedMount {
  candidate: MountCandidate;
  /** Output host index; undefined for a server-level mount. */
  host: number | undefined;
  group?: Sourced<string>;
  applicationGroup: Sourced<string>;
  /** No WSGIApplicationGroup applies: mod_wsgi's %{RESOURCE}. */
  defaultApplicationGroup: boolean;
  callable: Sourced<string>;
  passAuthorization: Sourced<boolean>;
  scriptReloading?: Sourced<boolean>;
  environ: Map<string, Sourced<string>>;
  /** VirtualHost contexts whose settings Apache would apply to this server-level mount per host. */
  perHost: Scope[];
}

/** The URL prefixes declared for each host (undefined: server level), to see which mount a URL reaches. */
type DeclaredPrefixes = { url: string; host: number | undefined }[];

/** The host a mount lands in: mod_wsgi's %{SERVER} there, and the model's host index (undefined: server level). */
export interface MountHost {
  server: string;
  index: number | undefined;
}

export function resolveMount(c: MountCandidate, site: Site, host: MountHost, declared: DeclaredPrefixes): ResolvedMount {
  const merged = mergeScopes(site.scopes, { url: c.url, script: c.script }, c.host);
  merged.partial = merged.partial.filter((s) => s.prefix === undefined || !takenByLongerPrefix(s.prefix, c, declared));
  const values = { ...merged.values };
  for (const [k, v] of Object.entries(c.options)) if (v !== undefined) Object.assign(values, { [k]: v });
  reportPartial(c, merged.partial, site);
  const env = (name: string): string | undefined => merged.env.get(name)?.value ?? process.env[name];
  const ctx = {
    server: host.server,
    scriptName: c.url === '/' ? '' : c.url,
    env,
    missing: (what: string, name: string, where: Sourced<unknown>['at']) =>
      site.notes.add(
        'not-honoured',
        `${what} %{ENV:${name}} for ${c.label} is not honoured: ${name} is set by no SetEnv that applies and is not in the environment at translation time, so mod_wsgi's empty value is used; set it with SetEnv ${name} VALUE.`,
        where,
      ),
  };
  const pg = values.processGroup as Sourced<string> | undefined;
  const ag = values.applicationGroup as Sourced<string> | undefined;
  const group = pg === undefined ? undefined : expandProcessGroup(pg, ctx);
  return {
    candidate: c,
    host: host.index,
    ...(group !== undefined ? { group } : {}),
    applicationGroup: expandApplicationGroup(ag ?? { value: '%{RESOURCE}', at: c.at }, ctx),
    defaultApplicationGroup: ag === undefined,
    callable: (values.callable as Sourced<string> | undefined) ?? { value: 'application', at: c.at },
    passAuthorization: (values.passAuthorization as Sourced<boolean> | undefined) ?? { value: false, at: c.at },
    ...(values.scriptReloading !== undefined ? { scriptReloading: values.scriptReloading as Sourced<boolean> } : {}),
    environ: merged.env,
    perHost: merged.perHost,
  };
}

/** Whether the URLs of a <Location> go to a mount or Alias longer than c's, not to c. */
function takenByLongerPrefix(location: string, c: MountCandidate, declared: DeclaredPrefixes): boolean {
  return declared.some((d) => (d.host === c.host || d.host === undefined) && d.url.length > c.url.length && underPrefix(location, d.url));
}

/** Settings Apache would apply to part of a mount's URLs only. */
function reportPartial(c: MountCandidate, partial: Scope[], site: Site): void {
  for (const s of partial) {
    site.notes.refuse(
      `${s.label} at ${at(s.at)} sets mod_wsgi settings for part of the URLs of ${c.label} only, which wsgi-host cannot do: it chooses settings per mount; to run those URLs differently, give them a WSGIScriptAlias of their own (their SCRIPT_NAME then changes).`,
      s.at,
    );
  }
}

// ---- %{...} values ---------------------------------------------------------------------------------

/**
 * mod_wsgi's expanding values of WSGIProcessGroup and WSGIApplicationGroup: %{GLOBAL},
 * %{SERVER} (host name, and the port unless 80 or 443), %{RESOURCE} (SERVER|SCRIPT_NAME) and
 * %{ENV:NAME} (SetEnv, else the environment).
 */
interface ExpandContext {
  server: string;
  scriptName: string;
  env: (name: string) => string | undefined;
  missing: (what: string, name: string, where: Where) => void;
}

const GLOBAL = '%{GLOBAL}';

/** The process group a mount runs in; undefined is the default group (mod_wsgi's embedded mode). */
function expandProcessGroup(raw: Sourced<string>, ctx: ExpandContext): Sourced<string> | undefined {
  const value = envValue('WSGIProcessGroup', raw, ctx) ?? raw.value;
  return value === GLOBAL || value === '' ? undefined : { value, at: raw.at };
}

function expandApplicationGroup(raw: Sourced<string>, ctx: ExpandContext): Sourced<string> {
  const value = envValue('WSGIApplicationGroup', raw, ctx) ?? raw.value;
  const expanded = value === '%{SERVER}' ? ctx.server : value === '%{RESOURCE}' ? `${ctx.server}|${ctx.scriptName}` : value === '' ? GLOBAL : value;
  return { value: expanded, at: raw.at };
}

/** The value of %{ENV:NAME}; '' when unset (as mod_wsgi has it), undefined when not an ENV reference. */
function envValue(what: string, raw: Sourced<string>, ctx: ExpandContext): string | undefined {
  const m = /^%\{ENV:([^}]+)\}$/.exec(raw.value);
  if (m === null) return undefined;
  const name = m[1] as string;
  const value = ctx.env(name);
  if (value === undefined) ctx.missing(what, name, raw.at);
  return value ?? '';
}
