import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, test } from 'node:test';
import { RequestAbortedError } from '../../src/admin/admin-body.js';
import { AdminError } from '../../src/admin/admin-errors.js';
import { AccessRuleError } from '../../src/access/errors.js';
import { ListenError } from '../../src/cli/listen-error.js';
import { ConfigError } from '../../src/config/errors.js';
import { ERROR_CODE_TABLES, errorCatalog, SHARED_CODES } from '../../src/error-codes.js';
import { WsgiHostError } from '../../src/errors.js';
import { ProxyProtocolError } from '../../src/frontdoor/proxy-protocol-socket.js';
import { TlsError } from '../../src/frontdoor/tls-errors.js';
import { RequestRefusal } from '../../src/http/http-refusal.js';
import { AccessFormatError } from '../../src/observability/access-log.js';
import type { PythonInfo } from '../../src/protocol/messages.js';
import { WorkerProtocolError } from '../../src/protocol/protocol-error.js';
import { InvalidResponseError } from '../../src/protocol/response-head.js';
import { PythonEnvironmentError } from '../../src/python/errors.js';
import { AppLoadError, WorkerStartError } from '../../src/workers/errors.js';
import { ROOT } from '../helpers/wsgi-host.js';

const SRC = join(ROOT, 'src');
const catalog = errorCatalog();
const codes = new Set<string>(catalog.map((e) => e.code));

function sources(dir = SRC): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const rel = (p: string): string => relative(SRC, p).split(sep).join('/');

/** The codes docs/errors.md gives a row of its own: `| \`CODE\` | ... |`, in order. */
function documentedCodes(): string[] {
  const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
  return [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1] as string);
}

describe('the error-code catalog (src/error-codes.ts) and docs/errors.md', () => {
  test('every code of the catalog has its row in docs/errors.md', () => {
    const documented = new Set(documentedCodes());
    const missing = [...codes].filter((c) => !documented.has(c));
    assert.deepEqual(missing, [], 'codes without a row in docs/errors.md (say what each means and what to do)');
  });

  test('every code docs/errors.md lists exists in the catalog, and has one row', () => {
    const rows = documentedCodes();
    assert.ok(rows.length >= codes.size, `docs/errors.md has ${rows.length} rows for ${codes.size} codes`);
    assert.deepEqual(
      rows.filter((c) => !codes.has(c)),
      [],
      'docs/errors.md names codes no table has',
    );
    assert.deepEqual(
      rows.filter((c, i) => rows.indexOf(c) !== i),
      [],
      'a code with two rows in docs/errors.md',
    );
  });

  test('no two tables (or two keys of one table) reuse a code, unless SHARED_CODES says they mean the same', () => {
    const holders = new Map<string, string[]>();
    for (const e of catalog) holders.set(e.code, [...(holders.get(e.code) ?? []), `${e.table}.${e.key}`]);
    for (const [code, where] of holders) {
      const shared = SHARED_CODES[code];
      if (where.length === 1) {
        assert.equal(shared, undefined, `${code} is in SHARED_CODES but only ${where[0]} holds it`);
        continue;
      }
      assert.ok(shared !== undefined, `${code} is reused by ${where.join(' and ')}: give one of them its own code`);
      assert.deepEqual(where.map((w) => w.split('.')[0]).sort(), [...shared].sort(), `${code} is held by ${where.join(', ')}`);
    }
    for (const code of Object.keys(SHARED_CODES)) assert.ok(holders.has(code), `SHARED_CODES names ${code}, which no table holds`);
  });

  test('every code table of src/ is in the catalog: none is declared anywhere else', () => {
    const outside: string[] = [];
    let declared: string[] = [];
    for (const f of sources()) {
      const text = readFileSync(f, 'utf8');
      const tables = [...text.matchAll(/^export const (\w+Code) = \{/gm)].map((m) => m[1] as string);
      if (rel(f) === 'error-codes.ts') declared = tables;
      else outside.push(...tables.map((t) => `${rel(f)}: ${t}`));
    }
    assert.deepEqual(outside, [], 'code tables outside src/error-codes.ts (move them there, and re-export them from their layer)');
    assert.deepEqual(declared.sort(), Object.keys(ERROR_CODE_TABLES).sort(), 'ERROR_CODE_TABLES holds every table src/error-codes.ts declares');
  });

  test('codes written as string literals in src/ are codes of the catalog', () => {
    // The prefixes of our codes that no environment variable or header name shares.
    const ours = /['`]((?:CONFIG|CLI|CHECK|ADMIN|TLS|PROXY|LISTEN|WORKER)_[A-Z0-9_]+)['`]/g;
    const unknown: string[] = [];
    for (const f of sources()) {
      if (rel(f) === 'error-codes.ts') continue;
      for (const m of readFileSync(f, 'utf8').matchAll(ours)) if (!codes.has(m[1] as string)) unknown.push(`${rel(f)}: ${m[1]}`);
    }
    assert.deepEqual(unknown, [], 'codes that are in no table of the catalog');
  });

  test('every error class is a WsgiHostError with a code of the catalog, and carries the error it wraps as its cause', () => {
    const cause = new Error('what went wrong below');
    const made: [string, WsgiHostError][] = [
      ['ConfigError', new ConfigError(ERROR_CODE_TABLES.ConfigErrorCode.SYNTAX, 'm', { cause })],
      ['AccessRuleError', new AccessRuleError('m', [0], 'hint', { cause })],
      ['PythonEnvironmentError', new PythonEnvironmentError(ERROR_CODE_TABLES.PythonErrorCode.PROBE_FAILED, 'm', { cause })],
      ['WorkerProtocolError', new WorkerProtocolError('m', { cause })],
      ['InvalidResponseError', new InvalidResponseError('m', { cause })],
      ['AccessFormatError', new AccessFormatError('m', 'hint', { cause })],
      ['WorkerStartError', new WorkerStartError(ERROR_CODE_TABLES.WorkerErrorCode.START_FAILED, 'm', { cause })],
      ['RequestRefusal', new RequestRefusal(ERROR_CODE_TABLES.RefusalCode.MALFORMED, 400, 'm', { cause })],
      ['TlsError', new TlsError(ERROR_CODE_TABLES.TlsErrorCode.BAD_KEY, 'm', { cause })],
      ['ProxyProtocolError', new ProxyProtocolError(ERROR_CODE_TABLES.ProxyProtocolErrorCode.CLOSED, 'm', { cause })],
      ['AdminError', new AdminError(ERROR_CODE_TABLES.AdminErrorCode.BAD_ANSWER, 'm', { cause })],
      ['ListenError', new ListenError(ERROR_CODE_TABLES.ListenErrorCode.FAILED, 'm', { cause })],
      ['RequestAbortedError', new RequestAbortedError(cause)],
    ];
    for (const [name, err] of made) {
      assert.ok(err instanceof WsgiHostError, `${name} is a WsgiHostError`);
      assert.equal(err.name, name);
      assert.ok(codes.has(err.code), `${name}'s code ${err.code} is in the catalog`);
      assert.equal(err.cause, cause, `${name} keeps its cause`);
    }
    const python: PythonInfo = {
      executable: '/v/bin/python',
      version: '3.11.2',
      implementation: 'CPython',
      prefix: '/v',
      base_prefix: '/usr',
      path: [],
      site_packages: [],
    };
    const load = new AppLoadError('g', '/v/bin/python', { error: 'E', traceback: 'T', python, cwd: '/' });
    assert.ok(codes.has(load.code), 'AppLoadError has a code of the catalog (it wraps no JavaScript error: the traceback is its cause)');
    // The classes above are all there are: a new one is added to this list, with its code and cause.
    const classes = sources().flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/^export class (\w+) extends (\w+)/gm)].filter((m) => /Error$/.test(m[2] as string)).map((m) => m[1] as string),
    );
    assert.deepEqual(classes.filter((c) => c !== 'WsgiHostError').sort(), [...made.map(([n]) => n), 'AppLoadError'].sort());
  });
});
