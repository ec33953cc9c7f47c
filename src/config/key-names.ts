/**
 * The config model is camelCase; the TOML file (and messages about it) use kebab-case, as mod_wsgi's
 * option names do. Keys inside user-data tables (environment variables) are kept as written.
 */
export const USER_DATA_KEYS = new Set(['env', 'environ']);

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** 'group[0].python-home' for ['group', 0, 'pythonHome']. */
export function kebabPath(path: (string | number)[]): string {
  let out = '';
  let inUserData = false;
  for (const p of path) {
    if (typeof p === 'number') {
      out += `[${p}]`;
      continue;
    }
    const name = inUserData ? p : kebab(p);
    out += out ? `.${name}` : name;
    inUserData = USER_DATA_KEYS.has(p);
  }
  return out;
}

/** Maps a value's keys with fn, recursively, leaving user-data tables alone. */
export function mapKeys(value: unknown, fn: (key: string, path: (string | number)[]) => string, path: (string | number)[] = []): unknown {
  if (Array.isArray(value)) return value.map((v, i) => mapKeys(v, fn, [...path, i]));
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = fn(k, path);
    out[key] = USER_DATA_KEYS.has(key) ? v : mapKeys(v, fn, [...path, key]);
  }
  return out;
}
