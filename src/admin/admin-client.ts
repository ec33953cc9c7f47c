import { request } from 'node:http';
import { WsgiHostError } from '../errors.js';
import { type AdminAddress, describeAdmin } from './admin-address.js';

/** One request to a running server's admin listener. */
export function adminRequest(a: AdminAddress, method: string, path: string, token: string | undefined, timeoutMs: number): Promise<{ status: number; body: string }> {
  if (a.kind === 'off') {
    return Promise.reject(new WsgiHostError('ADMIN_OFF', 'the admin listener of this configuration is off', { hint: "Set admin.listen (for example 'auto') and restart the server" }));
  }
  if (a.kind === 'tcp' && a.port === 0) {
    return Promise.reject(
      new WsgiHostError('ADMIN_PORT_UNKNOWN', 'admin.listen uses port 0, so its port is chosen when the server starts and cannot be found from here', {
        hint: "Give admin.listen a fixed port, or use 'auto' (a unix socket named after the configuration)",
      }),
    );
  }
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...(a.kind === 'unix' ? { socketPath: a.path } : { host: a.host, port: a.port }),
        method,
        path,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new WsgiHostError('NOT_RUNNING', `no wsgi-host answers on ${describeAdmin(a)} (${err.code ?? err.message})`, {
          cause: err,
          hint: 'Is the server running with this configuration? Start it with wsgi-host serve',
        }),
      ),
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000}s`)));
    req.end();
  });
}
