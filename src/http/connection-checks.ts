/**
 * node:http enforces header-timeout and request-timeout with an interval (connectionsCheckingInterval)
 * that runs from the moment a server listens, connections or none: an idle server would wake at
 * that rate forever. This stops that interval while the server has no connection and starts it
 * again with the first one, so the checks run exactly as before whenever there is something to
 * check, and an idle server takes no timer wake-up (docs/performance.md, idle CPU).
 *
 * It reaches into node:http: the interval is kept on the server under the symbol
 * `http.server.connectionsCheckingInterval` (set when the server emits 'listening'), and its
 * callback and period are the Timeout's `_onTimeout` and `_repeat`. Where either is not found (another Node), nothing
 * changes: the server checks on its interval as node:http does (test/idle.test.ts notices).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

const INTERVAL = 'http.server.connectionsCheckingInterval';

type Slot = Record<symbol, NodeJS.Timeout | undefined>;

/** Stops pausing the interval (the server closed: node:http cleared it, nothing starts it again). */
export interface ConnectionChecks {
  close(): void;
}

/**
 * Pauses `server`'s connection checks while it has no connection. Call it before the server
 * emits 'listening' (its own handler of that event runs first and starts the interval).
 */
export function checkConnectionsWhileAny(server: Server): ConnectionChecks {
  let connections = 0;
  let check: (() => void) | undefined;
  let period = 0;
  let paused = false;
  let closed = false;
  const key = (): symbol | undefined => Object.getOwnPropertySymbols(server).find((s) => s.description === INTERVAL);
  const pause = (): void => {
    const k = key();
    if (k === undefined || closed) return;
    const timer = (server as unknown as Slot)[k] as (NodeJS.Timeout & { _onTimeout?: unknown; _repeat?: unknown }) | undefined;
    if (timer === undefined || typeof timer._onTimeout !== 'function' || typeof timer._repeat !== 'number') return;
    check = timer._onTimeout as () => void;
    period = timer._repeat;
    clearInterval(timer);
    paused = true;
  };
  const resume = (): void => {
    const k = key();
    if (!paused || closed || k === undefined || check === undefined) return;
    paused = false;
    const timer = setInterval(check, period);
    timer.unref();
    (server as unknown as Slot)[k] = timer;
  };
  server.on('listening', () => {
    // node:http has just (re)started its interval.
    paused = false;
    if (connections === 0) pause();
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    resume();
    socket.once('close', () => {
      connections--;
      if (connections === 0) pause();
    });
  });
  server.once('close', () => {
    closed = true;
  });
  return {
    close: () => {
      closed = true;
    },
  };
}
