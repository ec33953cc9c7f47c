/**
 * `npm test`: runs every compiled test file (dist/test/**\/*.test.js whose test/**\/*.test.ts still
 * exists) with node --test, one file at a time. Helpers and fixtures are never run as tests.
 *
 * The suite runs in the environment users have: PYTHONDONTWRITEBYTECODE (set on some of our
 * machines) is removed, so Python writes and reads __pycache__ as it does for everyone else.
 *
 * Nothing is installed here: a test that needs what this machine lacks (Chromium, Django, root...)
 * is reported as skipped, with the command that enables it; `.ci/run` installs all of that first.
 *
 * Arguments narrow the run: `npm test -- cli check` runs the files whose name contains cli or check.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST_TEST = join(fileURLToPath(import.meta.url), '..');
const ROOT = join(DIST_TEST, '..', '..');

/** Compiled test files, in a stable order; a file whose source was removed is left out. */
export function testFiles(distDir = DIST_TEST, sourceDir = join(ROOT, 'test')): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.test.js') && existsSync(join(sourceDir, relative(distDir, p).replace(/\.js$/, '.ts')))) out.push(p);
    }
  };
  walk(distDir);
  return out;
}

/** The tests' environment: this one, without what hides Python's behaviour on users' machines. */
export function testEnvironment(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...base };
  delete env.PYTHONDONTWRITEBYTECODE;
  return env;
}

function main(): void {
  const filters = process.argv.slice(2);
  const all = testFiles();
  const files = filters.length === 0 ? all : all.filter((f) => filters.some((x) => relative(DIST_TEST, f).split(sep).join('/').includes(x)));
  if (files.length === 0) {
    process.stderr.write(`npm test: no test file matches ${filters.join(' ')}\n`);
    process.exit(2);
  }
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', env: testEnvironment(process.env) });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
