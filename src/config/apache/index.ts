import { resolve } from 'node:path';
import type { ServerConfigInput } from '../schema.js';
import { buildConfig } from './translate/build.js';
import { collectSite } from './directives/table.js';
import type { ApacheNote } from './notes.js';
import { readApacheConfig } from './read/reader.js';

/**
 * Apache mod_wsgi configuration files, translated into wsgi-host's config model: what can be
 * said in the model is, what cannot is named in a note, and unusable input is a ConfigError
 * (see ./errors.ts) naming the file, the line and the fix. The result is model input, not yet
 * validated: loadApacheConfig (../apache-file.ts) validates it, naming values by their directives.
 */

export type { ApacheNote } from './notes.js';
export { ApacheErrorCode } from './errors.js';

export interface ApacheTranslation {
  config: ServerConfigInput;
  notes: ApacheNote[];
  /** Where each produced value came from, keyed by modelPathName(path), e.g. 'group[0].pythonHome', 'host[1].mount[0].group'. */
  sources: Record<string, { file: string; line: number }>;
}

export interface ApacheTranslateOptions {
  /** Names that make <IfDefine NAME> true (httpd -D NAME). */
  defines?: string[];
  /** Where relative paths are taken from (httpd -d); replaces ServerRoot directives. Default: the file's folder. */
  serverRoot?: string;
}

export function translateApacheConfig(file: string, options: ApacheTranslateOptions = {}): ApacheTranslation {
  const main = resolve(file);
  const read = readApacheConfig(main, options);
  const site = collectSite(read, main);
  const { config, sources } = buildConfig(site, main);
  return { config, notes: site.notes.list, sources: sources.record };
}
