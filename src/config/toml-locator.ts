/**
 * Finds the line of each key in a TOML document, by path: 'listen[0].port', 'group[1].python-home'.
 * smol-toml reports no positions, so this scans the text: table headers ([a.b], [[a.b]] with their
 * array indices), key lines (plain, quoted and dotted keys), skipping multi-line strings and arrays.
 */
export function locateTomlKeys(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  let table = '';
  let depth = 0;
  let inMultiline: string | undefined;
  const rows = text.split(/\r?\n/);
  for (let i = 0; i < rows.length; i++) {
    const lineNo = i + 1;
    let row = rows[i] as string;
    if (inMultiline !== undefined) {
      if (row.includes(inMultiline)) inMultiline = undefined;
      continue;
    }
    if (depth > 0) {
      depth += bracketDelta(row);
      continue;
    }
    row = stripComment(row).trim();
    if (!row) continue;
    const arrayHeader = /^\[\[\s*([^\]]+?)\s*\]\]$/.exec(row);
    if (arrayHeader) {
      const parts = splitKey(arrayHeader[1] as string);
      const parent = resolveParent(parts.slice(0, -1), arrayCounts);
      const name = join(parent, parts[parts.length - 1] as string);
      const n = arrayCounts.get(name) ?? 0;
      arrayCounts.set(name, n + 1);
      table = `${name}[${n}]`;
      if (!lines.has(name)) lines.set(name, lineNo);
      lines.set(table, lineNo);
      continue;
    }
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(row);
    if (header) {
      table = resolveParent(splitKey(header[1] as string), arrayCounts);
      if (!lines.has(table)) lines.set(table, lineNo);
      continue;
    }
    const eq = findEquals(row);
    if (eq < 0) continue;
    const keyParts = splitKey(row.slice(0, eq));
    let path = table;
    for (const k of keyParts) {
      path = join(path, k);
      if (!lines.has(path)) lines.set(path, lineNo);
    }
    const value = row.slice(eq + 1).trim();
    for (const q of ['"""', "'''"]) {
      if (value.startsWith(q) && value.slice(3).indexOf(q) === -1) inMultiline = q;
    }
    if (inMultiline === undefined) {
      depth = bracketDelta(value);
      if (value.startsWith('[')) indexArrayItems(path, value, lineNo, lines);
    }
  }
  return lines;
}

/** The nearest located line for a path or its parents. */
export function lineFor(lines: Map<string, number>, path: string): number | undefined {
  let p = path;
  for (;;) {
    const l = lines.get(p);
    if (l !== undefined) return l;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return undefined;
    p = p.slice(0, cut);
  }
}

function indexArrayItems(path: string, value: string, lineNo: number, lines: Map<string, number>): void {
  // Single-line arrays: each element is on the key's line.
  let n = 0;
  for (const _ of value.split(',')) lines.set(`${path}[${n++}]`, lineNo);
}

function resolveParent(parts: string[], arrayCounts: Map<string, number>): string {
  let path = '';
  for (const p of parts) {
    path = join(path, p);
    const n = arrayCounts.get(path);
    if (n !== undefined) path = `${path}[${n - 1}]`;
  }
  return path;
}

function join(a: string, b: string): string {
  return a ? `${a}.${b}` : b;
}

function splitKey(key: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)/gy;
  for (;;) {
    const m = re.exec(key);
    if (m === null || m[0] === '') break;
    out.push((m[1] ?? m[2] ?? m[3]) as string);
  }
  return out;
}

function findEquals(row: string): number {
  let quote: string | undefined;
  for (let i = 0; i < row.length; i++) {
    const c = row[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '=') return i;
  }
  return -1;
}

function stripComment(row: string): string {
  let quote: string | undefined;
  for (let i = 0; i < row.length; i++) {
    const c = row[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return row.slice(0, i);
  }
  return row;
}

function bracketDelta(text: string): number {
  let d = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') break;
    else if (c === '[' || c === '{') d++;
    else if (c === ']' || c === '}') d--;
  }
  return Math.max(0, d);
}
