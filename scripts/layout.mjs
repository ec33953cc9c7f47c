#!/usr/bin/env node
/**
 * Measures the shape of src/ and checks its layer rule (docs/architecture.md):
 *
 *   files      the .ts files under src/, and their lines
 *   longest    the longest modules, and every module over 300 lines without a comment line
 *              starting `reason:` in its first 2,000 characters
 *   layers     every import (type imports and re-exports included) that runs back up a layer, or
 *              sideways into a sibling layer of the same rank: LAYERS below is the rule
 *   cycles     import cycles between files
 *   crossings  (--trace-get, needs a build and /usr/bin/python3) how many times one GET, served by
 *              a WSGI application, crosses between the HTTP side and the worker side: every call
 *              of a function of ours whose nearest caller of ours is on the other side. The
 *              functions are those V8's coverage counts in one GET; a conditional breakpoint at the
 *              start of each records the call stack and never pauses.
 *
 * Usage: node scripts/layout.mjs [--json] [--trace-get [--calls]]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { Session } from 'node:inspector';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const LINE_LIMIT = 300;
/** A module over LINE_LIMIT says why in a comment line starting `reason:` near its top. */
const REASON = /^\s*(\*|\/\/)\s*reason:/m;

/**
 * The layer rule, bottom first. A file may import files of its own layer and of layers of a lower
 * rank; never a higher rank, and never a sibling (another layer of the same rank): the HTTP side
 * and the worker side meet only in contract/, and the composition root (server.ts) wires them.
 * `paths` are folders (ending in /) or files, relative to src/.
 */
export const LAYERS = [
  { name: 'base', rank: 0, paths: ['errors.ts', 'error-codes.ts', 'util/'] },
  { name: 'contract', rank: 1, paths: ['contract/'] },
  { name: 'observability', rank: 1, paths: ['observability/'] },
  { name: 'protocol', rank: 2, paths: ['protocol/'] },
  { name: 'access', rank: 3, paths: ['access/'] },
  { name: 'python', rank: 3, paths: ['python/'] },
  { name: 'config', rank: 4, paths: ['config/'] },
  { name: 'frontdoor', rank: 5, paths: ['frontdoor/'] },
  { name: 'workers', rank: 6, paths: ['workers/'] },
  { name: 'http', rank: 6, paths: ['http/'] },
  { name: 'admin', rank: 7, paths: ['admin/'] },
  { name: 'check', rank: 7, paths: ['check/'] },
  { name: 'server', rank: 8, paths: ['server.ts', 'loops/'] },
  { name: 'cli', rank: 9, paths: ['cli/'] },
];

/** The two sides of the request contract, for --trace-get (earlier names too, to measure old trees). */
const SIDES = { http: ['http/', 'frontend/'], workers: ['workers/', 'supervisor/'] };

function tsFiles(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const rel = (p) => relative(src, p).split(sep).join('/');

/** The layer of a file (relative to src/): the longest path of LAYERS that holds it. */
export function layerOf(file, layers = LAYERS) {
  let best;
  let bestLength = -1;
  for (const l of layers) {
    for (const p of l.paths) {
      const holds = p.endsWith('/') ? file.startsWith(p) : file === p;
      if (holds && p.length > bestLength) {
        best = l;
        bestLength = p.length;
      }
    }
  }
  return best;
}

/** Relative imports of a file (type imports and re-exports included), as paths relative to src/. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  return [...new Set([...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => rel(resolve(dirname(file), m[1]).replace(/\.js$/, '.ts'))))];
}

export function measure(layers = LAYERS) {
  const files = tsFiles(src).sort();
  const graph = new Map(files.map((f) => [rel(f), importsOf(f)]));
  const unplaced = [...graph.keys()].filter((f) => layerOf(f, layers) === undefined);
  const upward = [];
  const folderEdges = new Set();
  for (const [from, targets] of graph) {
    const a = layerOf(from, layers);
    for (const to of targets) {
      const b = layerOf(to, layers);
      if (a === undefined || b === undefined || a === b) continue;
      folderEdges.add(`${a.name} -> ${b.name}`);
      if (b.rank >= a.rank) upward.push(`${from} -> ${to} (${a.name} -> ${b.name}${b.rank === a.rank ? ', a sibling' : ''})`);
    }
  }
  const cycles = new Set();
  const state = new Map();
  const visit = (f, path) => {
    if (state.get(f) === 'done') return;
    if (path.includes(f)) {
      cycles.add([...path.slice(path.indexOf(f)), f].join(' -> '));
      return;
    }
    for (const t of graph.get(f) ?? []) if (graph.has(t)) visit(t, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  const lines = files
    .map((f) => {
      const t = readFileSync(f, 'utf8');
      return { file: rel(f), lines: t.split('\n').length - (t.endsWith('\n') ? 1 : 0), reason: REASON.test(t.slice(0, 2000)) };
    })
    .sort((a, b) => b.lines - a.lines);
  return {
    files: files.length,
    lines: lines.reduce((n, l) => n + l.lines, 0),
    longest: lines.slice(0, 8).map((l) => `${l.file} (${l.lines})`),
    overLimitWithoutReason: lines.filter((l) => l.lines > LINE_LIMIT && !l.reason).map((l) => `${l.file} (${l.lines})`),
    overLimitWithReason: lines.filter((l) => l.lines > LINE_LIMIT && l.reason).map((l) => `${l.file} (${l.lines})`),
    unplaced,
    upwardImports: upward,
    cycles: [...cycles],
    folderEdges: [...folderEdges].sort(),
  };
}

// -- one GET, traced ---------------------------------------------------------------------------

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

function get(port, path = '/') {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => ok(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
    req.on('error', fail);
    req.end();
  });
}

const sideOf = (file) => Object.keys(SIDES).find((s) => SIDES[s].some((p) => file.startsWith(p)));

/** Crossings of one GET between the HTTP side and the worker side; undefined without a build. */
export async function traceGet() {
  const dist = join(root, 'dist', 'src');
  const serveModule = join(dist, 'cli', 'serve-command.js');
  try {
    statSync(serveModule);
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'layout-get-'));
  const session = new Session();
  let running;
  try {
    writeFileSync(
      join(dir, 'app.wsgi'),
      'def application(environ, start_response):\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [b"hello"]\n',
    );
    execFileSync('/usr/bin/python3', ['-m', 'venv', join(dir, 'venv')]);
    const port = await freePort();
    const { serveCommand } = await import(pathToFileURL(serveModule).href);
    running = serveCommand([
      join(dir, 'app.wsgi'),
      '--python-home',
      join(dir, 'venv'),
      '--port',
      String(port),
      '--processes',
      '1',
      '--threads',
      '1',
      '--access-log',
      'off',
      '--log-level',
      'error',
      '--admin',
      join(dir, 'admin.sock'),
    ]);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await get(port)) === 200) break;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error('the server did not answer within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; i < 20; i++) await get(port);
    session.connect();
    const post = (method, params = {}) => new Promise((ok, fail) => session.post(method, params, (err, res) => (err ? fail(err) : ok(res))));
    const settle = () => new Promise((r) => setTimeout(r, 100));
    await post('Profiler.enable');
    await post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
    await settle();
    await post('Profiler.takePreciseCoverage');
    await get(port);
    await settle();
    const coverage = (await post('Profiler.takePreciseCoverage')).result;
    await post('Profiler.stopPreciseCoverage');
    const distUrl = pathToFileURL(dist).href + '/';
    const ours = coverage.filter((s) => s.url.startsWith(distUrl));
    await post('Debugger.enable');
    const files = new Map();
    const condition = (file, name) => `(globalThis.__layoutTrace.push([${JSON.stringify(file)}, ${JSON.stringify(name)}, new Error().stack]), false)`;
    let functions = 0;
    for (const script of ours) {
      const file = script.url.slice(distUrl.length).replace(/\.js$/, '.ts');
      files.set(script.url, file);
      for (const f of script.functions) {
        const r = f.ranges[0];
        if (r === undefined || r.count === 0 || f.functionName === '') continue;
        const text = readFileSync(fileURLToPath(script.url), 'utf8');
        const at = (offset) => {
          const before = text.slice(0, offset);
          return { scriptId: script.scriptId, lineNumber: before.split('\n').length - 1, columnNumber: offset - (before.lastIndexOf('\n') + 1) };
        };
        const { locations } = await post('Debugger.getPossibleBreakpoints', { start: at(r.startOffset), end: at(r.endOffset), restrictToFunction: true });
        const first = locations[0];
        if (first === undefined) continue;
        await post('Debugger.setBreakpoint', { location: first, condition: condition(file, f.functionName) }).catch(() => undefined);
        functions++;
      }
    }
    Error.stackTraceLimit = 100;
    globalThis.__layoutTrace = [];
    await get(port);
    await settle();
    const calls = globalThis.__layoutTrace;
    globalThis.__layoutTrace = [];
    await post('Debugger.disable');
    const frame = new RegExp(`${distUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^\\s):]+)\\.js:\\d+:\\d+`);
    const crossings = [];
    const sequence = [];
    for (const [file, name, stack] of calls) {
      sequence.push(`${file} ${name}`);
      // The condition runs in an eval inside the function's frame: skip that line and the function's own.
      const lines = stack
        .split('\n')
        .slice(1)
        .filter((l) => !l.includes('at eval ('));
      const frames = lines
        .map((l) => frame.exec(l)?.[1])
        .filter((f) => f !== undefined)
        .map((f) => `${f}.ts`);
      const caller = frames[1];
      const a = caller === undefined ? undefined : sideOf(caller);
      const b = sideOf(file);
      if (a !== undefined && b !== undefined && a !== b) crossings.push(`${caller} -> ${file} (${name})`);
    }
    return { functions, calls: calls.length, crossings, sequence };
  } finally {
    try {
      session.disconnect();
    } catch {
      /* not connected */
    }
    if (running !== undefined) {
      process.kill(process.pid, 'SIGTERM');
      await running.catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const report = measure();
  if (process.argv.includes('--trace-get')) report.get = await traceGet();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(`src/: ${report.files} files, ${report.lines} lines`);
    console.log(`longest modules: ${report.longest.join(', ')}`);
    console.log(
      `over ${LINE_LIMIT} lines with a reason: ${report.overLimitWithReason.join(', ') || 'none'}; without: ${report.overLimitWithoutReason.join(', ') || 'none'}`,
    );
    console.log(`files in no layer: ${report.unplaced.join(', ') || 'none'}`);
    console.log(
      `imports up (or across) the layers: ${report.upwardImports.length}${report.upwardImports.length ? `\n  ${report.upwardImports.join('\n  ')}` : ''}`,
    );
    console.log(`import cycles: ${report.cycles.length}${report.cycles.length ? `\n  ${report.cycles.join('\n  ')}` : ''}`);
    console.log(`layer edges: ${report.folderEdges.join(', ')}`);
    if (report.get !== undefined) {
      console.log(`one GET: ${report.get.calls} calls of ${report.get.functions} functions of ours`);
      console.log(`  crossings between the HTTP side and the worker side: ${report.get.crossings.length}\n  ${report.get.crossings.join('\n  ')}`);
      if (process.argv.includes('--calls')) console.log(`  every call, in order:\n    ${report.get.sequence.join('\n    ')}`);
    }
  }
  if (process.argv.includes('--trace-get')) process.exit(0);
}
