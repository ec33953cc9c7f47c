#!/usr/bin/env node
/**
 * Measures the shape of the Apache configuration reader (src/config/apache):
 *
 *   files     the .ts files under src/config/apache
 *   depth     the longest chain of imports (type imports included) from index.ts, counted in files
 *             (index.ts -> a.ts -> b.ts is 3 levels): within the folder, and through the rest of src/
 *   lines     the longest module, and every module over 300 lines without a `reason:` comment
 *   stages    imports that point up the stages (base <- read <- directives <- translate <- index.ts)
 *   crossing  the files one `processes=` option of WSGIDaemonProcess runs through, from the entry
 *             down: every block of code that runs more often when `processes=3` is added to a
 *             WSGIDaemonProcess line (V8 block coverage, with and without the option), and every
 *             file on the call stack of the runs of those blocks that the option adds (a conditional
 *             breakpoint records `new Error().stack` and never pauses; the stacks of a run without
 *             the option are subtracted). Needs a build: npx tsc -p tsconfig.json
 *
 * Usage: node scripts/apache-layout.mjs [--json]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const folder = join(root, 'src', 'config', 'apache');
const LINE_LIMIT = 300;

/** Stages, bottom first: a file may import its own stage and those below it. */
const STAGES = ['base', 'read', 'directives', 'translate', 'entry'];
const stageOf = (rel) => {
  if (rel === 'index.ts') return 'entry';
  const first = rel.split('/')[0];
  return STAGES.includes(first) && rel.includes('/') ? first : 'base';
};

function tsFiles(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const rel = (p) => relative(folder, p).split(sep).join('/');
const files = tsFiles(folder).sort();
const sources = new Map(files.map((f) => [rel(f), readFileSync(f, 'utf8')]));

/** Relative imports of a file (type imports and re-exports included), as absolute .ts paths. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  return [...new Set([...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => resolve(dirname(file), m[1]).replace(/\.js$/, '.ts')))];
}

/** Longest import chain from `start`, in files, following only files `inside` accepts. */
function longestChain(start, inside) {
  const memo = new Map();
  const visit = (file, path) => {
    if (path.includes(file)) {
      cycles.add([...path.slice(path.indexOf(file)), file].map(show).join(' -> '));
      return [];
    }
    if (memo.has(file)) return memo.get(file);
    let best = [];
    for (const t of importsOf(file).filter(inside)) {
      const chain = visit(t, [...path, file]);
      if (chain.length > best.length) best = chain;
    }
    memo.set(file, [file, ...best]);
    return memo.get(file);
  };
  return visit(start, []).map(show);
}
const cycles = new Set();
const src = join(root, 'src');
const show = (p) => (p.startsWith(folder + sep) ? rel(p) : `../${relative(join(src, 'config'), p).split(sep).join('/')}`);
const entryFile = join(folder, 'index.ts');
const longest = longestChain(entryFile, (p) => p.startsWith(folder + sep));
const longestThroughSrc = longestChain(entryFile, (p) => p.startsWith(src + sep));
const graph = new Map(
  files.map((f) => [
    rel(f),
    importsOf(f)
      .filter((t) => t.startsWith(folder + sep))
      .map(rel),
  ]),
);

const upward = [];
for (const [from, targets] of graph) {
  for (const to of targets) {
    if (STAGES.indexOf(stageOf(to)) > STAGES.indexOf(stageOf(from))) upward.push(`${from} -> ${to}`);
  }
}

const lines = [...sources].map(([f, t]) => ({ file: f, lines: t.split('\n').length - (t.endsWith('\n') ? 1 : 0) })).sort((a, b) => b.lines - a.lines);
const overLimit = lines.filter((l) => l.lines > LINE_LIMIT && !/reason:/i.test((sources.get(l.file) ?? '').slice(0, 2000)));

const crossing = await processesCrossing();

const report = {
  files: files.length,
  depth: longest.length,
  longestChain: longest,
  depthThroughSrc: longestThroughSrc.length,
  longestChainThroughSrc: longestThroughSrc,
  cycles: [...cycles],
  upwardImports: upward,
  longestModule: lines[0],
  overLimitWithoutReason: overLimit.map((l) => `${l.file} (${l.lines})`),
  processesCrossing: crossing,
};

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(`src/config/apache: ${report.files} files`);
  console.log(`import depth from index.ts: ${report.depth} within the folder (${longest.join(' -> ')})`);
  console.log(`  and ${report.depthThroughSrc} following imports into the rest of src/ (${longestThroughSrc.join(' -> ')})`);
  console.log(`import cycles: ${report.cycles.length === 0 ? 'none' : report.cycles.join('; ')}`);
  console.log(`imports up the stages: ${upward.length === 0 ? 'none' : upward.join(', ')}`);
  console.log(
    `longest module: ${lines[0]?.file} (${lines[0]?.lines} lines); over ${LINE_LIMIT} without a reason: ${overLimit.length === 0 ? 'none' : report.overLimitWithoutReason.join(', ')}`,
  );
  console.log(
    crossing === undefined
      ? 'processes= crossing: build first (npx tsc -p tsconfig.json)'
      : `processes= crosses ${crossing.length} files: ${crossing.join(', ')}`,
  );
}

/** Files (relative to src/config) that run because of one processes= option; undefined without a build. */
async function processesCrossing() {
  const dist = join(root, 'dist', 'src', 'config');
  let entry;
  try {
    statSync(join(dist, 'apache', 'index.js'));
    entry = await import(pathToFileURL(join(dist, 'apache', 'index.js')).href);
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'apache-layout-'));
  try {
    writeFileSync(join(dir, 'app.wsgi'), 'def application(environ, start_response):\n    pass\n');
    const conf = (option) => {
      const file = join(dir, `site${option === '' ? '' : '-with'}.conf`);
      writeFileSync(file, `WSGIDaemonProcess app threads=2${option}\nWSGIScriptAlias / ${dir}/app.wsgi process-group=app\n`);
      return file;
    };
    const without = conf('');
    const withOption = conf(' processes=3');
    const session = new Session();
    session.connect();
    const post = (method, params = {}) => new Promise((ok, fail) => session.post(method, params, (err, res) => (err ? fail(err) : ok(res))));
    await post('Profiler.enable');
    await post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    entry.translateApacheConfig(without);
    await post('Profiler.takePreciseCoverage');
    entry.translateApacheConfig(without);
    const a = (await post('Profiler.takePreciseCoverage')).result;
    entry.translateApacheConfig(withOption);
    const b = (await post('Profiler.takePreciseCoverage')).result;
    await post('Profiler.stopPreciseCoverage');

    const ours = (url) => url.startsWith(pathToFileURL(dist).href) && /\/config\/apache(\/|-file\.js)/.test(url);
    const byUrl = new Map(a.filter((s) => ours(s.url)).map((s) => [s.url, s]));
    const breakpoints = [];
    for (const sb of b.filter((s) => ours(s.url))) {
      const sa = byUrl.get(sb.url);
      const text = readFileSync(fileURLToPath(sb.url), 'utf8');
      const ca = counts(sa, text.length);
      const cb = counts(sb, text.length);
      let start = -1;
      for (let i = 0; i <= text.length; i++) {
        const differs = i < text.length && cb[i] > ca[i];
        if (differs && start < 0) start = i;
        if (!differs && start >= 0) {
          breakpoints.push({ scriptId: sb.scriptId, ...lineColumn(text, start) });
          start = -1;
        }
      }
    }
    await post('Debugger.enable');
    Error.stackTraceLimit = 200;
    const condition = '(globalThis.__apacheLayoutStacks.push(new Error().stack), false)';
    for (const bp of breakpoints) {
      await post('Debugger.setBreakpoint', { location: { scriptId: bp.scriptId, lineNumber: bp.line, columnNumber: bp.column }, condition }).catch(
        () => undefined,
      );
    }
    const frame = /file:\/\/[^\s)]+?\/dist\/src\/config\/([^\s):]+)\.js:\d+:\d+/;
    const stacksOf = (file) => {
      globalThis.__apacheLayoutStacks = [];
      entry.translateApacheConfig(file);
      return globalThis.__apacheLayoutStacks.map((s) =>
        s
          .split('\n')
          .slice(2)
          .filter((l) => frame.test(l))
          .join('\n'),
      );
    };
    const before = stacksOf(without);
    const after = stacksOf(withOption);
    await post('Debugger.disable');
    session.disconnect();
    // Only the extra runs count: a function called for every directive is crossed by this option
    // only through the calls that the option adds.
    const unmatched = new Map();
    for (const s of before) unmatched.set(s, (unmatched.get(s) ?? 0) + 1);
    const crossed = new Set();
    for (const stack of after) {
      const n = unmatched.get(stack) ?? 0;
      if (n > 0) {
        unmatched.set(stack, n - 1);
        continue;
      }
      for (const line of stack.split('\n')) crossed.add(`${frame.exec(line)?.[1]}.ts`);
    }
    return [...crossed].sort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Execution count at each character offset: the innermost coverage range that holds it. */
function counts(script, length) {
  const out = new Array(length).fill(0);
  if (script === undefined) return out;
  const ranges = script.functions.flatMap((f) => f.ranges).sort((x, y) => x.startOffset - y.startOffset || y.endOffset - x.endOffset);
  for (const r of ranges) for (let i = r.startOffset; i < Math.min(r.endOffset, length); i++) out[i] = r.count;
  return out;
}

function lineColumn(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) };
}
