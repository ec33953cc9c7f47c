import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/wsgi-host.js';

/**
 * The shape rules of the Apache configuration reader, checked by scripts/apache-layout.mjs:
 * imports point down the stages (base <- read <- directives <- translate <- index.ts), no import
 * cycles, no module over 300 lines without a reason written at its top.
 */
test('src/config/apache: imports point down the stages, no cycles, no module over 300 lines without a reason', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'apache-layout.mjs'), '--json'], { timeout: 60_000 });
  const report = JSON.parse(stdout) as {
    files: number;
    depth: number;
    depthThroughSrc: number;
    longestChain: string[];
    cycles: string[];
    upwardImports: string[];
    overLimitWithoutReason: string[];
    processesCrossing?: string[];
  };
  t.diagnostic(`${report.files} files; import depth ${report.depth} (${report.depthThroughSrc} through src/): ${report.longestChain.join(' -> ')}`);
  t.diagnostic(`processes= runs through ${report.processesCrossing?.length} files: ${report.processesCrossing?.join(', ')}`);
  assert.deepEqual(report.upwardImports, [], 'an import runs up the stages');
  assert.deepEqual(report.cycles, [], 'an import cycle');
  assert.deepEqual(report.overLimitWithoutReason, [], 'a module over 300 lines says no reason at its top');
  assert.ok(
    report.processesCrossing?.includes('apache/directives/daemon-options.ts'),
    `the processes= trace found its option table: ${report.processesCrossing?.join(', ')}`,
  );
});
