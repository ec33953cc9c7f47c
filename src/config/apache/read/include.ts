import { isAbsolute, resolve } from 'node:path';
import { ApacheErrorCode as E, apacheError, type Where } from '../errors.js';
import { filesUnder, globPaths, hasWildcard, isDirectory, isFile } from './glob.js';

/**
 * The files an Include or IncludeOptional names, in the order Apache reads them: a relative
 * pattern is taken from ServerRoot, wildcards are expanded and sorted, a folder is read whole.
 * Include refuses a missing file or a pattern that matches nothing; IncludeOptional does not.
 */
export function includeFiles(pattern: string, optional: boolean, serverRoot: string, where: Where): string[] {
  const directive = optional ? 'IncludeOptional' : 'Include';
  const full = isAbsolute(pattern) ? pattern : resolve(serverRoot, pattern);
  const matches = hasWildcard(full) ? globPaths(full) : isFile(full) || isDirectory(full) ? [full] : [];
  if (matches.length === 0 && !optional) {
    const what = hasWildcard(full) ? `the pattern ${full} matches no file` : `${full} does not exist`;
    throw apacheError(E.INCLUDE, `${directive} ${pattern}: ${what}`, where, directive,
      `Fix the path (a relative one is taken from ServerRoot, ${serverRoot}), or use IncludeOptional if the files may be absent`);
  }
  return matches.flatMap((m) => (isDirectory(m) ? filesUnder(m) : [m]));
}
