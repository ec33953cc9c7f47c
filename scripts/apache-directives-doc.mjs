#!/usr/bin/env node
/**
 * Writes the table of Apache directives (honoured, refused, noted) into docs/configuration.md,
 * between its markers, from the directive table itself (src/config/apache/directives/table.ts), so
 * the documentation cannot drift from the code. test/unit/apache-directives.test.ts checks it.
 *
 * Usage: npx tsc -p tsconfig.json && node scripts/apache-directives-doc.mjs
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { DOC_END, DOC_START, directiveTableMarkdown } = await import(join(root, 'dist', 'src', 'config', 'apache', 'directives', 'table-doc.js'));
const file = join(root, 'docs', 'configuration.md');
const doc = readFileSync(file, 'utf8');
const start = doc.indexOf(DOC_START);
const end = doc.indexOf(DOC_END);
if (start < 0 || end < start) {
  process.stderr.write(`docs/configuration.md has no markers: add\n${DOC_START}\n${DOC_END}\nwhere the table goes\n`);
  process.exit(1);
}
writeFileSync(file, doc.slice(0, start) + directiveTableMarkdown() + doc.slice(end + DOC_END.length));
process.stdout.write('docs/configuration.md: the Apache directive table is up to date\n');
