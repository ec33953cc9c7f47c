import { availableParallelism } from 'node:os';
import type { z } from 'zod';
import { didYouMean } from '../util/did-you-mean.js';
import { ConfigError, ConfigErrorCode as C, type ConfigSource } from './errors.js';
import { DynamicPoolSchema, type ServerConfig, ServerConfigSchema } from './schema.js';

export type ModelPath = (string | number)[];

/** How an input names and locates a value of the model, for messages. */
export interface InputDescriber {
  /** 'group[0].python-home', '--port', 'WSGIDaemonProcess processes='... */
  keyName(path: ModelPath): string;
  /** The file and line the value came from, when known. */
  locate(path: ModelPath): ConfigSource | undefined;
}

export const modelPathName = (path: ModelPath): string => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');

const plainDescriber: InputDescriber = { keyName: modelPathName, locate: () => undefined };

/** Validates an input against the model; the first problem becomes a ConfigError. */
export function validateConfig(input: unknown, describer: InputDescriber = plainDescriber): ServerConfig {
  const result = ServerConfigSchema.safeParse(input);
  if (result.success) return withEffectiveDefaults(result.data);
  throw issueToError(result.error.issues[0] as z.core.$ZodIssue, describer);
}

/**
 * Validates an input and reports every problem, not only the first (for `wsgi-host check`): each
 * offending value is dropped and the rest validated again, so the config that remains (defaults in
 * place of what was dropped) can still be planned and checked. config is undefined when no valid
 * config could be made that way. Dropping a list element (a mount without its required values)
 * shifts the elements after it: toOriginal maps a path of the returned config back to the input's,
 * and the describer given here is already wrapped with it for the errors.
 */
export function validateConfigCollect(
  input: unknown,
  describer: InputDescriber = plainDescriber,
): { config: ServerConfig | undefined; errors: ConfigError[]; toOriginal: (path: ModelPath) => ModelPath } {
  const errors: ConfigError[] = [];
  const seen = new Set<string>();
  /** Removed list elements, by the list's path in the input, as indexes in the input. */
  const removed = new Map<string, number[]>();
  const toOriginal = (path: ModelPath): ModelPath => {
    const out: ModelPath = [];
    for (const p of path) {
      if (typeof p !== 'number') {
        out.push(p);
        continue;
      }
      let i = p;
      for (const r of [...(removed.get(JSON.stringify(out)) ?? [])].sort((a, b) => a - b)) if (r <= i) i++;
      out.push(i);
    }
    return out;
  };
  const current: unknown = structuredClone(input);
  for (let round = 0; round < 20; round++) {
    const result = ServerConfigSchema.safeParse(current);
    if (result.success) return { config: withEffectiveDefaults(result.data), errors, toOriginal };
    let dropped = false;
    const spliced = new Map<unknown[], { path: ModelPath; indexes: Set<number> }>();
    for (const issue of result.error.issues) {
      let path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const err = issueToError({ ...issue, path: toOriginal(path) } as z.core.$ZodIssue, describer);
      const key = `${err.code}\0${err.message}`;
      if (!seen.has(key)) {
        seen.add(key);
        errors.push(err);
      }
      if (issue.code === 'unrecognized_keys') {
        const obj = valueAt(current, path);
        if (obj !== null && typeof obj === 'object') {
          for (const k of issue.keys) if (k in obj) dropped = delete (obj as Record<string, unknown>)[k];
        }
        continue;
      }
      // A required value that is missing: drop what holds it (the mount, the group...).
      while (path.length > 0 && valueAt(current, path) === undefined) path = path.slice(0, -1);
      if (path.length === 0) continue;
      const parent = valueAt(current, path.slice(0, -1));
      const last = path[path.length - 1] as string | number;
      if (Array.isArray(parent) && typeof last === 'number') {
        const entry = spliced.get(parent) ?? { path: path.slice(0, -1), indexes: new Set<number>() };
        entry.indexes.add(last);
        spliced.set(parent, entry);
      } else if (parent !== null && typeof parent === 'object') {
        dropped = delete (parent as Record<string, unknown>)[String(last)];
      }
    }
    for (const [parent, { path, indexes }] of spliced) {
      const listKey = JSON.stringify(toOriginal(path));
      const originals = [...indexes].map((i) => toOriginal([...path, i])[path.length] as number);
      for (const i of [...indexes].sort((a, b) => b - a)) parent.splice(i, 1);
      removed.set(listKey, [...(removed.get(listKey) ?? []), ...originals]);
      dropped = true;
    }
    if (!dropped) break;
  }
  return { config: undefined, errors, toOriginal };
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let v = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** The default group's dynamic pool when it has no explicit process count: 1 to max(2, cores). */
export function defaultDynamicPool(): { min: number; max: number; idleTimeout: number } {
  return DynamicPoolSchema.parse({ min: 1, max: Math.max(2, availableParallelism()) });
}

/** Defaults that depend on other settings (so config print shows what will run). */
function withEffectiveDefaults(config: ServerConfig): ServerConfig {
  const g = config.defaultGroup;
  if (g.processes === undefined && g.dynamic === undefined) g.dynamic = defaultDynamicPool();
  return config;
}

export function issueToError(issue: z.core.$ZodIssue, describer: InputDescriber): ConfigError {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] as string;
    const keyPath = [...path, key];
    const known = knownKeys(path);
    const guess = didYouMean(key, known);
    const shown = describer.keyName(keyPath);
    return new ConfigError(C.UNKNOWN_KEY, `unknown key '${shown}'`, {
      path: keyPath,
      source: describer.locate(keyPath),
      hint: guess
        ? `Did you mean '${describer.keyName([...path, guess])}'?`
        : `Known keys here: ${known
            .map((k) =>
              describer
                .keyName([...path, k])
                .split('.')
                .pop(),
            )
            .join(', ')}`,
    });
  }
  const shown = describer.keyName(path);
  const source = describer.locate(path);
  if (issue.code === 'invalid_type' && issue.expected === 'number') {
    return new ConfigError(C.BAD_NUMBER, `'${shown}' must be a number`, { path, source, hint: `Write a number, without quotes` });
  }
  if ((issue.code === 'too_small' || issue.code === 'too_big') && (issue.origin === 'number' || issue.origin === 'int')) {
    const bound = issue.code === 'too_small' ? `at least ${String(issue.minimum)}` : `at most ${String(issue.maximum)}`;
    return new ConfigError(C.BAD_NUMBER, `'${shown}' is out of range: it must be ${bound}`, { path, source, hint: `Use a value ${bound}` });
  }
  if (issue.code === 'invalid_type' && issue.expected === 'int') {
    return new ConfigError(C.BAD_NUMBER, `'${shown}' must be a whole number`, { path, source, hint: 'Write a whole number, without quotes' });
  }
  // A custom check of the model may carry its own fix (frontdoor-schema.ts).
  const custom = issue.code === 'custom' ? (issue.params as { hint?: unknown } | undefined)?.hint : undefined;
  const hint = typeof custom === 'string' ? custom : 'See docs/configuration.md for this key';
  return new ConfigError(C.INVALID_VALUE, `'${shown}': ${issue.message}`, { path, source, hint });
}

/** The keys the model allows at a path (for did-you-mean). */
export function knownKeys(path: ModelPath): string[] {
  let schema: z.core.$ZodType = ServerConfigSchema as unknown as z.core.$ZodType;
  for (const p of path) {
    schema = unwrap(schema);
    const def = schema._zod.def as unknown as Record<string, unknown>;
    if (typeof p === 'number') {
      if (def.type === 'array') schema = def.element as z.core.$ZodType;
      continue;
    }
    if (def.type === 'object') {
      const shape = def.shape as Record<string, z.core.$ZodType>;
      const next = shape[p];
      if (next === undefined) return [];
      schema = next;
    } else if (def.type === 'record') {
      schema = def.valueType as z.core.$ZodType;
    } else {
      return [];
    }
  }
  schema = unwrap(schema);
  const def = schema._zod.def as unknown as Record<string, unknown>;
  return def.type === 'object' ? Object.keys(def.shape as object) : [];
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let s = schema;
  for (;;) {
    const def = s._zod.def as unknown as Record<string, unknown>;
    if (def.type === 'pipe') {
      s = def.out as z.core.$ZodType; // z.preprocess: the schema the value is checked against
      continue;
    }
    if (def.type !== 'default' && def.type !== 'optional' && def.type !== 'nullable' && def.type !== 'prefault') return s;
    s = def.innerType as z.core.$ZodType;
  }
}
