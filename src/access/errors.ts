import { WsgiHostError } from '../errors.js';

/** Stable codes of access rules. */
export const AccessErrorCode = {
  /** An access rule that cannot be used (a bad address, a 'not' without effect...). */
  RULE: 'CONFIG_ACCESS_RULE',
} as const;

/**
 * An access rule that cannot be used, as Apache refuses such lines when it starts (a bad address,
 * a 'not' that can never have an effect...). `path` is where in the rule; the config layer turns
 * it into a ConfigError naming the file, the line and the key.
 */
export class AccessRuleError extends WsgiHostError {
  /** Where in the rule: [0, 'require', 1, 'all', 0]. */
  readonly path: (string | number)[];

  constructor(message: string, path: (string | number)[], hint: string) {
    super(AccessErrorCode.RULE, message, { hint });
    this.path = path;
  }
}
