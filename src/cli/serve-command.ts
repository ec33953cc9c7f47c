import type { LoadedConfig } from '../config/loaded-config.js';
import type { ServePlan } from '../config/plan.js';
import { runServer } from '../server.js';
import { ADMIN_FLAGS, ADMIN_FLAGS_HELP, adminTarget, takeAdminFlags } from './admin-flags.js';
import { parseCommand } from './args.js';
import { INPUT_OPTIONS, loadInput, planLoaded } from './config-input.js';

export const SERVE_HELP = `Usage: wsgi-host serve SCRIPT [options]
       wsgi-host serve -c wsgi-host.toml [--host H] [--port P] [--admin WHERE]
       wsgi-host serve --apache site.conf [-D NAME] [--host H] [--port P] [--admin WHERE]

Serve a WSGI application: SCRIPT is a WSGI script file (loaded as mod_wsgi loads it) or
package.module:callable (imported as gunicorn imports it). Or serve every application of a
wsgi-host.toml file, or of an Apache mod_wsgi configuration.

Configuration:
  -c, --config FILE        a wsgi-host.toml (see docs/configuration.md)
  --apache FILE            an Apache configuration using mod_wsgi (WSGIScriptAlias, WSGIDaemonProcess...)
  -D, --define NAME        with --apache: define NAME for <IfDefine> (repeatable)
  --accept-apache-differences with --apache: serve even where Apache would restrict access or
                           route requests in ways wsgi-host cannot (redirects, rewrites, Require
                           user...); without it those directives stop the server (wsgi-host check
                           lists them)

Python environment (with SCRIPT):
  --python-home DIR        the application's virtual environment: its top directory (sys.prefix),
                           e.g. ./venv, never ./venv/bin/python. Default: $VIRTUAL_ENV when set,
                           else the python3 on PATH.
  --python-path DIR        put DIR at the front of sys.path, processing its .pth files
                           (repeatable; mod_wsgi's python-path)
  --working-directory DIR  the workers' current directory (default: this one); it is put first on
                           sys.path, as mod_wsgi-express does, so a Django project's package
                           imports when served from the project folder
  --setenv KEY=VALUE       set KEY in the workers' os.environ and in each request's environ
                           (repeatable)

Application (with SCRIPT):
  --callable NAME          the WSGI callable in SCRIPT (default: application)
  --mount /PREFIX          URL prefix to mount the application at (default: /)

Processes (with SCRIPT):
  --processes N            worker processes (default: a dynamic pool of 1 to max(2, cores),
                           started when requests wait and stopped when idle)
  --threads N              threads per process: requests each serves at once (default: 5)

Listening:
  --host HOST              address to listen on (default: 127.0.0.1)
  --port PORT              port to listen on (default: 8000; 0 picks a free one)

TLS (with SCRIPT; in a file, a listener's tls table):
  --certificate FILE       serve HTTPS (HTTP/2 and HTTP/1.1) on --port with this certificate (PEM;
                           it may hold the chain after it)
  --private-key FILE       the certificate's private key (PEM, without a passphrase)
  --certificate-chain FILE intermediate certificates (PEM), sent after the certificate
  --https-port PORT        serve HTTPS on PORT instead, and plain HTTP on --port
                           (mod_wsgi-express's --https-port)

Behind a proxy, compression (with SCRIPT):
  --trust-proxy ADDR       a proxy (address or CIDR range) whose --trust-proxy-header headers are
                           believed (repeatable; mod_wsgi's WSGITrustedProxies)
  --trust-proxy-header H   a header those proxies set: X-Forwarded-For, X-Forwarded-Proto,
                           X-Forwarded-Host, Forwarded... (repeatable, one per purpose); from any
                           other peer it is removed (mod_wsgi's WSGITrustedProxyHeaders)
  --compress               gzip or brotli for text responses the client accepts compressed
                           (mod_wsgi-express's --compress-responses)

${ADMIN_FLAGS_HELP}
Performance:
  --front-ends N|auto      front-end event loops serving HTTP, each on its own core (default 1;
                           auto: half the CPUs, at most 16, and 1 below 4 CPUs); TOML: front-ends

Development:
  --reload-on-changes      restart a group when a Python file its processes loaded changes

Logging:
  --access-log FILE        write the access log (Apache's combined format) to FILE; '-' for stdout,
                           'off' for none. Default with SCRIPT: stdout; with -c or --apache: the
                           file's [log] access (off unless set)
  --log-level LEVEL        debug, info, warn or error (default: info)
  --log-format FORMAT      pretty, json or auto (default: auto, pretty on a terminal, json otherwise)

  -h, --help               show this help

Exit status: 0 after SIGTERM or SIGINT (requests in flight finished), 1 when it could not start
(a python-home, an application, a listener) or stopped on an error, 2 when the command line or the
configuration is invalid (nothing was started).
`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('serve', argv, { ...INPUT_OPTIONS, ...ADMIN_FLAGS, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const adminFlags = takeAdminFlags(values);
  const load = async (): Promise<{ loaded: LoadedConfig; plan: ServePlan }> => {
    const loaded = await loadInput('serve', values, positionals);
    return { loaded, plan: planLoaded(loaded) };
  };
  const { loaded, plan } = await load();
  return runServer(plan, loaded, adminTarget(loaded, values, adminFlags, 'serve'), async () => {
    const next = await load();
    return { plan: next.plan, notes: next.loaded.notes };
  });
}
