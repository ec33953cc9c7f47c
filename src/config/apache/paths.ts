import { isAbsolute, resolve } from 'node:path';

/** Makes configuration paths absolute: a relative one is taken from ServerRoot, as Apache does. */
export class PathResolver {
  constructor(readonly serverRoot: string) {}

  absolute(p: string): string {
    const r = isAbsolute(p) ? resolve(p) : resolve(this.serverRoot, p);
    return r.length > 1 && r.endsWith('/') ? r.slice(0, -1) : r;
  }
}

/** mod_wsgi's python-path and WSGIPythonPath: a colon-separated list. */
export const splitPathList = (raw: string): string[] => raw.split(':').filter((p) => p !== '');

/** A URL prefix as the model keeps it: leading slash, no trailing slash ('/' for the root). */
export function urlPrefix(url: string): string {
  let p = url.replace(/\/{2,}/g, '/');
  if (!p.startsWith('/')) p = `/${p}`;
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/** Whether `path` is `prefix` or below it, at a segment boundary ('/' covers everything). */
export function underPrefix(path: string, prefix: string): boolean {
  if (prefix === '/' || path === prefix) return true;
  return path.startsWith(prefix) && path.charAt(prefix.length) === '/';
}
