/**
 * Which process of a pool gets a request (pure: no I/O, no timers; test/unit/scheduler.test.ts).
 *
 * The least busy ready process of the pool's current generation with a free thread. Failing that,
 * pipelining: a process whose threads are all busy may still be sent up to PIPELINE_DEPTH more
 * requests, to wait inside it, so several requests share one wake-up (a hand-off between processes
 * costs tens of microseconds on these machines). Only for a group whose requests have been fast (a
 * moving average of their service time under PIPELINE_SERVICE_MS; unknown counts as slow), and
 * only while the process's longest-running request is younger than PIPELINE_YOUNG_MS: requests
 * never wait behind a slow one inside a process, where no other process could take them. A stuck
 * process (a request of it ran past request-timeout) takes nothing.
 */
export const PIPELINE_DEPTH = 8;
export const PIPELINE_YOUNG_MS = 2;
export const PIPELINE_SERVICE_MS = 1;

/** What the scheduler reads of a process. */
export interface SchedulableProcess {
  readonly state: string;
  readonly generation: number;
  /** Requests it holds: running, and waiting inside it. */
  readonly busy: number;
  readonly threads: number;
  /** When its longest-running request started (ms); 0 when idle. */
  oldestStart(): number;
}

/** A process as its pool sees it. */
export interface Schedulable {
  readonly process: SchedulableProcess;
  /** A request of it ran past request-timeout: it takes no new requests, whatever else happens. */
  readonly stuck: boolean;
}

/** Whether m may be sent a request to wait inside it (pipelining); young: the time before which its oldest request is too old. */
export function canPipeline(m: Schedulable, serviceMs: number, young: number): boolean {
  const p = m.process;
  return serviceMs < PIPELINE_SERVICE_MS && p.state === 'ready' && !m.stuck && p.busy < p.threads + PIPELINE_DEPTH && p.oldestStart() >= young;
}

/** The member to send a request to now, or undefined: it waits in the queue. */
export function pickProcess<T extends Schedulable>(members: readonly T[], generation: number, serviceMs: number, now: number): T | undefined {
  let best: T | undefined;
  for (let i = 0; i < members.length; i++) {
    const m = members[i] as T;
    const p = m.process;
    if (p.state === 'ready' && p.generation === generation && !m.stuck && p.busy < p.threads && (best === undefined || p.busy < best.process.busy)) best = m;
  }
  if (best !== undefined) return best;
  const young = now - PIPELINE_YOUNG_MS;
  for (let i = 0; i < members.length; i++) {
    const m = members[i] as T;
    if (m.process.generation === generation && canPipeline(m, serviceMs, young) && (best === undefined || m.process.busy < best.process.busy)) best = m;
  }
  return best;
}

/** Whether m may take one more request from the queue now (a free thread, or pipelining). */
export function canTakeQueued(m: Schedulable, generation: number, serviceMs: number, now: number): boolean {
  const p = m.process;
  if (p.generation !== generation || m.stuck) return false;
  return p.busy < p.threads ? p.state === 'ready' : canPipeline(m, serviceMs, now - PIPELINE_YOUNG_MS);
}

/** The service-time average after a request that ran ranMs (unknown until the first one). */
export function nextServiceMs(serviceMs: number, ranMs: number): number {
  return serviceMs === Number.POSITIVE_INFINITY ? ranMs : serviceMs + (ranMs - serviceMs) * 0.1;
}
