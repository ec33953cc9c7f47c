import { accessSync, constants, realpathSync, type Stats, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Identity } from './user-ids.js';

/** Why `who` cannot reach path with the given access ('r' read, 'x' execute), or undefined if it can. */
export function accessProblem(path: string, mode: 'r' | 'x', who: Identity | undefined): string | undefined {
  const full = resolve(path);
  if (who === undefined) {
    try {
      accessSync(full, mode === 'r' ? constants.R_OK : constants.X_OK);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (who.uid === 0) return undefined;
  // Symbolic links (a venv's bin/python) are followed: the folders that matter are the target's.
  let real = full;
  try {
    real = realpathSync(full);
  } catch {
    return `${full} does not exist`;
  }
  if (real !== full) {
    const linkProblem = accessProblem(full.slice(0, full.lastIndexOf('/')) || '/', 'x', who);
    if (linkProblem) return linkProblem;
    return accessProblem(real, mode, who);
  }
  // Every folder on the way must be searchable, then the file itself readable/executable.
  const chain: string[] = [];
  for (let d = dirname(full); ; d = dirname(d)) {
    chain.unshift(d);
    if (d === dirname(d)) break;
  }
  for (const d of chain) {
    if (!allowed(d, 'x', who)) return `the folder ${d} is not searchable by user ${who.name}`;
  }
  if (!allowed(full, mode, who)) return `${full} is not ${mode === 'r' ? 'readable' : 'executable'} by user ${who.name}`;
  return undefined;
}

function allowed(path: string, mode: 'r' | 'x', who: Identity): boolean {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return false;
  }
  const bit = mode === 'r' ? 4 : 1;
  if (st.uid === who.uid) return ((st.mode >> 6) & bit) !== 0;
  if (who.groups.includes(st.gid)) return ((st.mode >> 3) & bit) !== 0;
  return (st.mode & bit) !== 0;
}
