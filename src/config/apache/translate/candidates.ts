import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { analyseAliasRegex, expandAliasMatch } from './alias-match.js';
import type { Where } from '../errors.js';
import { isDirectory, isFile } from '../read/files.js';
import { urlPrefix } from '../paths.js';
import { mergeScopes } from '../directives/scopes.js';
import type { AliasOptions, ScriptAliasDecl, Site, StaticDecl } from '../directives/site.js';

/**
 * The mounts and static folders the declarations come to, once WSGIScriptAliasMatch and
 * WSGIScriptAlias to a folder are expanded and each Alias is told apart from a WSGI script.
 */

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
  if (!isDirectory(decl.target)) return [candidate(decl, url, decl.target)];
  const files = readdirSync(decl.target).filter((n) => !n.startsWith('.') && isFile(join(decl.target, n))).sort();
  const mounts = files.map((n) => candidate(decl, urlPrefix(`${url}/${n}`), join(decl.target, n)));
  const shown = mounts.map((m) => m.url).join(', ');
  if (mounts.length === 0) {
    site.notes.add('not-honoured', `WSGIScriptAlias ${decl.url} ${decl.target} maps a URL to a folder with no script file in it, so nothing is mounted for it; add the scripts, or point it at one script file.`, decl.at);
  } else {
    site.notes.add('info', `WSGIScriptAlias ${decl.url} ${decl.target} maps a URL to a folder: it was expanded at translation time into one mount per file in it (${shown}); translate again, or add a WSGIScriptAlias, when a script is added.`, decl.at);
  }
  return mounts;
}

function fromMatch(decl: ScriptAliasDecl, site: Site): MountCandidate[] {
  const what = `WSGIScriptAliasMatch ${decl.url} ${decl.target}`;
  const pattern = analyseAliasRegex(decl.url);
  const expanded = typeof pattern === 'string' ? pattern : expandAliasMatch(pattern, decl.target);
  if (typeof expanded === 'string') {
    site.notes.add('not-honoured', `${what} is not honoured: wsgi-host mounts applications at fixed URL prefixes, and this is not a literal prefix plus one capture group within a path segment used as $1 in the script path (${expanded}); write one WSGIScriptAlias /prefix /path/to/script.wsgi per application instead.`, decl.at);
    return [];
  }
  const mounts = expanded.mounts.map((m) => candidate(decl, m.url, m.script));
  if (mounts.length === 0) {
    site.notes.add('not-honoured', `${what} matched no script file (${expanded.glob}) at translation time, so nothing is mounted for it; create the scripts and translate again, or write a WSGIScriptAlias per application.`, decl.at);
  } else if (typeof pattern !== 'string' && pattern.group === undefined) {
    site.notes.add('info', `${what} has no capture group: it was translated as the prefix mount ${mounts[0]?.url}.`, decl.at);
  } else {
    site.notes.add('info', `${what} was expanded at translation time into ${mounts.length} mount${mounts.length > 1 ? 's' : ''} (${mounts.map((m) => m.url).join(', ')}), one per script matching ${expanded.glob}: wsgi-host has prefix mounts only, so translate again (or add a WSGIScriptAlias) when a script is added.`, decl.at);
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
      site.notes.add('not-honoured', `Alias ${decl.url} ${decl.directory} is not honoured: Apache runs the WSGI scripts in that folder (AddHandler or SetHandler wsgi-script), which wsgi-host does not do for a folder, and serving it as static files would publish their source; write a WSGIScriptAlias per script instead.`, decl.at);
    } else out.push({ url: urlPrefix(decl.url), directory: decl.directory, at: decl.at, host: decl.host, order: decl.order, label });
  }
  return out;
}

function aliasToFile(decl: StaticDecl, site: Site, mounts: MountCandidate[], label: string): void {
  if (isWsgiScript(decl.directory, decl, site)) {
    mounts.push({ url: urlPrefix(decl.url), script: decl.directory, at: decl.at, host: decl.host, order: decl.order, options: {}, label });
    site.notes.add('info', `Alias ${decl.url} ${decl.directory} names a WSGI script run through AddHandler/SetHandler wsgi-script: it was translated as WSGIScriptAlias ${decl.url} ${decl.directory}.`, decl.at);
    return;
  }
  site.notes.add('not-honoured', `Alias ${decl.url} ${decl.directory} is not honoured: it names a single file, and wsgi-host serves static folders only; move the file into a folder served by an Alias, or serve it from the application.`, decl.at);
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
