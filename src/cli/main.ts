#!/usr/bin/env node
// first: the heap bound must be in place before the other modules load (heap-bounds-first.ts)
import './heap-bounds-first.js';
import { ConfigError } from '../config/errors.js';
import { WsgiHostError } from '../errors.js';
import { packageVersion } from '../util/package-info.js';
import { didYouMean } from '../util/did-you-mean.js';

import { listenError } from './listen-error.js';
import { CliErrorCode } from '../error-codes.js';
export { CliErrorCode } from '../error-codes.js';

const HELP = `wsgi-host: serve Python WSGI applications, each from its own virtual environment.

Usage: wsgi-host COMMAND [options]

Commands:
  serve SCRIPT       serve a WSGI script or package.module:callable
  serve -c FILE      serve the applications of a wsgi-host.toml (--apache FILE: of an Apache config)
  reload             make the running server re-read its configuration (as SIGHUP does)
  status             what the running server is doing: groups, processes, requests, restarts
  check              check a configuration: interpreters, imports, and the mod_wsgi traps
  config             print the effective configuration, translate Apache configs, the JSON Schema
  help [COMMAND]     show help for a command

Run 'wsgi-host COMMAND --help' for a command's options. The status page and /metrics over HTTP:
wsgi-host serve ... --admin 127.0.0.1:9100 (by default the admin listener is a private unix socket).
`;

type Command = (argv: string[]) => Promise<number>;

// Each command's modules load when it runs, after the heap bounds are in place (heap-bounds-first.ts).
const COMMANDS: Record<string, Command> = {
  serve: async (argv) => (await import('./serve-command.js')).serveCommand(argv),
  config: async (argv) => (await import('./config-command.js')).configCommand(argv),
  check: async (argv) => (await import('./check-command.js')).checkCommand(argv),
  reload: async (argv) => (await import('./reload-command.js')).reloadCommand(argv),
  status: async (argv) => (await import('./status-command.js')).statusCommand(argv),
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    process.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`wsgi-host ${packageVersion()}\n`);
    return 0;
  }
  if (command === 'help') {
    const sub = rest[0];
    if (sub === undefined) {
      process.stdout.write(HELP);
      return 0;
    }
    if (COMMANDS[sub] !== undefined) return (COMMANDS[sub] as Command)(['--help']);
    return unknownCommand(sub);
  }
  const run = COMMANDS[command];
  if (run === undefined) return unknownCommand(command);
  try {
    return await run(rest);
  } catch (err) {
    return reportError(err);
  }
}

function unknownCommand(name: string): number {
  const guess = didYouMean(name, Object.keys(COMMANDS));
  process.stderr.write(
    `wsgi-host: error [${CliErrorCode.UNKNOWN_COMMAND}]: unknown command '${name}'\n` +
      `  fix: ${guess ? `Did you mean '${guess}'? ` : ''}The commands are ${Object.keys(COMMANDS).join(', ')} and help; see wsgi-host --help\n`,
  );
  return 2;
}

export function reportError(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`wsgi-host: error [${err.code}]: ${err.describe()}\n`);
    return 2;
  }
  if (err instanceof WsgiHostError) {
    const where = err.where ? `${err.where}: ` : '';
    process.stderr.write(`wsgi-host: error [${err.code}]: ${where}${err.message}\n${err.hint ? `  fix: ${err.hint}\n` : ''}`);
    return 1;
  }
  const listen = listenError(err);
  if (listen !== undefined) return reportError(listen);
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`wsgi-host: internal error: ${e?.stack ?? String(err)}\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.exitCode = reportError(err);
  },
);
