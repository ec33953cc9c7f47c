/** Every server the harness knows, in the table's order: wsgi-host first, the ceiling last. */
import { modWsgiDaemon, modWsgiEmbedded } from './apache.js';
import { gunicornGthread, gunicornSync } from './gunicorn.js';
import { rawNode } from './raw-node.js';
import type { Peer } from './types.js';
import { uwsgi } from './uwsgi.js';
import { waitress } from './waitress.js';
import { wsgiHost } from './wsgi-host.js';

export const PEERS: Peer[] = [wsgiHost, gunicornSync, gunicornGthread, uwsgi, modWsgiDaemon, modWsgiEmbedded, waitress, rawNode];

export const WSGI_HOST = wsgiHost.name;
export const RAW_NODE = rawNode.name;
