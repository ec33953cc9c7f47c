/**
 * What some tests need from the machine, as the `skip` option of describe() or test(): false when
 * it is there, else the reason with the command that provides it. `npm test` never installs
 * anything; `.ci/run` installs all of it (as root) and sets CI, and under CI a missing requirement
 * fails instead of skipping, so nothing is skipped silently there.
 */
import { existsSync } from 'node:fs';

/** The skip option for something missing (undefined: nothing is). */
export function requirement(missing: string | undefined): string | false {
  if (missing === undefined) return false;
  return process.env.CI ? false : missing;
}

/** Root, for user= groups (privileges are dropped only by a root front end, as in mod_wsgi). */
export function needsRoot(): string | false {
  // Not CI-gated: being root is how the tests are run, not something to install.
  return process.getuid?.() === 0 ? false : 'needs root (user= applies only when wsgi-host starts as root): run the tests as root, e.g. sudo npm test';
}

/** Debian's Chromium for the status page test (playwright-core never downloads a browser). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function needsChromium(): string | false {
  return requirement(existsSync(CHROMIUM) ? undefined : `no browser at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
}
