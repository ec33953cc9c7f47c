import { ApacheErrorCode as E, apacheError, type Where } from '../errors.js';

/** One logical line: continuations joined, comments and blank lines dropped. */
export interface LogicalLine {
  text: string;
  /** The first physical line. */
  line: number;
}

/**
 * Splits a file into logical lines as Apache's reader does: a backslash as the very last character
 * continues the line onto the next one; a line whose first non-blank character is '#' is a comment
 * (Apache has no comments after a directive).
 */
export function logicalLines(source: string): LogicalLine[] {
  const physical = source.split(/\r?\n/);
  const out: LogicalLine[] = [];
  let pending = '';
  let start = 0;
  physical.forEach((text, i) => {
    if (pending === '') start = i + 1;
    if (text.endsWith('\\') && !text.endsWith('\\\\')) {
      pending += text.slice(0, -1);
      return;
    }
    const joined = (pending + text).trim();
    pending = '';
    if (joined !== '' && !joined.startsWith('#')) out.push({ text: joined, line: start });
  });
  const last = pending.trim();
  if (last !== '' && !last.startsWith('#')) out.push({ text: last, line: start });
  return out;
}

/**
 * Splits arguments into words. A word may be quoted with "..." or '...' (spaces kept); so may the
 * value of a mod_wsgi option (display-name="my app"). Inside quotes, \" (or \') and \\ are escapes;
 * other backslashes are kept, so regular expressions need no doubling.
 */
export function splitWords(text: string, where: Where, key: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (i >= text.length) break;
    let word = '';
    while (i < text.length && !/\s/.test(text[i] as string)) {
      const c = text[i] as string;
      if ((c === '"' || c === "'") && (word === '' || word.endsWith('='))) {
        const [value, next] = readQuoted(text, i, where, key);
        word += value;
        i = next;
      } else if (c === '\\' && text[i + 1] === '\\') {
        word += '\\';
        i += 2;
      } else {
        word += c;
        i++;
      }
    }
    words.push(word);
  }
  return words;
}

function readQuoted(text: string, open: number, where: Where, key: string): [string, number] {
  const quote = text[open] as string;
  let value = '';
  let i = open + 1;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === quote) return [value, i + 1];
    if (c === '\\' && (text[i + 1] === quote || text[i + 1] === '\\')) {
      value += text[i + 1];
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  throw apacheError(
    E.SYNTAX,
    `the quote ${quote} opened in ${key} is never closed`,
    where,
    key,
    `Close the quoted value with ${quote} on the same logical line (end a line with \\ to continue it)`,
  );
}

export type ParsedLine =
  | { kind: 'open'; name: string; argText: string }
  | { kind: 'close'; name: string }
  | { kind: 'directive'; name: string; argText: string };

/** Tells a section opening (<Name args>), a section closing (</Name>) and a directive apart. */
export function parseLine(line: LogicalLine, file: string): ParsedLine {
  const where = { file, line: line.line };
  const t = line.text;
  if (t.startsWith('</')) {
    if (!t.endsWith('>')) throw missingBracket(t, where);
    return { kind: 'close', name: t.slice(2, -1).trim() };
  }
  if (t.startsWith('<')) {
    if (!t.endsWith('>')) throw missingBracket(t, where);
    const inner = t.slice(1, -1).trim();
    const m = /^(\S+)\s*(.*)$/s.exec(inner);
    if (m === null) throw apacheError(E.SYNTAX, `'${t}' is an empty section tag`, where, t, 'Write <SectionName arguments> or remove the line');
    return { kind: 'open', name: m[1] as string, argText: m[2] as string };
  }
  const m = /^(\S+)\s*(.*)$/s.exec(t) as RegExpExecArray;
  return { kind: 'directive', name: m[1] as string, argText: m[2] as string };
}

function missingBracket(text: string, where: Where): Error {
  const name = /^<\/?([^\s>]*)/.exec(text)?.[1] ?? '';
  return apacheError(
    E.SYNTAX,
    `the section tag '${text}' does not end with '>'`,
    where,
    `<${name}>`,
    `End the tag with '>' on the same logical line, e.g. <${name} ...>`,
  );
}
