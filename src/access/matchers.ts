import { AccessRuleError } from './errors.js';
import { type AccessRule, MATCHER_KEYS } from './policy.js';
import { globRegex, hasWildcard } from '../util/glob.js';

/** What requests an access rule applies to: its path, path-match, directory, directory-match, files or files-match key. */

export type Matcher =
  | { type: 'always' }
  | { type: 'path'; prefix: string; glob?: RegExp }
  | { type: 'pathMatch'; re: RegExp }
  | { type: 'directory'; dir: string; glob?: RegExp }
  | { type: 'directoryMatch'; re: RegExp }
  | { type: 'files'; glob: RegExp }
  | { type: 'filesMatch'; re: RegExp }
  /** A <Files> inside a <Directory>: both must match. */
  | { type: 'both'; outer: Matcher; inner: Matcher };

export function compileMatcher(rule: AccessRule, at: (...p: (string | number)[]) => (string | number)[]): Matcher {
  const given = MATCHER_KEYS.filter((k) => rule[k] !== undefined);
  const folder = given.filter((k) => k === 'directory' || k === 'directoryMatch');
  const file = given.filter((k) => k === 'files' || k === 'filesMatch');
  if (given.length === 2 && folder.length === 1 && file.length === 1) {
    // A <Files> inside a <Directory>.
    return { type: 'both', outer: compileOne(rule, folder[0] as MatcherKey, at), inner: compileOne(rule, file[0] as MatcherKey, at) };
  }
  if (given.length > 1) {
    throw new AccessRuleError(
      `an access rule has one matcher (or a folder and a file name), not ${given.join(' and ')}`,
      at(given[1] as string),
      'Split it into one rule per matcher',
    );
  }
  const key = given[0];
  if (key === undefined) return { type: 'always' };
  return compileOne(rule, key, at);
}

type MatcherKey = (typeof MATCHER_KEYS)[number];

function compileOne(rule: AccessRule, key: MatcherKey, at: (...p: (string | number)[]) => (string | number)[]): Matcher {
  const value = rule[key] as string;
  const regex = (): RegExp => {
    try {
      return new RegExp(value);
    } catch (err) {
      throw new AccessRuleError(`${key} '${value}' is not a regular expression: ${(err as Error).message}`, at(key), 'Fix the expression', { cause: err });
    }
  };
  switch (key) {
    case 'path': {
      if (!value.startsWith('/')) throw new AccessRuleError(`path '${value}' must start with '/'`, at(key), `Write '/${value}'`);
      const prefix = value.replace(/\/{2,}/g, '/');
      return hasWildcard(prefix) ? { type: 'path', prefix, glob: globRegex(prefix, true) } : { type: 'path', prefix };
    }
    case 'pathMatch':
      return { type: 'pathMatch', re: regex() };
    case 'directory': {
      if (!value.startsWith('/')) throw new AccessRuleError(`directory '${value}' must be an absolute path`, at(key), 'Write the full path of the folder');
      const dir = value.length > 1 ? value.replace(/\/+$/, '') : value;
      return hasWildcard(dir) ? { type: 'directory', dir, glob: globRegex(dir, false) } : { type: 'directory', dir };
    }
    case 'directoryMatch':
      return { type: 'directoryMatch', re: regex() };
    case 'files':
      return { type: 'files', glob: globRegex(value, true) };
    case 'filesMatch':
      return { type: 'filesMatch', re: regex() };
  }
}
