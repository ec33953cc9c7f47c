import type { ServerHandle } from './process.js';

/** processes x threads: how many requests a server runs at once, and how. */
export interface Layout {
  processes: number;
  threads: number;
}

export const layoutName = (l: Layout): string => `${l.processes}x${l.threads}`;

export interface StartOptions {
  layout: Layout;
  port: number;
  /** a folder of this start's own, for logs and configs (readable by Apache's User) */
  workDir: string;
}

export interface Peer {
  name: string;
  /** Debian packages it needs */
  packages: string[];
  /** why it cannot run this layout; undefined when it can */
  cannot(layout: Layout): string | undefined;
  /** how it treats connections, when that is not plain keep-alive (shown in the table) */
  note?: string;
  /** one run serves every layout (the raw Node ceiling) */
  layoutIndependent?: boolean;
  start(o: StartOptions): Promise<ServerHandle>;
  /** lines of its own logs saying a run was unfair (e.g. Apache's 'scoreboard is full') */
  warnings?(h: ServerHandle): string[];
}
