/**
 * Every error wsgi-host reports is a WsgiHostError: a stable `code` that tests and tools match on,
 * a message that says what was given, why it is wrong and what to do instead, and the `cause`.
 */
export class WsgiHostError extends Error {
  readonly code: string;
  /** What the user should do about it, when we know. */
  readonly hint: string | undefined;
  /** Where the offending setting is ('site.toml:12 (group[0].python-home)'), when known. */
  where: string | undefined;

  constructor(code: string, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** A message for an unknown thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
