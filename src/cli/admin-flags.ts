import { readFileSync } from 'node:fs';
import { type AdminListen, parseAdminListen } from '../admin/admin-address.js';
import { AdminError, AdminErrorCode as A } from '../admin/admin-errors.js';
import type { AdminTarget } from '../admin/admin-target.js';
import { type LoadedConfig, locateError } from '../config/loaded-config.js';
import type { OptionSpec } from './args.js';

/**
 * --admin and --admin-token-file, taken by serve, reload and status. A token is read from a file,
 * never given on the command line (where every user sees it in ps).
 */
export const ADMIN_FLAGS: OptionSpec = {
  admin: { type: 'string' },
  'admin-token-file': { type: 'string' },
};

export const ADMIN_FLAGS_HELP = `Admin listener (reload, status page, metrics):
  --admin WHERE            auto (default): a unix socket in a private folder, named after the
                           configuration, where wsgi-host reload and status find it;
                           HOST:PORT or PORT (on 127.0.0.1): the status page and /metrics over
                           HTTP; a unix socket PATH (with a /); or off
  --admin-token-file FILE  the admin token (Authorization: Bearer TOKEN) is the first line of
                           FILE; required when --admin is not a loopback address or a socket
`;

export interface AdminFlags {
  admin: string | undefined;
  tokenFile: string | undefined;
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** Removes the admin flags from parsed values (the configuration loader does not take them). */
export function takeAdminFlags(values: Values): AdminFlags {
  const flags = { admin: values.admin as string | undefined, tokenFile: values['admin-token-file'] as string | undefined };
  delete values.admin;
  delete values['admin-token-file'];
  return flags;
}

function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AdminError(A.TOKEN_FILE, `--admin-token-file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      cause: err,
      hint: 'Give a file that holds the token on its first line, readable by this user only (chmod 600)',
    });
  }
  const token = (text.split(/\r?\n/)[0] ?? '').trim();
  if (token === '') {
    throw new AdminError(A.TOKEN_FILE, `--admin-token-file ${file} holds no token on its first line`, {
      hint: 'Put the token on its first line (for example: openssl rand -hex 32 > FILE)',
    });
  }
  return token;
}

/**
 * The admin listener of a loaded configuration with the flags applied. When --host/--port moved a
 * file's listeners, its automatic socket gets a name of its own (with the process id when a port
 * is 0), so that the same file can be served more than once.
 */
export function adminTarget(loaded: LoadedConfig, values: Values, flags: AdminFlags, role: 'serve' | 'client'): AdminTarget {
  let listen: AdminListen;
  try {
    listen = flags.admin !== undefined ? parseAdminListen(flags.admin, { key: '--admin' }) : parseAdminListen(loaded.config.admin.listen);
  } catch (err) {
    throw locateError(err, loaded.describer);
  }
  const fromFile = values.config !== undefined || values.apache !== undefined;
  const moved = fromFile && (values.host !== undefined || values.port !== undefined);
  const anyPortZero = loaded.config.listen.some((l) => l.port === 0);
  // A client cannot know the pid of a server started with port 0: it looks for the only one there is.
  const variant = !moved || (anyPortZero && role === 'client') ? undefined : `${JSON.stringify(loaded.config.listen)}${anyPortZero ? `:${process.pid}` : ''}`;
  return {
    listen,
    name: { identity: loaded.identity, variant },
    token: flags.tokenFile !== undefined ? readToken(flags.tokenFile) : loaded.config.admin.token,
    label: loaded.label,
  };
}
