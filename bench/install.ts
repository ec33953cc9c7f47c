/** The peers and wrk come from Debian: install what is missing (saying so), report versions. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';

export function debianVersion(pkg: string): string | undefined {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}\t${Version}', pkg], { encoding: 'utf8' });
  const [status, version] = (r.stdout ?? '').split('\t');
  return r.status === 0 && status === 'install ok installed' ? version : undefined;
}

// Installing apache2 would start the system's Apache service (on port 80): a policy-rc.d that
// refuses service starts is put in place for the install, and removed after, when none existed.
const POLICY = '/usr/sbin/policy-rc.d';

export function ensurePackages(packages: string[]): void {
  const missing = [...new Set(packages)].filter((p) => debianVersion(p) === undefined);
  if (missing.length === 0) return;
  console.log(`bench: installing missing Debian packages with apt-get: ${missing.join(' ')}`);
  const addedPolicy = !existsSync(POLICY);
  if (addedPolicy) writeFileSync(POLICY, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  } finally {
    if (addedPolicy) rmSync(POLICY, { force: true });
  }
  const still = missing.filter((p) => debianVersion(p) === undefined);
  if (still.length > 0) throw new Error(`apt-get did not install: ${still.join(' ')}`);
  console.log(`bench: installed ${missing.join(' ')}`);
}

export function pythonVersion(python: string): string {
  try {
    return execFileSync(python, ['-c', 'import sys; print(sys.version.split()[0])'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
