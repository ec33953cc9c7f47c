import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type GroupSettings, GroupSettingsSchema } from '../../src/config/schema.js';
import { RECYCLE_RULES, type RecycleSubject } from '../../src/workers/recycle-rules.js';
import { ROOT } from '../helpers/wsgi-host.js';

/** The rows of docs/limits.md's "Per group" table whose log line is `recycling worker process (REASON: detail)`. */
function documentedRecycling(): { key: string; reason: string; detail: string }[] {
  const doc = readFileSync(join(ROOT, 'docs', 'limits.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Per group'), doc.indexOf('\n## ', doc.indexOf('## Per group') + 1));
  const rows: { key: string; reason: string; detail: string }[] = [];
  for (const line of section.split('\n')) {
    const key = /^\| `([a-z-]+)` \|/.exec(line)?.[1];
    const logged = /recycling worker process \(([a-z-]+): (.*?)\)`/.exec(line);
    if (key !== undefined && logged !== null) rows.push({ key, reason: logged[1] as string, detail: logged[2] as string });
  }
  return rows;
}

const settings = (over: Partial<GroupSettings>): GroupSettings => ({ ...GroupSettingsSchema.parse({}), ...over });
const process = (over: Partial<RecycleSubject> = {}): RecycleSubject => ({ served: 0, exhausted: false, readyAt: 0, busy: 0, lastActive: 0, ...over });

describe('recycle rules: the table in code is docs/limits.md, row for row', () => {
  test('the same keys, in the same order, with the same reasons', () => {
    const doc = documentedRecycling();
    assert.ok(doc.length >= 5, `docs/limits.md lists the recycling rows: ${JSON.stringify(doc)}`);
    assert.deepEqual(
      RECYCLE_RULES.map((r) => [r.key, r.reason]),
      doc.map((d) => [d.key, d.reason]),
    );
  });
  test("each rule fires where the doc says, and its log line's detail is the doc's", () => {
    const doc = new Map(documentedRecycling().map((d) => [d.key, d.detail]));
    const says = (key: string, detail: string | undefined): void => {
      const documented = (doc.get(key) as string).replace(/ ?\.\.\.$/, '');
      assert.ok(detail?.startsWith(documented), `${key}: '${detail}' is what docs/limits.md shows ('${documented}')`);
    };
    const rule = (key: string) => RECYCLE_RULES.find((r) => r.key === key) as (typeof RECYCLE_RULES)[number];
    const now = 10_000_000;

    says('request-timeout', rule('request-timeout').fires(process(), settings({ requestTimeout: 60 }), now, 61_000));
    assert.equal(rule('request-timeout').fires(process(), settings({ requestTimeout: 60 }), now, 59_000), undefined);
    assert.equal(rule('request-timeout').fires(process(), settings({ requestTimeout: 0 }), now, 1e9), undefined, '0: off');

    says('maximum-requests', rule('maximum-requests').fires(process({ exhausted: true, served: 1003 }), settings({}), now, 0));
    assert.equal(rule('maximum-requests').fires(process({ served: 1003 }), settings({}), now, 0), undefined);

    says('restart-interval', rule('restart-interval').fires(process({ readyAt: now - 3_600_400 }), settings({ restartInterval: 3600 }), now, 0));
    assert.equal(rule('restart-interval').fires(process({ readyAt: now - 3_599_000 }), settings({ restartInterval: 3600 }), now, 0), undefined);
    assert.equal(rule('restart-interval').fires(process({ readyAt: 0 }), settings({ restartInterval: 0 }), now, 0), undefined, '0: off');

    const mib = 1024 * 1024;
    says('memory-limit', rule('memory-limit').fires(process(), settings({ memoryLimit: 200 * mib }), now, Math.round(210.3 * mib)));
    assert.equal(rule('memory-limit').fires(process(), settings({ memoryLimit: 200 * mib }), now, 199 * mib), undefined);

    const idle = process({ served: 5, lastActive: now - 600_400 });
    says('inactivity-timeout', rule('inactivity-timeout').fires(idle, settings({ inactivityTimeout: 600 }), now, 0));
    assert.equal(
      rule('inactivity-timeout').fires({ ...idle, served: 0 }, settings({ inactivityTimeout: 600 }), now, 0),
      undefined,
      'one that never served a request is left alone',
    );
    assert.equal(rule('inactivity-timeout').fires({ ...idle, busy: 1 }, settings({ inactivityTimeout: 600 }), now, 0), undefined, 'a busy process is not idle');
  });
});
