/** Shell-style wildcards (fnmatch with FNM_PATHNAME), as Apache matches paths, files and sections. */

export const hasWildcard = (s: string): boolean => /[*?[]/.test(s);

/**
 * A wildcard pattern as a regular expression: `*` and `?` never cross '/', `[...]` and `[!...]`
 * are classes (a `]` right after the `[` is part of the class). `whole`: the entire text must match;
 * else a leading run of whole segments.
 */
export function globRegex(pattern: string, whole = true): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(whole ? `^${re}$` : `^${re}(?=/|$)`);
}
