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
    const { values, positionals } = parseArgs({ args: negativeValues(argv, options), options, allowPositionals, strict: true });
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const flag = /'(-{1,2}[^'\s]+)'/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag !== undefined) {
      const names = Object.keys(options).map((n) => `--${n}`);
      const guess = didYouMean(flag.replace(/=.*$/, ''), names);
      throw new ConfigError(C.BAD_FLAG, `unknown flag ${flag} for 'wsgi-host ${command}'`, {
        hint: `${guess ? `Did you mean ${guess}? ` : ''}See wsgi-host ${command} --help`,
        cause: err,
      });
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined && /ambiguous/.test(e.message)) {
      throw new ConfigError(C.BAD_FLAG, `${flag} needs a value, and what follows it looks like another flag`, {
        hint: `Give ${flag} its value; a value that starts with '-' is written ${flag}=-VALUE`,
        cause: err,
      });
    }
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new ConfigError(C.BAD_FLAG, `'wsgi-host ${command}' takes no argument here: ${e.message}`, {
        hint: `See wsgi-host ${command} --help`,
        cause: err,
      });
    }
    throw new ConfigError(C.BAD_FLAG, `${e.message.replace(/\.$/, '')} (wsgi-host ${command})`, {
      hint: `See wsgi-host ${command} --help`,
      cause: err,
    });
  }
}

/**
 * `--threads -1` is the flag with a negative number (for our message on its range), not the flag
 * without a value followed by a flag -1: parseArgs would say "ambiguous".
 */
function negativeValues(argv: string[], options: OptionSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const name = arg.startsWith('--')
      ? arg.slice(2)
      : arg.length === 2 && arg.startsWith('-')
        ? Object.keys(options).find((k) => options[k]?.short === arg[1])
        : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

export function intFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^-\d+$/.test(value.trim())) {
    throw new ConfigError(C.BAD_NUMBER, `--${name} ${value.trim()} is out of range`, { hint: `Give --${name} a number from ${min} to ${max}` });
  }
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
