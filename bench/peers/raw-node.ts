/** The ceiling: Node's own http server answering the same routes, no Python. */
import { join } from 'node:path';
import { DIST_BENCH } from '../paths.js';
import { launch } from './process.js';
import type { Peer } from './types.js';

export const rawNode: Peer = {
  name: 'raw-node',
  packages: [],
  cannot: () => undefined,
  note: 'ceiling: node:http, one event loop, no Python (same row in every layout)',
  layoutIndependent: true,
  start: ({ port, workDir }) =>
    launch({
      name: 'raw-node',
      command: process.execPath,
      args: [join(DIST_BENCH, 'raw-node-server.js'), String(port)],
      port,
      logFile: join(workDir, 'raw-node.log'),
      stopSignal: 'SIGTERM',
    }),
};
