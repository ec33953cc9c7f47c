import { readFileSync } from 'node:fs';
import { WsgiHostError } from '../errors.js';
import type { RunAs } from '../python/worker-launch.js';
import { WorkerErrorCode } from './errors.js';

export interface Identity {
  uid: number;
  gid: number;
  /** Supplementary groups. */
  groups: number[];
  name: string;
  /** The home directory of its passwd entry, when it has one. */
  home: string | undefined;
  /** Whether the user has a passwd entry (a bare uid has none: no supplementary groups). */
  inPasswd: boolean;
}

function readTable(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/** A user (name or number) and optional group, as mod_wsgi's user= and group= options take them. */
export function lookupIdentity(user: string, group?: string): Identity {
  const passwd = readTable('/etc/passwd');
  const groups = readTable('/etc/group');
  const row = passwd.find((r) => r[0] === user || r[2] === user);
  if (row === undefined && !/^\d+$/.test(user)) {
    throw new WsgiHostError(WorkerErrorCode.USER_NOT_FOUND, `user '${user}' does not exist on this machine`, {
      hint: 'Name an existing user (see /etc/passwd), or remove user=',
    });
  }
  const uid = row ? Number(row[2]) : Number(user);
  const name = row ? (row[0] as string) : user;
  let gid = row ? Number(row[3]) : uid;
  if (group !== undefined) {
    const g = groups.find((r) => r[0] === group || r[2] === group);
    if (g === undefined && !/^\d+$/.test(group)) {
      throw new WsgiHostError(WorkerErrorCode.GROUP_NOT_FOUND, `group '${group}' does not exist on this machine`, {
        hint: 'Name an existing group (see /etc/group), or remove group=',
      });
    }
    gid = g ? Number(g[2]) : Number(group);
  }
  const supplementary = groups.filter((r) => (r[3] ?? '').split(',').includes(name)).map((r) => Number(r[2]));
  return { uid, gid, groups: [...new Set([gid, ...supplementary])], name, home: row?.[5] || undefined, inPasswd: row !== undefined };
}

/** What the launcher needs to switch to an identity. */
export function runAsOf(id: Identity): RunAs {
  return { uid: id.uid, gid: id.gid, name: id.inPasswd ? id.name : undefined, home: id.home };
}

/** The identity of a uid (its passwd entry, when it has one) with the group gid. */
export function runAsForIds(uid: number, gid: number | undefined): RunAs {
  const row = readTable('/etc/passwd').find((r) => Number(r[2]) === uid);
  return { uid, gid: gid ?? (row ? Number(row[3]) : uid), name: row?.[0], home: row?.[5] || undefined };
}
