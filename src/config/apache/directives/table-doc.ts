import { type DirectiveRow, directiveRows, FAMILIES } from './table.js';

/**
 * The directive table as docs/configuration.md shows it (scripts/apache-directives-doc.mjs writes
 * it there; test/unit/apache-directives.test.ts fails when the two differ): every directive the
 * table names, grouped as serve treats it: honoured, refused (serve stops unless
 * --accept-apache-differences), or noted (cannot let more in than Apache).
 */

export const DOC_START = '<!-- apache-directives: generated from src/config/apache/directives/table.ts by scripts/apache-directives-doc.mjs -->';
export const DOC_END = '<!-- apache-directives: end -->';

type Verdict = 'honoured' | 'refused' | 'noted';

function verdict(row: DirectiveRow): Verdict {
  if (row.status === 'honoured') return 'honoured';
  return row.refused !== undefined ? 'refused' : 'noted';
}

function what(row: DirectiveRow): string {
  if (row.status === 'honoured') return `→ \`${row.model ?? ''}\`${row.reason ? `. ${row.reason.charAt(0).toUpperCase()}${row.reason.slice(1)}` : ''}`;
  const when = typeof row.refused === 'string' ? `Refused ${row.refused} (otherwise noted). ` : '';
  return `${when}${row.status === 'ignored' ? 'Ignored' : 'Not honoured'}: ${row.reason}`;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function directiveTableMarkdown(): string {
  const rows = directiveRows();
  const out: string[] = [DOC_START, ''];
  const titles: Record<Verdict, string> = {
    honoured: "**Honoured**: translated into the model, with Apache's meaning.",
    refused:
      '**Refused**: Apache would restrict access or send requests elsewhere, and wsgi-host cannot do the same, so `serve` stops, naming every such line (`check` lists them as errors); `--accept-apache-differences` serves without them.',
    noted: '**Noted**: not honoured, but it cannot let a request in that Apache would refuse; `check` and the log name each use.',
  };
  for (const v of ['honoured', 'refused', 'noted'] as const) {
    out.push(titles[v], '', '| directive | what wsgi-host does |', '| --- | --- |');
    const group = rows.filter((r) => verdict(r) === v);
    const byText = new Map<string, string[]>();
    for (const r of group) {
      const text = what(r);
      byText.set(text, [...(byText.get(text) ?? []), r.name]);
    }
    for (const [text, names] of byText) out.push(`| ${names.map((n) => `\`${n}\``).join(', ')} | ${cell(text)} |`);
    out.push('');
  }
  out.push('Directives no row names, by the start of their name:', '', '| directives | what wsgi-host does |', '| --- | --- |');
  for (const f of FAMILIES) {
    const name = f.prefix === '' ? 'any other' : `\`${f.prefix}*\``;
    out.push(`| ${name} | ${f.refused ? 'Refused' : f.status === 'ignored' ? 'Ignored' : 'Not honoured'}: ${cell(f.reason)} |`);
  }
  out.push('', DOC_END);
  return out.join('\n');
}
