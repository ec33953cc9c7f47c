import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

/**
 * Real Apache httpd with mod_wsgi, for differential tests: started from a configuration of the
 * test's own (its own ServerRoot, PidFile, ports, error log and WSGISocketPrefix), never the
 * system service, and stopped by its PidFile.
 */

export const APACHE = ['/usr/sbin/apache2', '/usr/sbin/httpd'].find((p) => existsSync(p));
const MODULES = '/usr/lib/apache2/modules';
export const MOD_WSGI = join(MODULES, 'mod_wsgi.so');

/** Why Apache tests cannot run here (with the command that enables them), or undefined. */
export function apacheMissing(): string | undefined {
  if (APACHE === undefined || !existsSync(MOD_WSGI)) {
    return 'Apache httpd with mod_wsgi is not installed; enable with: apt-get install apache2 libapache2-mod-wsgi-py3';
  }
  return undefined;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** The user Apache's children run as: www-data when started as root, else the current user. */
export function apacheUser(): string {
  if (isRoot()) return 'www-data';
  return execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
}

export const loadModules = (names: string[]): string => names.map((n) => `LoadModule ${n}_module ${MODULES}/mod_${n}.so`).join('\n');

/** A free TCP port (on every loopback address). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '0.0.0.0', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Makes a folder (and its parents up to `root`) readable by Apache's user. */
export function openToApache(...dirs: string[]): void {
  for (const d of dirs) chmodSync(d, 0o755);
}

export class ApacheServer {
  private constructor(
    readonly pidFile: string,
    readonly errorLog: string,
  ) {}

  /**
   * Starts `apache2 -d serverRoot -f conf -k start` with extra `-c` directives (applied after the
   * configuration) and environment, then waits (bounded) until every port answers.
   */
  static async start(options: {
    serverRoot: string;
    conf: string;
    after?: string[] | undefined;
    env?: NodeJS.ProcessEnv;
    pidFile: string;
    errorLog: string;
    ports: { host: string; port: number }[];
  }): Promise<ApacheServer> {
    const args = ['-d', options.serverRoot, '-f', options.conf, ...(options.after ?? []).flatMap((d) => ['-c', d]), '-k', 'start'];
    try {
      execFileSync(APACHE as string, args, { env: { ...process.env, ...options.env }, stdio: 'pipe', timeout: 30_000 });
    } catch (err) {
      const e = err as { stderr?: Buffer };
      throw new Error(`apache2 did not start: ${e.stderr?.toString() ?? String(err)}\n${readLog(options.errorLog)}`);
    }
    const server = new ApacheServer(options.pidFile, options.errorLog);
    const deadline = Date.now() + 20_000;
    for (const p of options.ports) {
      while (!(await answers(p.host, p.port))) {
        if (Date.now() > deadline) {
          await server.stop();
          throw new Error(`Apache does not answer on ${p.host}:${p.port}\n${readLog(options.errorLog)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    return server;
  }

  /** SIGTERM to the pid in the PidFile, then wait (bounded) for it to be gone. */
  async stop(): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    } catch {
      return;
    }
    if (!(pid > 1)) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // Still there: Apache runs in a session of its own (-k start), so its children go with it.
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  log(): string {
    return readLog(this.errorLog);
  }
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no error log)';
  }
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** Writes a file and makes it readable by Apache's user. */
export function writeReadable(path: string, text: string): string {
  writeFileSync(path, text);
  chmodSync(path, 0o644);
  return path;
}

/** A folder Apache's user can use (run files, daemon sockets). */
export function apacheDir(path: string): string {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o777);
  return path;
}
