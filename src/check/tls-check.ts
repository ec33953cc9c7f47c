import type { LoadedConfig } from '../config/loaded-config.js';
import type { ServePlan } from '../config/plan.js';
import { TlsContexts } from '../frontdoor/tls-contexts.js';
import { TlsError } from '../frontdoor/tls-errors.js';
import { tlsListenerSpec } from '../frontdoor/tls-spec.js';
import type { Problem } from './problem.js';
import { where } from './problem.js';

/**
 * The certificates of every TLS listener, loaded as `serve` loads them: what would stop the start
 * (a missing file, a key that is not the certificate's...) is an error, what would be logged at
 * start (an expired certificate, a name it does not cover) a warning.
 */
export async function certificateProblems(plan: ServePlan, loaded: LoadedConfig): Promise<Problem[]> {
  const out: Problem[] = [];
  for (let i = 0; i < plan.config.listen.length; i++) {
    const spec = tlsListenerSpec(plan.config, i, plan.baseDir);
    if (spec === undefined) continue;
    const at = where(loaded, ['listen', i, 'tls']);
    try {
      const contexts = await TlsContexts.load(spec);
      for (const w of contexts.warnings) {
        const shown = w.file ?? at;
        out.push({ severity: 'warning', code: w.code, message: w.message, ...(shown !== undefined ? { where: shown } : {}) });
      }
    } catch (err) {
      if (!(err instanceof TlsError)) throw err;
      out.push({
        severity: 'error',
        code: err.code,
        message: err.message,
        ...(at !== undefined ? { where: at } : err.file !== undefined ? { where: err.file } : {}),
        ...(err.hint ? { hint: err.hint } : {}),
      });
    }
  }
  return out;
}
