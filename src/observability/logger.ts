import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: 'debug' | 'info' | 'warn' | 'error';
  /** 'pretty' for people, 'json' for machines; 'auto' picks pretty on a terminal. */
  format?: 'auto' | 'pretty' | 'json';
  /** '-' for stderr, or a file path. */
  destination?: string;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARNING',
  50: 'ERROR',
  60: 'CRITICAL',
};

/** Context keys shown in brackets on a pretty line, in this order. */
const CONTEXT_KEYS = ['group', 'pid', 'requestId'];
const HIDDEN_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v', 'listen', ...CONTEXT_KEYS]);

/** A line for people: "12:00:00.123 WARNING  [group=app pid=42 requestId=x] message key=value". */
export function formatPretty(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = new Date(Number(rec.time ?? Date.now())).toISOString().slice(11, 23);
  const level = String(rec.level).padEnd(8);
  const ctx = CONTEXT_KEYS.filter((k) => rec[k] !== undefined && !(k === 'pid' && rec.group === undefined))
    .map((k) => `${k}=${String(rec[k])}`)
    .join(' ');
  const extras = Object.keys(rec)
    .filter((k) => !HIDDEN_KEYS.has(k) && k !== 'err')
    .map((k) => `${k}=${typeof rec[k] === 'string' ? (rec[k] as string) : JSON.stringify(rec[k])}`)
    .join(' ');
  const err = rec.err as { stack?: string; message?: string } | undefined;
  let out = `${time} ${level} ${ctx ? `[${ctx}] ` : ''}${String(rec.msg ?? '')}${extras ? ` ${extras}` : ''}`;
  if (err?.stack) out += `\n${err.stack}`;
  return `${out}\n`;
}

/** The error log's file, when it is one: reopened on SIGUSR1 (log rotation). */
let errorLogFile: ReturnType<typeof pino.destination> | undefined;

export function reopenErrorLog(): void {
  errorLogFile?.reopen();
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const dest = options.destination ?? '-';
  const toTerminal = dest === '-' && process.stderr.isTTY === true;
  const format = options.format === undefined || options.format === 'auto' ? (toTerminal ? 'pretty' : 'json') : options.format;
  if (dest !== '-') errorLogFile = pino.destination({ dest, sync: true, mkdir: true });
  const raw: { write(text: string, cb?: () => void): unknown } = dest === '-' ? process.stderr : (errorLogFile as ReturnType<typeof pino.destination>);
  const stream =
    format === 'pretty'
      ? new Writable({
          write(chunk: Buffer | string, _enc, cb) {
            const text = chunk.toString();
            let out = '';
            for (const l of text.split('\n')) if (l) out += formatPretty(l);
            raw.write(out);
            cb();
          },
        })
      : raw;
  return pino(
    {
      level: options.level ?? 'info',
      base: null,
      timestamp: pino.stdTimeFunctions.epochTime,
      formatters: { level: (label, number) => ({ level: LEVEL_NAMES[number] ?? label.toUpperCase() }) },
    },
    stream,
  );
}

/** Python logging levels (10..50) to pino's level methods. */
export function pythonLevelMethod(level: number): 'debug' | 'info' | 'warn' | 'error' | 'fatal' {
  if (level >= 50) return 'fatal';
  if (level >= 40) return 'error';
  if (level >= 30) return 'warn';
  if (level >= 20) return 'info';
  return 'debug';
}
