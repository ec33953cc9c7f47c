/**
 * uWSGI with Debian's python3 plugin. --http-socket closes the connection after every response
 * (with --add-header 'Connection: close' so the client knows): --http11-socket with blocking
 * workers would tie a worker to one kept-alive connection and starve the others while wrk reports
 * only the served ones. --die-on-term, and stopped with SIGINT, so it exits instead of reloading.
 */
import { join } from 'node:path';
import { APP_FILE } from '../paths.js';
import { launch } from './process.js';
import { layoutName, type Peer } from './types.js';

export const uwsgi: Peer = {
  name: 'uwsgi',
  packages: ['uwsgi', 'uwsgi-plugin-python3'],
  cannot: () => undefined,
  note: 'closes after each response (--http-socket)',
  start: ({ layout, port, workDir }) =>
    launch({
      name: 'uwsgi',
      command: '/usr/bin/uwsgi',
      args: [
        '--plugin',
        'python3',
        '--master',
        '--die-on-term',
        '--disable-logging',
        '--http-socket',
        `127.0.0.1:${port}`,
        '--add-header',
        'Connection: close',
        '--processes',
        String(layout.processes),
        ...(layout.threads > 1 ? ['--threads', String(layout.threads)] : []),
        '--wsgi-file',
        APP_FILE,
      ],
      port,
      logFile: join(workDir, `uwsgi-${layoutName(layout)}.log`),
      stopSignal: 'SIGINT',
    }),
};
