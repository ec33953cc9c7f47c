import { WsgiHostError } from '../errors.js';
import { AccessErrorCode } from '../error-codes.js';
export { AccessErrorCode } from '../error-codes.js';

/**
 * An access rule that cannot be used, as Apache refuses such lines when it starts (a bad address,
 * a 'not' that can never have an effect...). `path` is where in the rule; the config layer turns
 * it into a ConfigError naming the file, the line and the key.
 */
export class AccessRuleError extends WsgiHostError {
  /** Where in the rule: [0, 'require', 1, 'all', 0]. */
  readonly path: (string | number)[];

  constructor(message: string, path: (string | number)[], hint: string, options: { cause?: unknown } = {}) {
    super(AccessErrorCode.RULE, message, { ...options, hint });
    this.path = path;
  }
}
