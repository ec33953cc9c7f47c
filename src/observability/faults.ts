/**
 * Counts of faults the front end contained, by where they were caught, and of errors that escaped
 * every guard (an unhandled exception or rejection: a wsgi-host bug). Plain counters on the hot
 * path; src/observability/metrics.ts exposes them.
 */
export type FaultBoundary = 'request' | 'worker-frame' | 'file' | 'supervisor';
export type UnhandledKind = 'exception' | 'rejection';

export const FAULT_BOUNDARIES: readonly FaultBoundary[] = ['request', 'worker-frame', 'file', 'supervisor'];
export const UNHANDLED_KINDS: readonly UnhandledKind[] = ['exception', 'rejection'];

/** Faults caught at a containment boundary (the request or worker failed; the process did not). */
export const containedFaults: Record<FaultBoundary, number> = { request: 0, 'worker-frame': 0, file: 0, supervisor: 0 };
/** Errors that reached the process's last-resort handlers. */
export const unhandledErrors: Record<UnhandledKind, number> = { exception: 0, rejection: 0 };

export function countFault(where: FaultBoundary): void {
  containedFaults[where]++;
}
