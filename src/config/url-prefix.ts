/** URL prefixes of mounts and aliases, one way for the config model, the Apache reader and the router. */

/** A URL prefix as the model keeps it: leading slash, no trailing slash ('/' for the root). */
export function urlPrefix(url: string): string {
  let p = url.replace(/\/{2,}/g, '/');
  if (!p.startsWith('/')) p = `/${p}`;
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/** A mount prefix as the router matches it: urlPrefix of the trimmed text, but '' for the root. */
export function normalizePrefix(prefix: string): string {
  const p = urlPrefix(prefix.trim());
  return p === '/' ? '' : p;
}

/** Whether `path` is `prefix` or below it, at a segment boundary ('/' covers everything). */
export function underPrefix(path: string, prefix: string): boolean {
  if (prefix === '/' || path === prefix) return true;
  return path.startsWith(prefix) && path.charAt(prefix.length) === '/';
}
