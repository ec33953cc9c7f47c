/** Starting a server in its own process group, waiting until it answers, stopping its whole tree. */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { track, untrack, type Stoppable } from '../cleanup.js';
import { processTree, readProc } from '../process-tree.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  const p = readProc(pid);
  return p !== undefined && p.state !== 'Z';
}

/** Signal the root, wait for every process of its tree to exit, SIGKILL whatever is left. */
export async function stopTree(name: string, root: number, signal: NodeJS.Signals, timeoutMs = 30_000): Promise<void> {
  const pids = processTree(root).map((p) => p.pid);
  if (pids.length === 0) return;
  const t0 = Date.now();
  try {
    process.kill(root, signal);
  } catch {
    // already gone
  }
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(50);
  const left = pids.filter(alive);
  if (left.length === 0 && Date.now() - t0 > 5000) {
    console.error(`bench: ${name} took ${((Date.now() - t0) / 1000).toFixed(1)}s to stop after ${signal}`);
  }
  if (left.length > 0) {
    const what = left.map((pid) => `${pid} (${pid === root ? 'root' : 'child'}: ${commandOf(pid)})`).join(', ');
    console.error(`bench: ${name}: ${what} still running ${timeoutMs / 1000}s after ${signal} to ${root}: SIGKILL`);
    killAll(left);
    await sleep(100);
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim().slice(0, 80);
  } catch {
    return '?';
  }
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export function killTreeNow(root: number): void {
  killAll(processTree(root).map((p) => p.pid));
}

/** A running server: its tree's root pid, its URL, and how to stop it. */
export class ServerHandle implements Stoppable {
  readonly name: string;
  readonly url: string;
  readonly logFile: string;
  private root: number;
  private readonly stopSignal: NodeJS.Signals;
  private readonly pidFile: string | undefined;

  constructor(o: { name: string; url: string; root: number; stopSignal: NodeJS.Signals; logFile: string; pidFile?: string }) {
    this.name = o.name;
    this.url = o.url;
    this.root = o.root;
    this.stopSignal = o.stopSignal;
    this.logFile = o.logFile;
    this.pidFile = o.pidFile;
    track(this);
  }

  get pid(): number {
    return this.root;
  }

  async stop(): Promise<void> {
    if (this.pidFile !== undefined) this.root = readPidFile(this.pidFile) ?? this.root; // Apache: by its PidFile
    await stopTree(this.name, this.root, this.stopSignal);
    untrack(this);
  }

  killNow(): void {
    killTreeNow(this.root);
  }

  logTail(lines = 15): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

export function readPidFile(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** GET url once (https: the harness's self-signed certificate is not verified); resolves to [status, body]. */
export function httpGet(url: string, timeoutMs = 2000): Promise<[number, Buffer]> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsRequest : request;
    const req = get(url, { agent: false, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve([res.statusCode ?? 0, Buffer.concat(chunks)]));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Poll GET /hello until it answers 200, the process dies, or the time is up. */
export async function waitReady(handle: ServerHandle, isAlive: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`${handle.name} exited while starting:\n${handle.logTail()}`);
    try {
      const [status] = await httpGet(`${handle.url}/hello`, 1000);
      if (status === 200) return;
      last = `HTTP ${status}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(100);
  }
  throw new Error(`${handle.name} did not answer within ${timeoutMs / 1000}s (${last}):\n${handle.logTail()}`);
}

export interface LaunchOptions {
  name: string;
  command: string;
  args: string[];
  port: number;
  logFile: string;
  stopSignal: NodeJS.Signals;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** it serves HTTPS */
  tls?: boolean;
}

/** Spawn a server that stays in the foreground (its pid is the tree's root) and wait until it answers. */
export async function launch(o: LaunchOptions): Promise<ServerHandle> {
  const log = openSync(o.logFile, 'a');
  const child = spawn(o.command, o.args, {
    detached: true, // its own process group: a terminal's Ctrl-C goes to the harness, which stops it
    stdio: ['ignore', log, log],
    env: o.env ?? process.env,
    cwd: o.cwd,
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${o.command}`);
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', () => (exited = true));
  const handle = new ServerHandle({
    name: o.name,
    url: `${o.tls ? 'https' : 'http'}://127.0.0.1:${o.port}`,
    root: pid,
    stopSignal: o.stopSignal,
    logFile: o.logFile,
  });
  try {
    await waitReady(handle, () => !exited);
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}
