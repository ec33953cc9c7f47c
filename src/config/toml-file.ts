import { readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { didYouMean } from '../util/did-you-mean.js';
import { ConfigError, ConfigErrorCode as C } from './errors.js';
import { camel, kebab, kebabPath, mapKeys } from './key-names.js';
import type { LoadedConfig } from './loaded-config.js';
import type { ServerConfig } from './schema.js';
import { knownKeys, validateConfig, validateConfigCollect } from './validate.js';

/** A key whose error was collected: removed before validation. */
const DROPPED = '\u0000dropped';

function withoutDropped(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDropped);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (k !== DROPPED) out[k] = withoutDropped(v);
  return out;
}
import { lineFor, locateTomlKeys } from './toml-locator.js';

/**
 * Reads, parses and validates a wsgi-host.toml; every error names the file, line, key and fix.
 * With `errors` (wsgi-host check), validation errors are collected there instead of thrown, and the
 * config without the offending values is returned, so the rest can be checked too; what cannot be
 * read or parsed at all is still thrown.
 */
export function loadTomlConfig(file: string, errors?: ConfigError[]): LoadedConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(C.FILE_NOT_FOUND, `cannot read the config file ${path}: ${(err as Error).message}`, {
      cause: err,
      hint: 'Check the path given to -c',
    });
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0] as string;
      throw new ConfigError(C.SYNTAX, `TOML syntax error: ${first}`, {
        cause: err,
        source: { file, line: err.line },
        hint: /redefine|already/i.test(first)
          ? 'A table or key is defined twice; merge the two'
          : 'Fix the syntax at that line (strings need quotes; tables are [name], lists of tables [[name]])',
      });
    }
    throw err;
  }
  const lines = locateTomlKeys(text);
  const locate = (p: (string | number)[]) => ({ file, line: lineFor(lines, kebabPath(p)), key: kebabPath(p) });
  const input = mapKeys(raw, (key, parent) => {
    const name = camel(key);
    if (kebab(name) !== key) {
      // camelCase or other spellings: the file uses mod_wsgi's kebab-case names.
      const known = knownKeys(parent);
      const guess = didYouMean(key, known.map(kebab));
      const shown = parent.length ? `${kebabPath(parent)}.${key}` : key;
      const err = new ConfigError(C.UNKNOWN_KEY, `unknown key '${shown}'`, {
        path: [...parent, key],
        source: { file, line: lineFor(lines, shown) ?? lineFor(lines, kebabPath(parent)), key: shown },
        hint: guess ? `Did you mean '${guess}'? Keys are written in kebab-case, as mod_wsgi's options` : 'Keys are written in kebab-case',
      });
      if (errors === undefined) throw err;
      errors.push(err);
      return DROPPED;
    }
    return name;
  });
  let describer = { keyName: kebabPath, locate };
  let config: ServerConfig;
  if (errors === undefined) config = validateConfig(input, describer);
  else {
    const collected = validateConfigCollect(withoutDropped(input), describer);
    errors.push(...collected.errors);
    if (collected.config === undefined) throw errors[0] ?? new ConfigError(C.INVALID_VALUE, `${file} is not a valid configuration`);
    config = collected.config;
    const { toOriginal } = collected;
    describer = { keyName: (p) => kebabPath(toOriginal(p)), locate: (p) => locate(toOriginal(p)) };
  }
  return {
    config,
    baseDir: dirname(path),
    describer,
    notes: [],
    homeSetting: (g) => (g === undefined ? 'python-home' : `python-home of group '${g}'`),
    label: file,
    identity: `toml:${realpathSync(path)}`,
  };
}
