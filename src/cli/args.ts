import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, ConfigErrorCode as C } from '../config/errors.js';
import { didYouMean } from '../util/did-you-mean.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with our errors: unknown flags name the command and the likely intended flag. */
export function parseCommand(
  command: string,
  argv: string[],
  options: OptionSpec,
  allowPositionals: boolean,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals, strict: true });
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const flag = /'(-{1,2}[^'\s]+)'/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag !== undefined) {
      const names = Object.keys(options).map((n) => `--${n}`);
      const guess = didYouMean(flag.replace(/=.*$/, ''), names);
      throw new ConfigError(C.BAD_FLAG, `unknown flag ${flag} for 'wsgi-host ${command}'`, {
        hint: `${guess ? `Did you mean ${guess}? ` : ''}See wsgi-host ${command} --help`,
      });
    }
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new ConfigError(C.BAD_FLAG, `'wsgi-host ${command}' takes no argument here: ${e.message}`, {
        hint: `See wsgi-host ${command} --help`,
      });
    }
    throw new ConfigError(C.BAD_FLAG, `${e.message.replace(/\.$/, '')} (wsgi-host ${command})`, {
      hint: `See wsgi-host ${command} --help`,
    });
  }
}

export function intFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) {
    throw new ConfigError(C.BAD_NUMBER, `--${name} '${value}' is not a whole number`, {
      hint: `Give --${name} a number from ${min} to ${max}`,
    });
  }
  const n = Number(value);
  if (n < min || n > max) {
    throw new ConfigError(C.BAD_NUMBER, `--${name} ${value} is out of range`, { hint: `Give --${name} a number from ${min} to ${max}` });
  }
  return n;
}
