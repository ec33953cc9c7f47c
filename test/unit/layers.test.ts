import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/wsgi-host.js';

/**
 * The layer rule of src/ (docs/architecture.md), checked by scripts/layout.mjs on the imports of
 * every src/**\/*.ts (type imports and re-exports included): an import runs only down the layers,
 * never up and never sideways (the HTTP side and the worker side meet only in contract/); no file
 * is outside the layers; no import cycle; no module over 300 lines without a `reason:` at its top.
 */
test('src/: imports point down the layers, no cycles, no module over 300 lines without a reason', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'layout.mjs'), '--json'], { timeout: 60_000 });
  const report = JSON.parse(stdout) as {
    files: number;
    lines: number;
    longest: string[];
    unplaced: string[];
    upwardImports: string[];
    cycles: string[];
    overLimitWithoutReason: string[];
    overLimitWithReason: string[];
  };
  t.diagnostic(`${report.files} files, ${report.lines} lines; longest: ${report.longest.slice(0, 4).join(', ')}`);
  assert.deepEqual(report.unplaced, [], 'a file in no layer: add its folder to LAYERS in scripts/layout.mjs and to docs/architecture.md');
  assert.deepEqual(report.upwardImports, [], 'an import runs up (or across) the layers');
  assert.deepEqual(report.cycles, [], 'an import cycle');
  assert.deepEqual(report.overLimitWithoutReason, [], 'a module over 300 lines says no reason at its top');
});
