import { WsgiHostError } from '../errors.js';

/** Stable codes of the admin listener and of the commands that talk to it (docs/security.md). */
export const AdminErrorCode = {
  /** A non-loopback TCP admin listener without a token. */
  TOKEN_REQUIRED: 'ADMIN_TOKEN_REQUIRED',
  /** --admin-token-file cannot be read or is empty. */
  TOKEN_FILE: 'ADMIN_TOKEN_FILE',
  /** The admin listener of the configuration is off: there is nothing to talk to. */
  OFF: 'ADMIN_OFF',
  /** admin.listen has port 0: the port is only known to the server. */
  PORT_UNKNOWN: 'ADMIN_PORT_UNKNOWN',
  /** The folder of the admin socket is not private: another user could plant or swap the socket. */
  DIR_UNTRUSTED: 'ADMIN_DIR_UNTRUSTED',
  /** The private folder for admin sockets cannot be made. */
  DIR_FAILED: 'ADMIN_DIR_FAILED',
  /** The admin socket (or the process listening on the admin port) belongs to another user. */
  SOCKET_UNTRUSTED: 'ADMIN_SOCKET_UNTRUSTED',
  /** Several servers serve this configuration (on other ports): which one is meant? */
  AMBIGUOUS: 'ADMIN_AMBIGUOUS',
  /** The admin listener answered something that is not what a wsgi-host answers. */
  BAD_ANSWER: 'ADMIN_BAD_ANSWER',
  /** Another wsgi-host already serves this configuration with the same admin listener. */
  ALREADY_SERVING: 'ALREADY_SERVING',
  /** Nothing answers at the admin listener of this configuration. */
  NOT_RUNNING: 'NOT_RUNNING',
} as const;

export class AdminError extends WsgiHostError {}
