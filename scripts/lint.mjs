#!/usr/bin/env node
/**
 * `npm run lint`: every tool that keeps the style, in one run, without writing anything.
 *
 *   1. tsc --noEmit         the TypeScript compiles under tsconfig.json (strict, noUncheckedIndexedAccess, ...)
 *   2. biome check          the TypeScript and scripts are formatted and pass the linter (biome.json)
 *   3. flake8 worker/       the Python worker passes flake8 (worker/.flake8); skipped, saying so,
 *                           when flake8 is not installed (apt-get install -y python3-flake8)
 *
 * Each step runs even when one before it failed, so one run shows every finding; the exit status
 * is 1 when any step failed. `npx biome check --write .` fixes what the formatter and the safe
 * lint fixes can.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'node_modules', '.bin');

/** Runs one step with its output shown; true when it passed. */
function step(title, cmd, args) {
  process.stdout.write(`\n== ${title}: ${[cmd, ...args].join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.error) process.stdout.write(`${title}: could not run ${cmd}: ${r.error.message}\n`);
  const ok = r.status === 0;
  process.stdout.write(`== ${title}: ${ok ? 'ok' : 'FAILED'}\n`);
  return ok;
}

/** flake8's command here: flake8 on PATH, or a python3 on PATH that has it as a module (Debian's python3-flake8). */
function findFlake8() {
  const works = (cmd) => spawnSync(cmd[0], [...cmd.slice(1), '--version'], { timeout: 30_000, stdio: 'ignore' }).status === 0;
  if (works(['flake8'])) return ['flake8'];
  const pythons = [];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '' || !existsSync(dir)) continue;
    let names;
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => /^python3(\.\d+)?$/.test(n)).sort()) pythons.push(join(dir, name));
  }
  for (const py of pythons) if (works([py, '-m', 'flake8'])) return [py, '-m', 'flake8'];
  return undefined;
}

const results = [
  step('tsc', process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--noEmit']),
  step('biome', join(BIN, 'biome'), ['check', '--error-on-warnings']),
];
const flake8 = findFlake8();
if (flake8 === undefined) {
  process.stdout.write('\n== flake8: skipped, flake8 is not installed (apt-get install -y python3-flake8)\n');
} else {
  results.push(step('flake8', flake8[0], [...flake8.slice(1), '--config', join('worker', '.flake8'), 'worker']));
}
process.exit(results.every(Boolean) ? 0 : 1);
