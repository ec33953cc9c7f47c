/**
 * The last resort: an exception or promise rejection that escaped every containment boundary (a
 * wsgi-host bug, since each boundary fails its own request or connection) is logged with its stack
 * and counted (wsgi_host_unhandled_errors_total), and the process KEEPS SERVING. docs/security.md
 * explains the choice: one front end holds every application, so exiting would turn one request's
 * bug into everyone's outage (and a repeatable denial of service); what such an error can have left
 * behind is at most that request's state, which its own timeouts and its connection's close end.
 */
import type { Logger } from './logger.js';
import { type UnhandledKind, unhandledErrors } from './faults.js';

let installed = false;

export function installUnhandledErrorHandlers(log: Logger): void {
  if (installed) return;
  installed = true;
  const report = (kind: UnhandledKind, err: unknown): void => {
    unhandledErrors[kind]++;
    try {
      const what = kind === 'exception' ? 'an exception' : 'a promise rejection';
      log.fatal(
        { err: err instanceof Error ? err : new Error(String(err)), unhandled: kind },
        `internal error: ${what} escaped every containment boundary (a wsgi-host bug; please report it with this stack); the server keeps serving`,
      );
    } catch {
      /* the log itself failed: the count is kept */
    }
  };
  process.on('uncaughtException', (err) => report('exception', err));
  process.on('unhandledRejection', (reason) => report('rejection', reason));
}
