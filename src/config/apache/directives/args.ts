import { ApacheErrorCode as E, apacheError } from '../errors.js';
import type { DirectiveNode } from '../read/nodes.js';

/** Argument checks shared by the directive handlers; each error names the file, line and usage. */

export function expectArgs(d: DirectiveNode, min: number, max: number, usage: string): void {
  const n = d.args.length;
  if (n >= min && n <= max) return;
  const comment = d.args.findIndex((a) => a.startsWith('#'));
  const hint =
    comment >= 0 && n > max ? `Apache has no comments after a directive: put '${d.args.slice(comment).join(' ')}' on a line of its own` : `Write ${usage}`;
  const wanted = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
  throw apacheError(E.SYNTAX, `${d.name} takes ${wanted} argument${wanted === '1' ? '' : 's'}, got ${n}`, d, d.name, hint);
}

/** On/Off, as Apache's flags take them (any case). */
export function onOff(d: DirectiveNode, value: string, key = d.name): boolean {
  const v = value.toLowerCase();
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw apacheError(E.BAD_VALUE, `${key} takes On or Off, not '${value}'`, d, key, `Write ${key === d.name ? `${d.name} On` : `${key}On`} or Off`);
}

/** A whole number (bytes, seconds), for core directives. */
export function wholeNumber(d: DirectiveNode, value: string): number {
  if (!/^\d+$/.test(value)) {
    throw apacheError(E.BAD_VALUE, `${d.name} takes a whole number, not '${value}'`, d, d.name, `Write e.g. ${d.name} 5`);
  }
  return Number(value);
}
