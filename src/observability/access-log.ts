import pino from 'pino';
import { WsgiHostError } from '../errors.js';
import { AccessLogErrorCode } from '../error-codes.js';
export { AccessLogErrorCode } from '../error-codes.js';

/** What an access log line is made of: a plain record (http/access-record.ts makes one per request). */
export interface AccessRecord {
  remoteAddr: string;
  remotePort: number;
  method: string;
  url: string;
  httpVersion: string;
  status: number;
  bytes: number;
  /** Microseconds from the request's arrival to its end. */
  micros: number;
  requestId: string;
  group: string;
  header(name: string): string | undefined;
  responseHeader(name: string): string | undefined;
  /** When the line is written (epoch milliseconds). */
  time: number;
}

type Atom = (r: AccessRecord) => string;

const PRESETS: Record<string, string> = {
  combined: '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
  common: '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s',
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
let clfSecond = -1;
let clfText = '';

/** [10/Oct/2000:13:55:36 +0000], computed once per second. */
function clfTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== clfSecond) {
    const p = (n: number): string => String(n).padStart(2, '0');
    const d = new Date(ms);
    clfSecond = second;
    clfText = `[${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000]`;
  }
  return clfText;
}

const dash = (v: string | undefined): string => (v === undefined || v === '' ? '-' : v);

/** gunicorn's access log atoms, plus rid (request id) and g (group). */
const ATOMS: Record<string, Atom> = {
  h: (r) => r.remoteAddr,
  l: () => '-',
  u: (r) => basicUser(r.header('authorization')),
  t: (r) => clfTime(r.time),
  r: (r) => `${r.method} ${r.url} HTTP/${r.httpVersion}`,
  m: (r) => r.method,
  U: (r) => r.url.split('?')[0] as string,
  q: (r) => (r.url.includes('?') ? r.url.slice(r.url.indexOf('?') + 1) : ''),
  H: (r) => `HTTP/${r.httpVersion}`,
  s: (r) => String(r.status),
  B: (r) => String(r.bytes),
  b: (r) => (r.bytes === 0 ? '-' : String(r.bytes)),
  f: (r) => dash(r.header('referer')),
  a: (r) => dash(r.header('user-agent')),
  T: (r) => String(Math.floor(r.micros / 1e6)),
  D: (r) => String(Math.round(r.micros)),
  M: (r) => String(Math.round(r.micros / 1000)),
  L: (r) => (r.micros / 1e6).toFixed(6),
  p: () => `<${process.pid}>`,
  rid: (r) => r.requestId,
  g: (r) => r.group,
};

function basicUser(auth: string | undefined): string {
  if (!auth?.startsWith('Basic ')) return '-';
  const decoded = Buffer.from(auth.slice(6), 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  return colon > 0 ? decoded.slice(0, colon) : '-';
}

/** Compiles a format ('combined', 'common', 'json', or gunicorn-style '%(h)s "%(r)s" %({x-real-ip}i)s'). */
export function compileFormat(format: string): (r: AccessRecord) => string {
  if (format === 'json') return jsonLine;
  const text = PRESETS[format] ?? format;
  const parts: (string | Atom)[] = [];
  const re = /%\(([^)]+)\)s/g;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push(atomFor(m[1] as string, format));
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return (r) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(r);
    return out;
  };
}

/** A format with an atom this log does not know (the config model refuses it: accessFormatProblem). */
export class AccessFormatError extends WsgiHostError {
  constructor(message: string, hint: string, options: { cause?: unknown } = {}) {
    super(AccessLogErrorCode.FORMAT, message, { ...options, hint });
  }
}

/** Why a format cannot be used, with its fix; undefined when it can (the config model's check). */
export function accessFormatProblem(format: string): { message: string; hint: string } | undefined {
  try {
    compileFormat(format);
    return undefined;
  } catch (err) {
    if (err instanceof AccessFormatError) return { message: err.message, hint: err.hint ?? '' };
    throw err;
  }
}

function atomFor(name: string, format: string): Atom {
  const header = /^\{([^}]+)\}([ioe])$/.exec(name);
  if (header) {
    const key = (header[1] as string).toLowerCase();
    if (header[2] === 'i') return (r) => dash(r.header(key));
    if (header[2] === 'o') return (r) => dash(r.responseHeader(key));
    return () => dash(process.env[header[1] as string]);
  }
  const atom = ATOMS[name];
  if (atom === undefined) {
    throw new AccessFormatError(
      `the access log format '${format}' uses an unknown atom %(${name})s`,
      `Use combined, common, json, or gunicorn's atoms: ${Object.keys(ATOMS).join(' ')} {header}i {header}o {var}e`,
    );
  }
  return atom;
}

function jsonLine(r: AccessRecord): string {
  return JSON.stringify({
    time: new Date(r.time).toISOString(),
    remote_addr: r.remoteAddr,
    method: r.method,
    url: r.url,
    protocol: `HTTP/${r.httpVersion}`,
    status: r.status,
    bytes: r.bytes,
    duration_us: Math.round(r.micros),
    request_id: r.requestId,
    group: r.group,
    referer: r.header('referer') ?? null,
    user_agent: r.header('user-agent') ?? null,
  });
}

/** How long a written line may wait in the buffer before it is written out. */
export const ACCESS_LOG_FLUSH_MS = 50;

/**
 * The access log: one line per finished request, reopened on SIGUSR1 (log rotation). Lines are
 * buffered (one write per 4 KiB under load) but never for longer than ACCESS_LOG_FLUSH_MS: someone
 * watching the log (tail -f, a terminal) sees each request as it ends, not in batches.
 */
export class AccessLog {
  private readonly dest: ReturnType<typeof pino.destination>;
  private readonly format: (r: AccessRecord) => string;
  private flusher: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(target: string, format: string) {
    this.format = compileFormat(format);
    this.dest = pino.destination({ dest: target === '-' ? 1 : target, sync: false, minLength: 4096, mkdir: true });
  }

  write(record: AccessRecord): void {
    this.writeLine(this.format(record));
  }

  /** A line another front-end loop formatted (front-ends > 1). */
  writeLine(line: string): void {
    this.dest.write(`${line}\n`);
    if (this.flusher === undefined && !this.closed) {
      this.flusher = setTimeout(this.flushSoon, ACCESS_LOG_FLUSH_MS);
      this.flusher.unref();
    }
  }

  private readonly flushSoon = (): void => {
    this.flusher = undefined;
    try {
      this.dest.flush();
    } catch {
      // Not open yet (the file is opened asynchronously): try again shortly.
      if (!this.closed) {
        this.flusher = setTimeout(this.flushSoon, ACCESS_LOG_FLUSH_MS);
        this.flusher.unref();
      }
    }
  };

  reopen(): void {
    this.dest.reopen();
  }

  flush(): void {
    this.closed = true;
    clearTimeout(this.flusher);
    this.flusher = undefined;
    try {
      this.dest.flushSync();
    } catch {
      /* not ready yet */
    }
  }
}
