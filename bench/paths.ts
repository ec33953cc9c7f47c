/** Where things are, from dist/bench/ (compiled) back to the repository. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const APPS_DIR = join(REPO, 'bench', 'apps');
/** The one WSGI script every server loads; it routes /hello, /json, /100k, /upload, /download. */
export const APP_FILE = join(APPS_DIR, 'routes.py');
export const WRK_SCRIPTS = join(REPO, 'bench', 'wrk');
export const WSGI_HOST_CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');
export const DIST_BENCH = join(REPO, 'dist', 'bench');
/** Debian's interpreter: the one the Debian peers (gunicorn, uWSGI's plugin, mod_wsgi, waitress) use. */
export const PYTHON = '/usr/bin/python3';
/** wsgi-host's --python-home for that same interpreter (/usr/bin/python3). */
export const PYTHON_HOME = '/usr';
