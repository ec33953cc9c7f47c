import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { type AdminAddress, describeAdmin, isLoopback } from './admin-address.js';
import { AdminError, AdminErrorCode as A } from './admin-errors.js';
import { ADMIN_REQUEST_HEADER } from './admin-guard.js';
import { checkSocketPath, currentUid, describeUser, trustedOwner, untrustedSocket } from './runtime-folder.js';

/** What an admin listener answered. */
export interface AdminAnswer {
  status: number;
  contentType: string | undefined;
  body: string;
  /** Where it came from, for messages. */
  from: string;
}

/** An answer larger than this is not a wsgi-host's. */
const ANSWER_LIMIT = 32 * 1024 * 1024;

/** "200 text/html, 1234 bytes: '<!doctype html>...'" */
export function describeAnswer(r: AdminAnswer): string {
  const head = r.body.length > 120 ? `${r.body.slice(0, 120)}...` : r.body;
  return `${r.status} ${r.contentType ?? '(no Content-Type)'}, ${Buffer.byteLength(r.body)} bytes: ${JSON.stringify(head)}`;
}

export function badAnswer(r: AdminAnswer, expected: string): AdminError {
  return new AdminError(A.BAD_ANSWER, `${r.from} did not answer as a wsgi-host admin listener (expected ${expected}); it answered ${describeAnswer(r)}`, {
    hint: 'Is it the admin listener of this configuration? Check admin.listen (--admin); something else may be listening there',
  });
}

/** The answer's JSON, or an ADMIN_BAD_ANSWER error that says what came instead. */
export function answerJson(r: AdminAnswer, expected: string): unknown {
  if (!/^application\/json\b/i.test(r.contentType ?? '')) throw badAnswer(r, expected);
  try {
    return JSON.parse(r.body) as unknown;
  } catch {
    throw badAnswer(r, expected);
  }
}

/**
 * The uids of the processes listening on a TCP port (Linux: /proc/net/tcp*), so that a token is
 * never sent to a port another user took while the server was down. Empty when unknown.
 */
function tcpListenerOwners(port: number): number[] {
  const owners: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 8 || cols[3] !== '0A') continue; // 0A: LISTEN
      if (parseInt((cols[1] as string).split(':')[1] ?? '', 16) === port) owners.push(Number(cols[7]));
    }
  }
  return owners;
}

/** Before a token goes out: the socket (or the loopback port) must belong to this user or root. */
function checkPeer(a: AdminAddress, token: string | undefined): void {
  if (a.kind === 'unix') {
    if (!checkSocketPath(a.path)) {
      throw new AdminError(A.NOT_RUNNING, `no wsgi-host answers on ${a.path} (there is no such socket)`, {
        hint: 'Is the server running with this configuration? Start it with wsgi-host serve',
      });
    }
    return;
  }
  if (a.kind === 'tcp' && token !== undefined && isLoopback(a.host)) {
    const me = currentUid();
    const stranger = tcpListenerOwners(a.port).find((uid) => !trustedOwner(uid, me));
    if (stranger !== undefined) {
      throw untrustedSocket(
        `port ${a.port} on ${a.host} is held by a process of ${describeUser(stranger)}, not of ${describeUser(me)}${me === 0 ? '' : ' or root'}; the token is not sent there`,
      );
    }
  }
}

/**
 * One request to a running server's admin listener. Unix sockets are checked (owner, folder)
 * before anything is sent; the answer is read up to a bound.
 */
export async function adminRequest(a: AdminAddress, method: string, path: string, token: string | undefined, timeoutMs: number): Promise<AdminAnswer> {
  if (a.kind === 'off') {
    throw new AdminError(A.OFF, 'the admin listener of this configuration is off', {
      hint: "Set admin.listen (or --admin), for example 'auto', and restart the server",
    });
  }
  if (a.kind === 'tcp' && a.port === 0) {
    throw new AdminError(A.PORT_UNKNOWN, 'admin.listen uses port 0, so its port is chosen when the server starts and cannot be found from here', {
      hint: "Give admin.listen (--admin) a fixed port, or use 'auto' (a unix socket named after the configuration)",
    });
  }
  checkPeer(a, token);
  const from = describeAdmin(a);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { [ADMIN_REQUEST_HEADER]: '1' };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    const req = request(
      { ...(a.kind === 'unix' ? { socketPath: a.path } : { host: a.host, port: a.port }), method, path, headers, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > ANSWER_LIMIT) {
            req.destroy();
            reject(
              new AdminError(A.BAD_ANSWER, `${from} answered ${res.statusCode} with more than ${ANSWER_LIMIT / 1048576} MB: not a wsgi-host admin listener`),
            );
            return;
          }
          chunks.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8'), from }),
        );
        res.on('error', (err) => reject(new AdminError(A.NOT_RUNNING, `${from} closed the connection during its answer (${err.message})`, { cause: err })));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new AdminError(A.NOT_RUNNING, `no wsgi-host answers on ${from} (${err.code ?? err.message})`, {
          cause: err,
          hint: 'Is the server running with this configuration? Start it with wsgi-host serve',
        }),
      ),
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000}s`)));
    req.end();
  });
}

/** Whether a unix socket has a live server behind it (GET /ping, which needs no token: none is sent). */
export function pingSocket(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: path, path: '/ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}
