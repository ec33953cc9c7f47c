/** wsgi-host, through its real CLI, on Debian's /usr/bin/python3 (--python-home /usr). */
import { join } from 'node:path';
import { APP_FILE, PYTHON_HOME, WSGI_HOST_CLI } from '../paths.js';
import { launch } from './process.js';
import { layoutName, type Peer } from './types.js';

export const wsgiHost: Peer = {
  name: 'wsgi-host',
  packages: [],
  cannot: () => undefined,
  transports: ['tls', 'h2'],
  start: ({ layout, port, workDir, tls }) =>
    launch({
      name: 'wsgi-host',
      command: process.execPath,
      args: [
        WSGI_HOST_CLI,
        'serve',
        APP_FILE,
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--processes',
        String(layout.processes),
        '--threads',
        String(layout.threads),
        '--python-home',
        PYTHON_HOME,
        '--log-level',
        'warn',
        '--access-log',
        'off', // as the other servers run: no access log
        '--log-format',
        'json',
        ...(tls !== undefined ? ['--certificate', tls.certificate, '--private-key', tls.privateKey] : []),
      ],
      port,
      tls: tls !== undefined,
      logFile: join(workDir, `wsgi-host-${layoutName(layout)}${tls !== undefined ? '-tls' : ''}.log`),
      stopSignal: 'SIGTERM',
    }),
};
