import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'smol-toml';
import { camel, mapKeys } from '../src/config/key-names.js';
import { validateConfig } from '../src/config/validate.js';
import { tempDir } from './helpers/tmp.js';
import { ROOT } from './helpers/wsgi-host.js';

const DEPLOY = join(ROOT, 'examples', 'deploy');

function systemdAnalyze(): boolean {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

describe('the deployment recipes of docs/deploying.md', () => {
  test('the Kubernetes example: its wsgi-host.toml validates, and the grace period covers preStop, readiness-delay and the drain', () => {
    const yaml = readFileSync(join(DEPLOY, 'kubernetes.yaml'), 'utf8');
    const block = /wsgi-host\.toml: \|\n((?: {4}.*\n|\n)+)/.exec(yaml)?.[1];
    assert.ok(block, 'the ConfigMap holds wsgi-host.toml');
    const toml = block
      .split('\n')
      .map((l) => l.slice(4))
      .join('\n');
    const config = validateConfig(mapKeys(parse(toml), (k) => camel(k)));
    assert.equal(config.health.onListeners, true, 'the kubelet reaches the probes on the main port');
    assert.equal(config.listen[0]?.host, '0.0.0.0');
    const n = (re: RegExp): number => Number(re.exec(yaml)?.[1]);
    const preStop = n(/preStop:[\s\S]*?seconds: (\d+)/);
    const grace = n(/terminationGracePeriodSeconds: (\d+)/);
    const group = config.group[0];
    assert.ok(group);
    const needed = preStop + config.shutdown.readinessDelay + group.gracefulTimeout + group.shutdownTimeout;
    assert.ok(grace > needed, `terminationGracePeriodSeconds ${grace} > ${needed}`);
    assert.match(yaml, /readinessProbe:\s+httpGet:\s+path: \/readyz/);
    assert.match(yaml, /livenessProbe:\s+httpGet:\s+path: \/healthz/);
  });

  test('the systemd unit: reload by SIGHUP, SIGTERM to the main process only, a stop timeout longer than the drain', () => {
    const unit = readFileSync(join(DEPLOY, 'wsgi-host.service'), 'utf8');
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    assert.match(unit, /^KillSignal=SIGTERM$/m);
    assert.match(unit, /^KillMode=mixed$/m);
    const defaults = validateConfig({ group: [{ name: 'g' }] });
    const g = defaults.group[0];
    assert.ok(g);
    const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1]);
    assert.ok(stop > defaults.shutdown.readinessDelay + g.gracefulTimeout + g.shutdownTimeout, `TimeoutStopSec ${stop}`);
  });

  test('systemd-analyze verify accepts the unit', { skip: systemdAnalyze() ? false : 'systemd-analyze is not installed (apt-get install systemd)' }, () => {
    const t = tempDir();
    try {
      // The unit names /usr/local/bin/wsgi-host, which verify wants to exist: check the same unit
      // with an executable this machine has, and a working directory it has.
      const unit = readFileSync(join(DEPLOY, 'wsgi-host.service'), 'utf8')
        .replace('/usr/local/bin/wsgi-host', process.execPath)
        .replace('WorkingDirectory=/srv/site', `WorkingDirectory=${t.dir}`)
        .replace(/^User=.*\n^Group=.*\n/m, '');
      const file = join(t.dir, 'wsgi-host.service');
      writeFileSync(file, unit);
      const out = execFileSync('systemd-analyze', ['verify', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
      assert.equal(out.trim(), '');
    } finally {
      t.cleanup();
    }
  });
});
