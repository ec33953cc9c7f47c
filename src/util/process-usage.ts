import { readFile } from 'node:fs/promises';

/** Clock ticks per second for /proc/PID/stat times (Linux's USER_HZ). */
const TICKS = 100;

export interface ProcessUsage {
  rssBytes: number;
  cpuSeconds: number;
}

/** Resident memory and CPU time (user + system) of a process, from /proc; zeros when unknown. */
export async function processUsage(pid: number | undefined): Promise<ProcessUsage> {
  if (pid === undefined) return { rssBytes: 0, cpuSeconds: 0 };
  try {
    const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS;
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return { rssBytes: m ? Number(m[1]) * 1024 : 0, cpuSeconds: cpu };
  } catch {
    return { rssBytes: 0, cpuSeconds: 0 };
  }
}
