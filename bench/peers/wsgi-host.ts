/**
 * wsgi-host, through its real CLI, on Debian's /usr/bin/python3 (--python-home /usr); with
 * `--baseline DIR`, another checkout's build of it beside it (wsgiHostAt), for before/after rows;
 * with `--scaling`, this build with K front-end loops (wsgiHostWithFrontEnds).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_FILE, PYTHON_HOME, WSGI_HOST_CLI } from '../paths.js';
import { launch } from './process.js';
import { layoutName, type Peer } from './types.js';

export const wsgiHost: Peer = wsgiHostPeer('wsgi-host', WSGI_HOST_CLI, true, true);

/**
 * The wsgi-host of another checkout (built: DIR/dist/src/cli/main.js), named wsgi-host@COMMIT. Its
 * access log is left at that build's default when it has no `--access-log off` (older builds log
 * nothing unless asked); it runs the TLS and HTTP/2 rows only when it has `--certificate`.
 */
export function wsgiHostAt(dir: string): Peer {
  const cli = join(dir, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error(`--baseline: no ${cli}; build that checkout first (npx tsc -p tsconfig.json in ${dir})`);
  const commit = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const serveHelp = join(dir, 'dist', 'src', 'cli', 'serve-command.js');
  const help = existsSync(serveHelp) ? readFileSync(serveHelp, 'utf8') : '';
  return wsgiHostPeer(`wsgi-host@${commit}`, cli, help.includes("'off' for none"), help.includes('--certificate FILE'));
}

/**
 * This build with `--front-ends K` (K = 1 leaves the flag out, so it also runs on a build without
 * it), named wsgi-host-kK.
 */
export function wsgiHostWithFrontEnds(k: number): Peer {
  return wsgiHostPeer(`wsgi-host-k${k}`, WSGI_HOST_CLI, true, true, k === 1 ? [] : ['--front-ends', String(k)]);
}

/** Why this build cannot run more than one front-end loop (its `serve --help` has no --front-ends), or undefined. */
export function frontEndsMissing(): string | undefined {
  const r = spawnSync(process.execPath, [WSGI_HOST_CLI, 'serve', '--help'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) return `'wsgi-host serve --help' failed (${r.status ?? r.signal ?? r.error?.message}): cannot tell whether it has --front-ends`;
  return r.stdout.includes('--front-ends') ? undefined : "this build's 'wsgi-host serve --help' lists no --front-ends";
}

function wsgiHostPeer(name: string, cli: string, accessLogOff: boolean, tls: boolean, extraArgs: string[] = []): Peer {
  return {
    name,
    packages: [],
    cannot: () => undefined,
    transports: tls ? ['tls', 'h2'] : [],
    start: ({ layout, port, workDir, tls }) =>
      launch({
        name,
        command: process.execPath,
        args: [
          cli,
          'serve',
          APP_FILE,
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--processes',
          String(layout.processes),
          '--threads',
          String(layout.threads),
          '--python-home',
          PYTHON_HOME,
          '--log-level',
          'warn',
          ...(accessLogOff ? ['--access-log', 'off'] : []), // as the other servers run: no access log
          '--log-format',
          'json',
          ...(tls !== undefined ? ['--certificate', tls.certificate, '--private-key', tls.privateKey] : []),
          ...extraArgs,
        ],
        port,
        tls: tls !== undefined,
        logFile: join(workDir, `${name}-${layoutName(layout)}${tls !== undefined ? '-tls' : ''}.log`),
        stopSignal: 'SIGTERM',
      }),
  };
}
