import { realpathSync } from 'node:fs';
import { type ApacheTranslation, daemonOptionName, nearestSource, translateApacheConfig } from './apache/index.js';
import { kebab } from './key-names.js';
import type { LoadedConfig } from './loaded-config.js';
import type { ServerConfigInput } from './schema.js';
import { modelPathName, validateConfig, type ModelPath } from './validate.js';

/** An Apache mod_wsgi configuration, translated into the model; messages name the directives. */
export function loadApacheConfig(file: string, defines: string[] = []): LoadedConfig {
  return loadApacheTranslation(file, defines).loaded;
}

/** The translation itself (model input and notes, for `config from-apache`) and its validated config. */
export function loadApacheTranslation(file: string, defines: string[] = []): { translation: ApacheTranslation; loaded: LoadedConfig } {
  const t = translateApacheConfig(file, { defines });
  const input = t.config;
  const locate = (path: ModelPath) => {
    const s = nearestSource(t.sources, path);
    return s !== undefined ? { file: s.file, line: s.line, key: apacheName(input, path) } : { file, key: apacheName(input, path) };
  };
  const describer = { keyName: (path: ModelPath) => apacheName(input, path), locate };
  const loaded: LoadedConfig = {
    config: validateConfig(input, describer),
    baseDir: process.cwd(),
    describer,
    notes: t.notes,
    homeSetting: (g) => (g === undefined ? 'WSGIPythonHome' : `WSGIDaemonProcess ${g} python-home=`),
    label: `${file} (Apache)`,
    identity: `apache:${realpathSync(file)}:${defines.join(',')}`,
  };
  return { translation: t, loaded };
}

/** How an Apache config names a model value: 'WSGIDaemonProcess blog processes=', 'WSGIPythonHome'... */
export function apacheName(input: ServerConfigInput, path: ModelPath): string {
  const [a, b, c] = path;
  if (a === 'pythonHome') return 'WSGIPythonHome';
  if (a === 'pythonPath') return 'WSGIPythonPath';
  if (a === 'listen') return 'Listen';
  if (a === 'group' && typeof b === 'number') {
    const name = input.group?.[b]?.name ?? `#${b + 1}`;
    return c === undefined ? `WSGIDaemonProcess ${name}` : `WSGIDaemonProcess ${name} ${daemonOptionName(String(c)) ?? kebab(String(c))}=`;
  }
  const mount = a === 'mount' ? input.mount?.[b as number] : a === 'host' && c === 'mount' ? input.host?.[b as number]?.mount?.[path[3] as number] : undefined;
  if (mount !== undefined) return `WSGIScriptAlias ${mount.path ?? '/'}`;
  if (a === 'host' && typeof b === 'number') return `<VirtualHost> ${input.host?.[b]?.serverName ?? ''}`.trim();
  return modelPathName(path);
}
