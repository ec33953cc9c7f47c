import { stringify } from 'smol-toml';
import { kebab, mapKeys } from './key-names.js';

/** The config model (or an input for it) as a wsgi-host.toml, in kebab-case keys. */
export function toToml(config: unknown, header?: string): string {
  const body = stringify(mapKeys(JSON.parse(JSON.stringify(config)), (k) => kebab(k)) as Record<string, unknown>);
  return `${header ? `${header}\n\n` : ''}${body}`;
}
