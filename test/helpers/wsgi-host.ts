import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

export interface LogLine {
  level?: string;
  msg?: string;
  group?: string;
  pid?: number;
  requestId?: string;
  [k: string]: unknown;
}

/** A wsgi-host process started by a test through its real command line. */
export class WsgiHost {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  readonly stdout: string[] = [];
  url = '';
  private exitPromise: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; cli?: string; nodeArgs?: string[] } = {}) {
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.cli ?? CLI, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exitPromise = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    let rest = '';
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (t: string) => {
      const lines = (rest + t).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) {
        if (!l) continue;
        try {
          this.logs.push(JSON.parse(l) as LogLine);
        } catch {
          this.logs.push({ msg: l });
        }
      }
    });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (t: string) => this.stdout.push(t));
  }

  /** Starts `wsgi-host serve ARGS --port 0` and waits (bounded) until it serves. */
  static async serve(
    args: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cli?: string; nodeArgs?: string[] } = {},
  ): Promise<WsgiHost> {
    const host = new WsgiHost(['serve', ...args, '--port', '0', '--log-format', 'json'], options);
    // The startup line names the URL that answers (a mount's prefix, a virtual host's name); its
    // listen field is the listener itself, which the tests use as the base URL.
    try {
      await host.waitForLog(/^wsgi-host serving https?:\/\/\S+/, options.timeoutMs ?? 30_000);
      const line = host.logs.find((l) => String(l.msg ?? '').startsWith('wsgi-host serving ') && typeof l.listen === 'string');
      if (line === undefined) throw new Error(`the startup line has no listen field:\n${host.logText()}`);
      host.url = line.listen as string;
    } catch (err) {
      await host.kill();
      throw err;
    }
    return host;
  }

  /**
   * Starts `wsgi-host serve ARGS` as it is (a configuration's own listeners, port 0 each) and
   * waits (bounded) until each of its `count` listeners serves; returns it with their URLs, in order.
   */
  static async serveListeners(
    args: string[],
    count: number,
    options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
  ): Promise<{ host: WsgiHost; listeners: string[] }> {
    const host = new WsgiHost(['serve', ...args, '--log-format', 'json'], options);
    const listeners = (): string[] => [
      ...new Set(host.logs.filter((l) => String(l.msg ?? '').startsWith('wsgi-host serving ') && typeof l.listen === 'string').map((l) => l.listen as string)),
    ];
    try {
      await host.waitForLog(/^wsgi-host serving https?:\/\/\S+/, options.timeoutMs ?? 30_000);
      await waitFor(() => listeners().length >= count, 5000, `${count} listeners in the startup lines`);
    } catch (err) {
      await host.kill();
      throw new Error(`${(err as Error).message}\n${host.logText()}`);
    }
    host.url = listeners()[0] ?? '';
    return { host, listeners: listeners() };
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Resolves with the first log message matching re, waiting at most timeoutMs. */
  waitForLog(re: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (const l of this.logs) {
          const m = re.exec(String(l.msg ?? ''));
          if (m) {
            cleanup();
            resolve(m);
            return true;
          }
        }
        return false;
      };
      const timer = setInterval(check, 20);
      const deadline = setTimeout(() => {
        cleanup();
        reject(new Error(`no log line matching ${re} within ${timeoutMs} ms; logs:\n${this.logText()}`));
      }, timeoutMs);
      const onExit = (): void => {
        setTimeout(() => {
          if (!check()) {
            cleanup();
            reject(new Error(`wsgi-host exited before a log line matching ${re}; logs:\n${this.logText()}`));
          }
        }, 50);
      };
      const cleanup = (): void => {
        clearInterval(timer);
        clearTimeout(deadline);
        this.child.off('exit', onExit);
      };
      this.child.once('exit', onExit);
      check();
    });
  }

  logText(): string {
    return this.logs.map((l) => `${l.level ?? ''} ${l.group ?? ''} ${l.requestId ?? ''} ${l.msg ?? ''}`).join('\n');
  }

  /** SIGTERM, then wait for exit (bounded); SIGKILL if it does not exit. */
  async stop(timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const r = await this.exitPromise;
    clearTimeout(timer);
    return r;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exitPromise;
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exitPromise;
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `wsgi-host ARGS` to completion (bounded). */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`wsgi-host ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Worker processes (pids) whose parent is pid. */
export async function childPids(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resident memory of a process, in bytes (Linux). */
export async function rssBytes(pid: number): Promise<number> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Polls cond every 20 ms until it holds or timeoutMs passes. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
