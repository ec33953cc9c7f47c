import { resolve } from 'node:path';
import type { ConfigError } from '../errors.js';
import type { ServerConfigInput } from '../schema.js';
import { collectSite } from './directives/table.js';
import type { ApacheNote } from './notes.js';
import { readApacheConfig } from './read/reader.js';
import { buildConfig } from './translate/build.js';

/**
 * Apache mod_wsgi configuration files, translated into wsgi-host's config model: what can be
 * said in the model is, what cannot is named in a note, and unusable input is a ConfigError
 * (see ./errors.ts) naming the file, the line and the fix. The result is model input, not yet
 * validated: loadApacheConfig (../apache-file.ts) validates it, naming values by their directives.
 *
 * Three stages, each importing only the ones before it (and errors.ts, notes.ts, paths.ts):
 *   read/        the files into a tree of directives and sections with file:line (lexer, Include,
 *                <IfModule>/<IfDefine>/<IfVersion>, Define and ${VAR})
 *   directives/  the tree into a Site, in Apache's terms, through ONE table (directives/table.ts):
 *                directive -> handler -> model key, honoured / not honoured / ignored
 *   translate/   the Site into the model: hosts, mounts, static folders, groups, limits, and notes
 *                where Apache and wsgi-host would differ
 */

export type { ApacheNote } from './notes.js';
export { ApacheErrorCode } from './errors.js';
export { daemonOptionName } from './directives/daemon-options.js';
export { nearestSource } from './translate/sources.js';

export interface ApacheTranslation {
  config: ServerConfigInput;
  notes: ApacheNote[];
  /** Where each produced value came from, keyed by modelPathName(path), e.g. 'group[0].pythonHome', 'host[1].mount[0].group'. */
  sources: Record<string, { file: string; line: number }>;
  /** The configuration names no address to listen on: no Listen, and no VirtualHost with a port. */
  noListen?: { file: string; line: number };
}

export interface ApacheTranslateOptions {
  /** Names that make <IfDefine NAME> true (httpd -D NAME). */
  defines?: string[];
  /** Where relative paths are taken from (httpd -d); replaces ServerRoot directives. Default: the file's folder. */
  serverRoot?: string;
  /** wsgi-host check: errors of directives are collected here, and the rest is translated. */
  errors?: ConfigError[];
}

export function translateApacheConfig(file: string, options: ApacheTranslateOptions = {}): ApacheTranslation {
  const main = resolve(file);
  const read = readApacheConfig(main, options);
  const site = collectSite(read, main, options.errors);
  const { config, sources, noListen } = buildConfig(site, main);
  return { config, notes: site.notes.list, sources: sources.record, ...(noListen !== undefined ? { noListen } : {}) };
}
