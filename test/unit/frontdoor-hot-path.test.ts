import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/wsgi-host.js';

/**
 * The front door costs nothing on the hot path of a server that does not use it: one GET to a
 * hello-world application without `compress`, trusted proxy headers or the PROXY protocol, traced
 * call by call (scripts/layout.mjs --trace-get), runs nothing of compression or of the trusted-proxy
 * logic; what it does run of the front door is three lookups (is any header trusted? the
 * connection's client address and port: a property read each).
 */
test('one GET without compress, trusted-proxy-headers or proxy-protocol runs none of their code', {
  skip: existsSync('/usr/bin/python3') ? false : 'needs /usr/bin/python3 (apt-get install python3)',
}, async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'layout.mjs'), '--json', '--trace-get'], {
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const report = JSON.parse(stdout) as { get: { calls: number; sequence: string[] } };
  const calls = report.get.sequence;
  t.diagnostic(`one GET: ${report.get.calls} calls of ours`);
  const frontdoor = calls.filter(
    (c) =>
      c.startsWith('frontdoor/') ||
      c.startsWith('http/response-compression.ts') ||
      c.startsWith('http/proxied-request.ts') ||
      c.startsWith('http/proxy-protocol-stage.ts'),
  );
  assert.deepEqual([...new Set(frontdoor)].sort(), [
    'http/proxied-request.ts proxyViewOf',
    'http/proxy-protocol-stage.ts clientAddress',
    'http/proxy-protocol-stage.ts clientPort',
    'http/proxy-protocol-stage.ts proxiedClient',
  ]);
  assert.equal(frontdoor.length, 5, `proxyViewOf, clientAddress and clientPort once, proxiedClient under each of the last two: ${frontdoor.join(', ')}`);
});
