import { Agent, request } from 'node:http';

export interface LoadResult {
  ok: number;
  failed: number;
  /** Non-2xx statuses and errors, with counts. */
  failures: Map<string, number>;
  /** Distinct response bodies seen (bounded), for "which code served" checks. */
  bodies: Set<string>;
}

/**
 * Keeps `concurrency` keep-alive clients busy against url until stop() or durationMs, whichever
 * first; every request is bounded by timeoutMs. Resolves with what they saw. rampMs: the clients
 * start one by one over that time (each opens its connection then), not all at once.
 */
export function steadyLoad(
  url: string,
  options: { concurrency?: number; durationMs?: number; timeoutMs?: number; rampMs?: number } = {},
): {
  done: Promise<LoadResult>;
  stop: () => void;
} {
  const concurrency = options.concurrency ?? 8;
  const until = Date.now() + (options.durationMs ?? 5000);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const result: LoadResult = { ok: 0, failed: 0, failures: new Map(), bodies: new Set() };
  let stopped = false;
  const fail = (why: string): void => {
    result.failed++;
    result.failures.set(why, (result.failures.get(why) ?? 0) + 1);
  };
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = request(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) {
            result.ok++;
            if (result.bodies.size < 1000) result.bodies.add(body);
          } else fail(`status ${res.statusCode}`);
          resolve();
        });
        res.on('error', (e) => {
          fail(`response error ${e.message}`);
          resolve();
        });
      });
      req.setTimeout(options.timeoutMs ?? 15_000, () => req.destroy(new Error('timeout')));
      req.on('error', (e) => {
        fail(`request error ${e.message}`);
        resolve();
      });
      req.end();
    });
  const loop = async (_: unknown, i: number): Promise<void> => {
    const delay = ((options.rampMs ?? 0) * i) / concurrency;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    while (!stopped && Date.now() < until) await one();
  };
  const done = Promise.all(Array.from({ length: concurrency }, loop)).then(() => {
    agent.destroy();
    return result;
  });
  return { done, stop: () => (stopped = true) };
}

export function describeFailures(r: LoadResult): string {
  return [...r.failures].map(([k, v]) => `${v} x ${k}`).join(', ') || 'none';
}
