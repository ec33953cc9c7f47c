/** waitress (Debian's python3-waitress): one process, a thread pool. */
import { join } from 'node:path';
import { APP_FILE, PYTHON, REPO } from '../paths.js';
import { launch } from './process.js';
import { layoutName, type Peer } from './types.js';

export const waitress: Peer = {
  name: 'waitress',
  packages: ['python3-waitress'],
  cannot: (l) => (l.processes > 1 ? 'waitress is one process (threads only)' : undefined),
  start: ({ layout, port, workDir }) =>
    launch({
      name: 'waitress',
      command: PYTHON,
      args: [join(REPO, 'bench', 'peers', 'waitress_serve.py'), APP_FILE, String(port), String(layout.threads)],
      port,
      logFile: join(workDir, `waitress-${layoutName(layout)}.log`),
      stopSignal: 'SIGTERM',
    }),
};
