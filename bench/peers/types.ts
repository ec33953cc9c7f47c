import type { ServerHandle } from './process.js';

/** processes x threads: how many requests a server runs at once, and how. */
export interface Layout {
  processes: number;
  threads: number;
}

export const layoutName = (l: Layout): string => `${l.processes}x${l.threads}`;

/** A certificate for the TLS scenarios (made by the harness, self-signed for 127.0.0.1). */
export interface TlsFiles {
  certificate: string;
  privateKey: string;
}

export interface StartOptions {
  layout: Layout;
  port: number;
  /** Serve HTTPS with this certificate (the TLS and HTTP/2 scenarios); plain HTTP when absent. */
  tls?: TlsFiles;
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
  /** what it serves beyond plain HTTP/1.1: TLS (HTTPS/1.1), HTTP/2 over TLS */
  transports?: readonly ('tls' | 'h2')[];
  start(o: StartOptions): Promise<ServerHandle>;
  /** lines of its own logs saying a run was unfair (e.g. Apache's 'scoreboard is full') */
  warnings?(h: ServerHandle): string[];
}
