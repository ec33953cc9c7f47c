import { realpathSync } from 'node:fs';
import { type ApacheNote, type ApacheTranslation, ApacheErrorCode, daemonOptionName, nearestSource, translateApacheConfig } from './apache/index.js';
import { ConfigError, formatSource } from './errors.js';
import { kebab } from './key-names.js';
import type { LoadedConfig } from './loaded-config.js';
import type { ServerConfig, ServerConfigInput } from './schema.js';
import { modelPathName, validateConfig, validateConfigCollect, type ModelPath } from './validate.js';

export interface ApacheLoadOptions {
  /** --accept-apache-differences: serve without the refused directives (they stay warnings). */
  acceptDifferences?: boolean;
  /** Throw for refused directives and a missing Listen (serve); false: leave them to the notes (check, config). */
  refuse?: boolean;
  /** --host or --port replace the listeners, so a missing Listen is no problem. */
  listenGiven?: boolean;
  /**
   * wsgi-host check: errors are collected here instead of thrown (a directive in error is left out,
   * a model value in error dropped), so that every error of the file is reported at once; what
   * cannot be read or translated at all is still thrown.
   */
  errors?: ConfigError[];
}

/** An Apache mod_wsgi configuration, translated into the model; messages name the directives. */
export function loadApacheConfig(file: string, defines: string[] = [], options: ApacheLoadOptions = {}): LoadedConfig {
  return loadApacheTranslation(file, defines, options).loaded;
}

/** The translation itself (model input and notes, for `config from-apache`) and its validated config. */
export function loadApacheTranslation(
  file: string,
  defines: string[] = [],
  options: ApacheLoadOptions = {},
): { translation: ApacheTranslation; loaded: LoadedConfig } {
  const errors = options.errors;
  const t = translateApacheConfig(file, { defines, ...(errors !== undefined ? { errors } : {}) });
  const refuse = options.refuse ?? true;
  const notes: LoadedConfig['notes'] = [...t.notes];
  if (t.noListen !== undefined && options.listenGiven !== true) {
    const message =
      'The configuration names no address to listen on: it has no Listen directive (Debian keeps them in ports.conf) and no <VirtualHost> with a port.';
    const hint = 'Add e.g. Listen 80 (or serve the apache2.conf that includes ports.conf), or give --port and --host';
    if (refuse) throw new ConfigError(ApacheErrorCode.NO_LISTEN, message, { source: { file: t.noListen.file, line: t.noListen.line, key: 'Listen' }, hint });
    notes.unshift({ kind: 'not-honoured', message: `${message} ${hint}.`, file: t.noListen.file, line: t.noListen.line, refused: true });
  }
  if (refuse && options.acceptDifferences !== true) refuseDifferences(t.notes);
  const input = t.config;
  const locate = (path: ModelPath) => {
    const s = nearestSource(t.sources, path);
    return s !== undefined ? { file: s.file, line: s.line, key: apacheName(input, path) } : { file, key: apacheName(input, path) };
  };
  let describer = { keyName: (path: ModelPath) => apacheName(input, path), locate };
  let config: ServerConfig;
  if (errors === undefined) config = validateConfig(input, describer);
  else {
    const collected = validateConfigCollect(input, describer);
    errors.push(...collected.errors);
    if (collected.config === undefined) throw errors[0] ?? new ConfigError(ApacheErrorCode.SYNTAX, `${file} is not a usable configuration`);
    config = collected.config;
    const { toOriginal } = collected;
    describer = { keyName: (path) => apacheName(input, toOriginal(path)), locate: (path) => locate(toOriginal(path)) };
  }
  const loaded: LoadedConfig = {
    config,
    baseDir: process.cwd(),
    describer,
    notes,
    homeSetting: (g) => (g === undefined ? 'WSGIPythonHome' : `WSGIDaemonProcess ${g} python-home=`),
    label: `${file} (Apache)`,
    identity: `apache:${realpathSync(file)}:${defines.join(',')}`,
    ...(options.acceptDifferences === true ? { acceptDifferences: true } : {}),
  };
  return { translation: t, loaded };
}

/** The security model: what Apache would restrict or route, and wsgi-host cannot, stops here, all of it named. */
function refuseDifferences(notes: ApacheNote[]): void {
  const refused = notes.filter((n) => n.refused === true);
  if (refused.length === 0) return;
  const first = refused[0] as ApacheNote;
  const list = refused.map((n) => `  ${formatSource({ file: n.file, line: n.line })}: ${n.message}`).join('\n');
  throw new ConfigError(
    ApacheErrorCode.REFUSED,
    `${refused.length === 1 ? 'a directive restricts' : `${refused.length} directives restrict`} access or send${refused.length === 1 ? 's' : ''} requests where wsgi-host cannot do the same, so it would not answer as Apache does:\n${list}`,
    {
      source: { file: first.file, line: first.line },
      hint: 'Change the configuration as each line says; or, to serve without them, add --accept-apache-differences (what cannot be decided is then decided against the request: never more open than Apache). wsgi-host check lists them all',
    },
  );
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
