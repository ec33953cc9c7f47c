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

/** URL prefixes: one definition for the model, this reader and the router. */
export { underPrefix, urlPrefix } from '../url-prefix.js';
