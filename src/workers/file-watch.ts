import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';

/** How often a pool's watched files are looked at, at most. */
export const WATCH_INTERVAL_MS = 1000;

/**
 * Notices when files change (mtime or size), checked at most once per interval: mod_wsgi's
 * script reloading looks at the script on every request; once a second is as good and cheaper.
 */
export class FileWatch {
  private readonly seen = new Map<string, string>();
  private nextCheck = 0;
  private checking: Promise<string | undefined> | undefined;

  constructor(files: Iterable<string>) {
    this.add(files);
  }

  add(files: Iterable<string>): void {
    for (const f of files) if (!this.seen.has(f)) this.seen.set(f, signatureSync(f));
  }

  get size(): number {
    return this.seen.size;
  }

  /** True when a check is due (cheap: call it on every request). */
  due(now: number): boolean {
    return now >= this.nextCheck;
  }

  /** The first file that changed since the last baseline, or undefined; the baseline moves on. */
  check(): Promise<string | undefined> {
    this.nextCheck = Date.now() + WATCH_INTERVAL_MS;
    this.checking ??= (async () => {
      try {
        let changed: string | undefined;
        for (const [file, before] of this.seen) {
          const now = await signature(file);
          if (now !== before) {
            this.seen.set(file, now);
            changed ??= file;
          }
        }
        return changed;
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }
}

function signatureSync(file: string): string {
  try {
    const s = statSync(file);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return 'missing';
  }
}

async function signature(file: string): Promise<string> {
  try {
    const s = await stat(file);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return 'missing';
  }
}
