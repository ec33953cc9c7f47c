import { z } from 'zod';
import { kebab, USER_DATA_KEYS } from './key-names.js';
import { ServerConfigSchema } from './schema.js';

/** The JSON Schema of wsgi-host.toml (kebab-case keys), generated from the config model. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ServerConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const out = renameProperties(schema) as Record<string, unknown>;
  out.$id = 'https://wsgi-host.invalid/wsgi-host.schema.json';
  out.title = 'wsgi-host.toml';
  return out;
}

function renameProperties(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(renameProperties);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === 'properties' && v && typeof v === 'object') {
      const props: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(v as Record<string, unknown>)) {
        props[kebab(name)] = USER_DATA_KEYS.has(name) ? sub : renameProperties(sub);
      }
      out[k] = props;
    } else if (k === 'required' && Array.isArray(v)) {
      out[k] = v.map((n) => kebab(String(n)));
    } else {
      out[k] = renameProperties(v);
    }
  }
  return out;
}
