/**
 * Runs a load generator (wrk, h2load) as a child process, optionally pinned to CPU 1, tracked for
 * cleanup; parses what it printed, and adds its CPU time (this process's reaped-children times,
 * /proc/self/stat cutime+cstime, before and after).
 */
import { spawn } from 'node:child_process';
import { track, untrack } from './cleanup.js';
import { reapedChildrenCpuS } from './process-tree.js';

export function runLoadGenerator<T>(tool: string, args: string[], pin: boolean, parse: (out: string) => T): Promise<T & { cpuS: number }> {
  const [command, argv] = pin ? ['taskset', ['-c', '1', tool, ...args]] : [tool, args];
  const cpuBefore = reapedChildrenCpuS();
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const guard = { name: tool, stop: async () => void child.kill('SIGKILL'), killNow: () => void child.kill('SIGKILL') };
    track(guard);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', (err) => {
      untrack(guard);
      reject(err);
    });
    child.on('close', (code, signal) => {
      untrack(guard);
      if (code !== 0) {
        reject(new Error(`${tool} ${args.join(' ')} exited with ${code ?? signal}:\n${out}`));
        return;
      }
      try {
        resolve({ ...parse(out), cpuS: reapedChildrenCpuS() - cpuBefore });
      } catch (err) {
        reject(err);
      }
    });
  });
}
