/** gunicorn (Debian's, on /usr/bin/python3): the sync worker and the gthread worker. */
import { join } from 'node:path';
import { APPS_DIR } from '../paths.js';
import { launch } from './process.js';
import { layoutName, type Peer } from './types.js';

function gunicorn(workerClass: 'sync' | 'gthread'): Peer {
  const name = `gunicorn-${workerClass}`;
  return {
    name,
    packages: ['gunicorn'],
    cannot: (l) => (workerClass === 'sync' && l.threads > 1 ? 'the sync worker has no threads (with --threads gunicorn switches to gthread)' : undefined),
    ...(workerClass === 'sync' ? { note: 'closes after each response (sync worker, by design)' } : {}),
    // gunicorn speaks TLS (--certfile/--keyfile), HTTP/1.1 only.
    transports: ['tls'],
    start: ({ layout, port, workDir, tls }) =>
      launch({
        name,
        command: '/usr/bin/gunicorn',
        args: [
          '--bind',
          `127.0.0.1:${port}`,
          '--workers',
          String(layout.processes),
          '--worker-class',
          workerClass,
          ...(workerClass === 'gthread' ? ['--threads', String(layout.threads)] : []),
          '--pythonpath',
          APPS_DIR,
          '--log-level',
          'warning',
          ...(tls !== undefined ? ['--certfile', tls.certificate, '--keyfile', tls.privateKey] : []),
          'routes:application',
        ],
        port,
        tls: tls !== undefined,
        logFile: join(workDir, `${name}-${layoutName(layout)}${tls !== undefined ? '-tls' : ''}.log`),
        stopSignal: 'SIGTERM',
      }),
  };
}

export const gunicornSync = gunicorn('sync');
export const gunicornGthread = gunicorn('gthread');
