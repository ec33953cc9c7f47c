import type { LoadFailure } from '../protocol/messages.js';
import type { RequestHandle } from './request-handle.js';
import type { Schedulable } from './scheduler.js';
import type { ProcessSnapshot } from './snapshot.js';
import { type WorkerOwner, WorkerProcess, type WorkerSpec } from './worker-process.js';
import type { Logger } from '../observability/logger.js';
import type { ReplyPoller } from './reply-poller.js';

/** What a member reports to its pool: the WorkerOwner events, with the member instead of the process. */
export interface MemberOwner {
  memberReady(m: PoolMember): void;
  memberLoadFailed(m: PoolMember, failure: LoadFailure): void;
  memberFree(m: PoolMember, ranMs: number): void;
  memberExit(m: PoolMember, reason: string, code: number | null, signal: NodeJS.Signals | null): void;
  memberRecalled(m: PoolMember, requests: RequestHandle[]): void;
  memberModules(m: PoolMember, files: string[]): void;
}

/**
 * A worker process as its pool keeps it: the process, and the pool's own flags about it (the
 * process itself knows nothing of recycling or replacements).
 */
export class PoolMember implements Schedulable, WorkerOwner {
  readonly process: WorkerProcess;
  private readonly pool: MemberOwner;
  /** A request of it ran past request-timeout: it takes no new requests, whatever else happens. */
  stuck = false;
  /** Set when the pool has started a replacement (the reason): no new requests once that one is ready. */
  recycling: string | undefined;
  /** The member this one replaces (it leaves when this one is ready). */
  replaces: PoolMember | undefined;
  /** When a replacement of this process last failed to start. */
  recycleFailedAt: number | undefined;

  constructor(pool: MemberOwner, spec: WorkerSpec, log: Logger, poller: ReplyPoller) {
    this.pool = pool;
    this.process = new WorkerProcess(spec, this, log, poller);
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  snapshot(): ProcessSnapshot | undefined {
    const p = this.process;
    if (p.pid === undefined) return undefined;
    const python = p.readyInfo?.python;
    return {
      pid: p.pid,
      generation: p.generation,
      state: p.state,
      recycling: this.recycling !== undefined,
      stuck: this.stuck,
      served: p.served,
      busy: p.busy,
      threads: p.threads,
      startedAt: p.startedAt,
      python: python === undefined ? undefined : { version: python.version, prefix: python.prefix },
      startReason: p.spec.startReason,
    };
  }

  onReady(): void {
    this.pool.memberReady(this);
  }

  onLoadFailed(failure: LoadFailure): void {
    this.pool.memberLoadFailed(this, failure);
  }

  onFree(ranMs: number): void {
    this.pool.memberFree(this, ranMs);
  }

  onExit(reason: string, code: number | null, signal: NodeJS.Signals | null): void {
    this.pool.memberExit(this, reason, code, signal);
  }

  onRecalled(requests: RequestHandle[]): void {
    this.pool.memberRecalled(this, requests);
  }

  onModules(files: string[]): void {
    this.pool.memberModules(this, files);
  }
}
