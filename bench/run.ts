/**
 * npm run bench: wsgi-host against its peers on this machine, one table of medians.
 * See bench/options.ts for the options and docs/performance.md for what is measured.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCleanupHandlers, removeOnExit, stopAll } from './cleanup.js';
import { debianVersion, ensurePackages, pythonVersion } from './install.js';
import { HELP, parseOptions, type Options } from './options.js';
import { DIST_BENCH, PYTHON, PYTHON_HOME, REPO } from './paths.js';
import { PEERS } from './peers/index.js';
import { wsgiHostAt } from './peers/wsgi-host.js';
import { layoutName, type Peer, type TlsFiles } from './peers/types.js';
import { RetryBudget } from './quiet.js';
import type { Scenario } from './scenarios.js';
import { Results } from './results.js';
import { firstLine, runServer } from './run-server.js';
import { runScaling } from './scaling.js';
import { renderTable } from './table.js';
import { renderTargets } from './targets.js';

function runCodec(): number {
  const node = spawnSync(process.execPath, [join(DIST_BENCH, 'codec.js')], { stdio: 'inherit' });
  const py = spawnSync(PYTHON, [join(REPO, 'bench', 'codec.py')], { stdio: 'inherit' });
  return node.status === 0 && py.status === 0 ? 0 : 1;
}

function gitRevision(): string {
  try {
    const rev = execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', REPO, 'status', '--porcelain', '--', 'src', 'worker'], { encoding: 'utf8' }).trim();
    return dirty === '' ? rev : `${rev} + uncommitted changes in src/ or worker/`;
  } catch {
    return 'unknown';
  }
}

function header(o: Options, peers: Peer[]): string {
  const version = (pkg: string): string => debianVersion(pkg) ?? 'missing';
  const pkgVersion = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const starts = peers.reduce((n, p) => n + (p.layoutIndependent ? 1 : o.layouts.filter((l) => p.cannot(l) === undefined).length), 0);
  const perStart = o.scenarios.reduce((s, sc) => s + o.durations.warmupS + (sc.bulk ? o.durations.bulkMeasureS : o.durations.measureS) + 0.3, 2);
  return [
    `wsgi-host benchmark, ${new Date().toISOString()}`,
    `machine: ${cpus().length} vCPUs (${cpus()[0]?.model ?? '?'}), Linux ${release()}, Node ${process.version}`,
    `CPU pinning: ${o.pin ? 'wrk pinned to CPU 1 (taskset -c 1); servers not pinned' : 'none (wrk and the servers share both vCPUs freely)'}`,
    `interpreter: every server runs Debian's ${PYTHON} (Python ${pythonVersion(PYTHON)}): wsgi-host with --python-home ${PYTHON_HOME}, ` +
      'gunicorn/uWSGI/waitress on it, mod_wsgi embedding the same libpython',
    `versions: wsgi-host ${pkgVersion} (${gitRevision()}), gunicorn ${version('gunicorn')}, uwsgi ${version('uwsgi')} ` +
      `(plugin ${version('uwsgi-plugin-python3')}), apache2 ${version('apache2')}, mod_wsgi ${version('libapache2-mod-wsgi-py3')}, ` +
      `waitress ${version('python3-waitress')}, wrk ${version('wrk')}` +
      (o.scenarios.some((sc) => sc.transport === 'h2') ? `, h2load ${version('nghttp2-client')}` : ''),
    `load: wrk -t1 --latency on 127.0.0.1, ${o.durations.measureS}s measured (bulk ${o.durations.bulkMeasureS}s) after a ` +
      `${o.durations.warmupS}s warm-up of the same load; ${o.reps} repetition(s), servers interleaved; medians`,
    `scenarios:\n${o.scenarios.map((s) => `  ${s.name}: ${s.description}`).join('\n')}`,
    `servers: ${peers.map((p) => p.name).join(', ')}; layouts: ${o.layouts.map(layoutName).join(', ')}`,
    `estimated time: ~${Math.ceil((o.reps * starts * perStart) / 60)} min`,
  ].join('\n');
}

/**
 * A self-signed certificate for 127.0.0.1 (P-256), made once per run, for the TLS and HTTP/2
 * scenarios: every server that speaks TLS gets the same one.
 */
function makeCertificate(workDir: string): TlsFiles {
  const certificate = join(workDir, 'bench.crt');
  const privateKey = join(workDir, 'bench.key');
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1'];
  args.push('-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', privateKey, '-out', certificate);
  execFileSync('openssl', args, { stdio: 'ignore' });
  return { certificate, privateKey };
}

/**
 * The scenarios of one server start: the plain HTTP ones, then (with a certificate) those over TLS
 * and HTTP/2; a peer that does not speak a transport gets n/a for its scenarios.
 */
function startsOf(o: Options, peer: Peer, at: string, results: Results, tls: TlsFiles | undefined): { scenarios: Scenario[]; tls: TlsFiles | undefined }[] {
  const plain = o.scenarios.filter((sc) => sc.transport === undefined);
  const secure = o.scenarios.filter((sc) => {
    if (sc.transport === undefined) return false;
    if (peer.transports?.includes(sc.transport)) return true;
    results.note(sc.name, at, peer.name, `n/a: ${peer.name} does not speak ${sc.transport === 'h2' ? 'HTTP/2' : 'TLS'}`);
    return false;
  });
  return [
    { scenarios: plain, tls: undefined },
    { scenarios: secure, tls },
  ].filter((s) => s.scenarios.length > 0);
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${firstLine(err)}\n\n${HELP}`);
    return 2;
  }
  if (o.help) {
    console.log(HELP);
    return 0;
  }
  if (o.codec) return runCodec();
  installCleanupHandlers();
  if (o.scaling) return runScaling(o);
  const peers = PEERS.filter((p) => o.servers.includes(p.name));
  if (o.baseline !== undefined) peers.splice(1, 0, wsgiHostAt(o.baseline));
  const transports = new Set(o.scenarios.map((sc) => sc.transport));
  ensurePackages([
    'wrk',
    ...(o.pin ? ['util-linux'] : []),
    ...(transports.has('tls') || transports.has('h2') ? ['openssl'] : []),
    ...(transports.has('h2') ? ['nghttp2-client'] : []),
    ...peers.flatMap((p) => p.packages),
  ]);
  const workDir = mkdtempSync(join(tmpdir(), 'wsgi-host-bench-'));
  chmodSync(workDir, 0o755); // Apache's User must reach its daemon sockets inside
  removeOnExit(workDir);
  const tls = transports.has('tls') || transports.has('h2') ? makeCertificate(workDir) : undefined;
  console.log(`${header(o, peers)}\n`);
  const t0 = Date.now();
  const results = new Results();
  const retry = new RetryBudget(o.quick ? 60_000 : 120_000);
  try {
    for (let rep = 0; rep < o.reps; rep++) {
      for (const [li, l] of o.layouts.entries()) {
        // rotate the order each repetition so drift hits every server alike
        const order = peers.map((_, i) => peers[(i + rep) % peers.length] as Peer);
        for (const peer of order) {
          if (peer.layoutIndependent && li > 0) continue;
          const reason = peer.cannot(l);
          if (reason !== undefined) {
            for (const sc of o.scenarios) results.note(sc.name, layoutName(l), peer.name, `n/a: ${reason}`);
            continue;
          }
          for (const start of startsOf(o, peer, peer.layoutIndependent ? 'any' : layoutName(l), results, tls)) {
            await runServer(o, peer, l, rep, workDir, results, retry, start);
          }
        }
      }
    }
    console.log(`\n${renderTable(results, o.scenarios, o.layouts, peers)}\n`);
    console.log(`Targets (medians; a peer whose runs had errors is left out):\n${renderTargets(results, o.layouts.map(layoutName))}\n`);
    console.log(`took ${((Date.now() - t0) / 60_000).toFixed(1)} min; ${retry.retries} run(s) repeated because other processes were busy`);
    return 0;
  } finally {
    await stopAll();
  }
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(err);
    await stopAll();
    process.exit(1);
  },
);
