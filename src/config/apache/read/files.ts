import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { globRegex, hasWildcard } from '../../../util/glob.js';
import { ApacheErrorCode as E, apacheError, type Where } from '../errors.js';

/**
 * Files on disk as Apache finds them: paths with wildcards (* ? [...]) in any component, sorted as
 * Apache sorts, and the files an Include names.
 */

export { hasWildcard } from '../../../util/glob.js';

/** A shell-style wildcard component as a regular expression ('*' never crosses '/'). */
export const wildcardRegex = (pattern: string): RegExp => globRegex(pattern);

/** Existing paths matching an absolute pattern; a wildcard never matches a leading dot. */
export function globPaths(pattern: string): string[] {
  const parts = pattern.split(sep).filter((p) => p !== '');
  let current: string[] = [sep];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of current) {
      if (!hasWildcard(part)) {
        const p = join(base, part);
        if (exists(p)) next.push(p);
        continue;
      }
      const re = wildcardRegex(part);
      for (const name of listDir(base)) {
        if (!name.startsWith('.') && re.test(name)) next.push(join(base, name));
      }
    }
    current = next;
  }
  return current.sort(byteOrder);
}

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
    throw apacheError(
      E.INCLUDE,
      `${directive} ${pattern}: ${what}`,
      where,
      directive,
      `Fix the path (a relative one is taken from ServerRoot, ${serverRoot}), or use IncludeOptional if the files may be absent`,
    );
  }
  return matches.flatMap((m) => (isDirectory(m) ? filesUnder(m) : [m]));
}

/** Files of a folder and its subfolders, sorted (Apache's Include of a folder). */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of listDir(dir).sort(byteOrder)) {
    const p = join(dir, name);
    if (isDirectory(p)) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
