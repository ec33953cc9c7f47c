import { urlPrefix } from '../paths.js';
import { globPaths, isFile } from '../read/files.js';

/**
 * WSGIScriptAliasMatch in a model of prefix mounts. An expression that is a literal prefix and
 * one capture group confined to a path segment (^/wsgi/([^/]+)) with the script naming $1 is
 * expanded, at translation time, into one mount per script file that exists.
 */

export interface PrefixPattern {
  prefix: string;
  /** The capture group, anchored; absent for a plain prefix. */
  group?: RegExp;
}

const GROUP_BODY = /^(\[(?:\\.|[^\]\\])+\]|\\[wdWDsS]|\.)([+*])$/;
const META = new Set(['.', '*', '+', '?', '[', ']', '{', '}', '|', ')']);

/** The prefix and capture group of an expression, or why it is not of that form. */
export function analyseAliasRegex(re: string): PrefixPattern | string {
  if (!re.startsWith('^')) return 'it is not anchored at the start with ^';
  let prefix = '';
  let i = 1;
  for (; i < re.length && re[i] !== '('; i++) {
    const c = re[i] as string;
    if (c === '\\') {
      const next = re[i + 1] ?? '';
      if (/[A-Za-z0-9]/.test(next)) return `\\${next} is not a literal character`;
      prefix += next;
      i++;
    } else if (c === '$' && i === re.length - 1) {
      break;
    } else if (META.has(c) || c === '$') {
      return `'${c}' makes the prefix variable`;
    } else prefix += c;
  }
  if (!prefix.startsWith('/')) return "its literal part does not start with '/'";
  if (i >= re.length - 1 && re[i] !== '(') return { prefix };
  const close = re.indexOf(')', i);
  const body = re.slice(i + 1, close === -1 ? re.length : close);
  const rest = close === -1 ? '' : re.slice(close + 1);
  const m = GROUP_BODY.exec(body);
  if (close === -1 || m === null) return `the group (${body}) is not one run of a character class`;
  if (rest !== '' && rest !== '$') return `'${rest}' follows the group`;
  if (new RegExp(`^${m[1]}$`).test('/')) return `the group (${body}) can match '/', so it is not confined to one path segment`;
  return { prefix, group: new RegExp(`^${body}$`) };
}

export interface ExpandedMount {
  url: string;
  script: string;
}

/** One mount per script file matching the target with $1 as a wildcard; or why it cannot be done. */
export function expandAliasMatch(pattern: PrefixPattern, target: string): { mounts: ExpandedMount[]; glob: string } | string {
  const refs = [...target.matchAll(/\$(\d)/g)].map((m) => m[1]);
  if (pattern.group === undefined) {
    return refs.length > 0
      ? `the script path uses $${refs[0]} but the expression captures nothing`
      : { mounts: [{ url: urlPrefix(pattern.prefix), script: target }], glob: target };
  }
  if (refs.length === 0) return 'the script path does not use $1, so every URL would run the same script';
  if (refs.some((r) => r !== '1')) return 'the script path uses a group other than $1';
  const glob = target.replace(/\$1/g, '*');
  const template = templateRegex(target);
  const mounts = new Map<string, ExpandedMount>();
  for (const script of globPaths(glob).filter(isFile)) {
    const value = template.exec(script)?.[1];
    if (value === undefined || value === '' || !pattern.group.test(value)) continue;
    const url = urlPrefix(pattern.prefix + value);
    if (!mounts.has(url)) mounts.set(url, { url, script });
  }
  return { mounts: [...mounts.values()], glob };
}

/** The target as an expression: the first $1 captures, later ones must repeat it. */
function templateRegex(target: string): RegExp {
  let first = true;
  const escaped = target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\$1/g, () => {
    const part = first ? '([^/]+)' : '\\1';
    first = false;
    return part;
  });
  return new RegExp(`^${escaped}$`);
}
