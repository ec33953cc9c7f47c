/**
 * A server's whole process tree, read from /proc: its pids, CPU time and resident memory.
 * CPU counts utime+stime of every process in the tree plus cutime+cstime (children it reaped),
 * so a worker that exits during a run is still counted by its parent.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function getconf(name: string, fallback: number): number {
  try {
    return Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim()) || fallback;
  } catch {
    return fallback;
  }
}

export const CLOCK_TICKS = getconf('CLK_TCK', 100);
const PAGE_SIZE = getconf('PAGESIZE', 4096);

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** R, S, D, Z (zombie: exited, not yet reaped) ... */
  state: string;
  /** utime+stime+cutime+cstime, in seconds */
  cpuS: number;
  /** utime+stime only (every thread of the process, not its reaped children), in seconds */
  ownCpuS: number;
  rssBytes: number;
}

/** /proc/PID/stat, or undefined when the process is gone. */
export function readProc(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // Field 2 (comm) is in parentheses and may hold spaces: split after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const own = Number(f[11]) + Number(f[12]);
  const ticks = own + Number(f[13]) + Number(f[14]);
  return { pid, ppid: Number(f[1]), state: f[0] ?? '?', cpuS: ticks / CLOCK_TICKS, ownCpuS: own / CLOCK_TICKS, rssBytes: Number(f[21]) * PAGE_SIZE };
}

function allProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p !== undefined) out.push(p);
  }
  return out;
}

/** The root and all its descendants (the root first); empty when the root is gone. */
export function processTree(root: number): ProcInfo[] {
  const procs = allProcs();
  const rootInfo = procs.find((p) => p.pid === root);
  if (rootInfo === undefined) return [];
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of procs) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const tree = [rootInfo];
  for (let i = 0; i < tree.length; i++) tree.push(...(byParent.get((tree[i] as ProcInfo).pid) ?? []));
  return tree;
}

export interface TreeSample {
  cpuS: number;
  rssBytes: number;
  rootRssBytes: number;
  /** RSS of each process other than the root (the workers, for most servers) */
  childRss: number[];
  /**
   * utime+stime of the root and of every process of the tree running the root's executable, their
   * threads included and their reaped children not: wsgi-host's Node front end, apart from its
   * Python workers (cpuS - frontEndCpuS; a worker that exited is counted there, by its parent).
   */
  frontEndCpuS: number;
}

function executable(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

export function sampleTree(root: number): TreeSample {
  const tree = processTree(root);
  const rootExe = executable(root);
  const frontEnd = tree.filter((p, i) => i === 0 || (rootExe !== undefined && executable(p.pid) === rootExe));
  return {
    cpuS: tree.reduce((s, p) => s + p.cpuS, 0),
    rssBytes: tree.reduce((s, p) => s + p.rssBytes, 0),
    rootRssBytes: tree[0]?.rssBytes ?? 0,
    childRss: tree.slice(1).map((p) => p.rssBytes),
    frontEndCpuS: frontEnd.reduce((s, p) => s + p.ownCpuS, 0),
  };
}

/** CPU seconds of this process's reaped children (cutime+cstime): how wrk's CPU is measured. */
export function reapedChildrenCpuS(): number {
  const f = readFileSync('/proc/self/stat', 'latin1');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[13]) + Number(rest[14])) / CLOCK_TICKS;
}

/**
 * CPU seconds all processes on the machine have used (user, nice, system) plus time the hypervisor
 * stole. Interrupt and softirq time is left out: loopback networking runs there, for the server
 * and wrk alike, and is charged to neither.
 */
export function machineBusyS(): number {
  const f = readFileSync('/proc/stat', 'latin1').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const [user = 0, nice = 0, system = 0, , , , , steal = 0] = f;
  return (user + nice + system + steal) / CLOCK_TICKS;
}

/**
 * CPU time of every thread of every process of the tree, in ms, from the scheduler's own count
 * (/proc/PID/task/TID/sched, se.sum_exec_runtime: nanosecond resolution, where /proc/PID/stat
 * counts 10 ms ticks); undefined where the kernel does not show it. Threads that exited meanwhile
 * are not counted: for windows with no request, where none comes or goes.
 */
export function treeRunMs(root: number): number | undefined {
  let total = 0;
  for (const p of processTree(root)) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p.pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      let text: string;
      try {
        text = readFileSync(`/proc/${p.pid}/task/${tid}/sched`, 'latin1');
      } catch {
        continue;
      }
      const m = /se\.sum_exec_runtime\s*:\s*([\d.]+)/.exec(text);
      if (m === null) return undefined;
      total += Number(m[1]);
    }
  }
  return total;
}
