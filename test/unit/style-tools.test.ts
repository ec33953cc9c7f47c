import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from '../helpers/wsgi-host.js';

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

/** The rules biome.json turns off, as `group/rule`. */
function rulesTurnedOff(): string[] {
  const config = JSON.parse(read('biome.json')) as { linter?: { rules?: Record<string, unknown> } };
  const off: string[] = [];
  for (const [group, rules] of Object.entries(config.linter?.rules ?? {})) {
    if (rules === null || typeof rules !== 'object') continue;
    for (const [rule, setting] of Object.entries(rules as Record<string, unknown>)) {
      const level = typeof setting === 'object' && setting !== null ? (setting as { level?: unknown }).level : setting;
      if (level === 'off') off.push(`${group}/${rule}`);
    }
  }
  return off.sort();
}

/** The rules docs/architecture.md's "Tools that keep the style" table lists, with their reasons. */
function rulesDocumented(): Map<string, string> {
  const doc = read('docs/architecture.md');
  const start = doc.indexOf('## Tools that keep the style');
  assert.ok(start >= 0, 'docs/architecture.md has a "Tools that keep the style" section');
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const rows = new Map<string, string>();
  for (const m of section.matchAll(/^\| `([a-zA-Z]+\/[a-zA-Z]+)` \| (.*) \|$/gm)) rows.set(m[1] as string, (m[2] as string).trim());
  return rows;
}

describe('the tools that keep the style', () => {
  test('npm test checks formatting and lint (biome check, warnings included) after compiling and before any test runs', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    const steps = (scripts.test ?? '').split('&&').map((s) => s.trim());
    assert.deepEqual(steps.slice(0, 2), ['tsc -p tsconfig.json', 'biome check --error-on-warnings']);
    assert.match(steps[2] ?? '', /^node dist\/test\/run\.js/);
    assert.equal(scripts.lint, 'node scripts/lint.mjs');
    const lint = read('scripts/lint.mjs');
    for (const tool of ["'--noEmit'", "'check', '--error-on-warnings'", 'flake8']) assert.ok(lint.includes(tool), `npm run lint runs ${tool}`);
  });

  test('every Biome rule turned off is in docs/architecture.md with its reason, and the table names no other', () => {
    const off = rulesTurnedOff();
    const documented = rulesDocumented();
    assert.deepEqual([...documented.keys()].sort(), off, 'the rules turned off in biome.json are the ones docs/architecture.md lists');
    for (const [rule, why] of documented) assert.ok(why.length > 20, `${rule} says why it is off`);
  });

  test('tsconfig.json keeps the strict flags on', () => {
    const { compilerOptions } = JSON.parse(read('tsconfig.json')) as { compilerOptions: Record<string, unknown> };
    const flags = [
      'strict',
      'noImplicitOverride',
      'noFallthroughCasesInSwitch',
      'noUnusedLocals',
      'noUnusedParameters',
      'noUncheckedIndexedAccess',
      'exactOptionalPropertyTypes',
    ];
    for (const flag of flags) {
      assert.equal(compilerOptions[flag], true, `${flag} is on`);
    }
  });
});
