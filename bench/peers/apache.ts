/**
 * Apache with mod_wsgi (Debian's apache2 + libapache2-mod-wsgi-py3), from a config of our own in
 * a folder of our own: never the system Apache. Started with `-k start` (it daemonizes), stopped by
 * the pid in its PidFile: in the foreground inside a script, its SIGTERM would go to the whole
 * process group, the harness included.
 *
 * daemon:   mpm_event with 128 threads in front (enough that it never closes kept-alive
 *           connections under load), the application in WSGIDaemonProcess processes=P threads=T.
 * embedded: the application inside Apache's own P x T threads (prefork when T is 1, worker
 *           otherwise), KeepAlive Off: with only P x T threads, kept-alive connections starve
 *           (prefork, worker) or are closed under load (event). mpm_event with 4 threads and
 *           KeepAlive Off also stopped answering at all after a few runs at 64 connections here.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_FILE, APPS_DIR } from '../paths.js';
import { readPidFile, ServerHandle, waitReady } from './process.js';
import { layoutName, type Layout, type Peer } from './types.js';

const MODULES = '/usr/lib/apache2/modules';
type Mode = 'daemon' | 'embedded';

function mpmConfig(mode: Mode, l: Layout): string {
  if (mode === 'daemon') {
    return `LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
StartServers 2
ServerLimit 2
ThreadLimit 64
ThreadsPerChild 64
MaxRequestWorkers 128
MinSpareThreads 1
MaxSpareThreads 128`;
  }
  if (l.threads === 1) {
    return `LoadModule mpm_prefork_module ${MODULES}/mod_mpm_prefork.so
StartServers ${l.processes}
MinSpareServers ${l.processes}
MaxSpareServers ${l.processes}
ServerLimit ${l.processes}
MaxRequestWorkers ${l.processes}`;
  }
  return `LoadModule mpm_worker_module ${MODULES}/mod_mpm_worker.so
StartServers ${l.processes}
ServerLimit ${l.processes}
ThreadLimit ${l.threads}
ThreadsPerChild ${l.threads}
MaxRequestWorkers ${l.processes * l.threads}
MinSpareThreads 1
MaxSpareThreads ${l.processes * l.threads}`;
}

function config(mode: Mode, l: Layout, dir: string, port: number): string {
  const wsgi =
    mode === 'daemon'
      ? `WSGIRestrictEmbedded On
WSGIDaemonProcess bench processes=${l.processes} threads=${l.threads}
WSGIProcessGroup bench`
      : '';
  return `# wsgi-host benchmark: mod_wsgi ${mode} mode, ${layoutName(l)}
ServerRoot ${dir}
DefaultRuntimeDir ${dir}
PidFile ${dir}/httpd.pid
Mutex file:${dir} default
Listen 127.0.0.1:${port}
ServerName 127.0.0.1
User www-data
Group www-data
ErrorLog ${dir}/error.log
LogLevel warn
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule wsgi_module ${MODULES}/mod_wsgi.so
${mpmConfig(mode, l)}
KeepAlive ${mode === 'daemon' ? 'On' : 'Off'}
MaxKeepAliveRequests 0
KeepAliveTimeout 5
WSGISocketPrefix ${dir}/wsgi
WSGIApplicationGroup %{GLOBAL}
${wsgi}
WSGIScriptAlias / ${APP_FILE}
<Directory ${APPS_DIR}>
  Require all granted
</Directory>
`;
}

/**
 * Lines of the error log that mean the run was not fair: closed or refused connections. Embedded
 * mode reaching MaxRequestWorkers is its design (P x T threads); daemon mode reaching it is not.
 */
function apacheWarnings(errorLog: string, mode: Mode): string[] {
  if (!existsSync(errorLog)) return [];
  const bad =
    mode === 'daemon'
      ? /scoreboard is full|MaxRequestWorkers|Unable to connect|Permission denied|Timeout when reading/i
      : /scoreboard is full|Permission denied/i;
  return readFileSync(errorLog, 'utf8')
    .split('\n')
    .filter((l) => bad.test(l));
}

function apache(mode: Mode): Peer {
  const name = `mod_wsgi-${mode}`;
  return {
    name,
    packages: ['apache2', 'libapache2-mod-wsgi-py3'],
    cannot: () => undefined,
    warnings: (h) => apacheWarnings(h.logFile, mode),
    ...(mode === 'embedded' ? { note: 'closes after each response (KeepAlive Off: only P x T Apache threads)' } : {}),
    async start({ layout, port, workDir }) {
      const dir = join(workDir, `${name}-${layoutName(layout)}`);
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o755); // the daemon sockets (WSGISocketPrefix) must be reachable by www-data
      const conf = join(dir, 'httpd.conf');
      writeFileSync(conf, config(mode, layout, dir, port));
      const pidFile = join(dir, 'httpd.pid');
      execFileSync('/usr/sbin/apache2', ['-d', dir, '-f', conf, '-k', 'start'], { stdio: 'inherit' });
      const deadline = Date.now() + 10_000;
      while (readPidFile(pidFile) === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const root = readPidFile(pidFile);
      if (root === undefined) throw new Error(`${name}: no PidFile ${pidFile} after 10s; see ${dir}/error.log`);
      const handle = new ServerHandle({ name, url: `http://127.0.0.1:${port}`, root, stopSignal: 'SIGTERM', logFile: join(dir, 'error.log'), pidFile });
      try {
        await waitReady(handle, () => existsSync(`/proc/${root}`));
      } catch (err) {
        await handle.stop();
        throw err;
      }
      return handle;
    },
  };
}

export const modWsgiDaemon = apache('daemon');
export const modWsgiEmbedded = apache('embedded');
