/**
 * Everything the harness started that must not outlive it. Servers are started in their own
 * process group (so a terminal's Ctrl-C reaches only the harness and wrk); on Ctrl-C, SIGTERM or
 * an uncaught error the harness stops them itself, and on exit kills whatever is left, by pid.
 */
import { rmSync } from 'node:fs';

export interface Stoppable {
  name: string;
  /** graceful: the server's own stop signal, wait, then SIGKILL what is left */
  stop(): Promise<void>;
  /** synchronous last resort for process.on('exit') */
  killNow(): void;
}

const live = new Set<Stoppable>();
const dirs = new Set<string>();

/** a temporary folder removed when the harness exits, however it exits */
export function removeOnExit(dir: string): void {
  dirs.add(dir);
}

export function track(s: Stoppable): void {
  live.add(s);
}

export function untrack(s: Stoppable): void {
  live.delete(s);
}

export async function stopAll(): Promise<void> {
  for (const s of [...live]) {
    try {
      await s.stop();
    } catch (err) {
      console.error(`bench: stopping ${s.name} failed: ${String(err)}`);
    }
    live.delete(s);
  }
}

let installed = false;

export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\nbench: ${signal}: stopping the servers it started...`);
    void stopAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('exit', () => {
    for (const s of live) {
      try {
        s.killNow();
      } catch {
        // already gone
      }
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
}
