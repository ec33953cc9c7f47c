import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from './helpers/node-test.js';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { StatusReport } from '../src/admin/status-report.js';
import { getJson, request } from './helpers/http.js';
import { discoverInterpreters, makeVenv } from './helpers/python.js';
import { CHROMIUM, needsChromium } from './helpers/requirements.js';
import { tempDir } from './helpers/tmp.js';
import { WsgiHost } from './helpers/wsgi-host.js';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const APP = (name: string): string => `
def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/missing":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not here"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from ${name}"]
`;

/** Retries fn (an assertion) every 200 ms until it passes or timeoutMs ends; then throws its last error. */
async function eventually<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const count = (text: string | null): number => Number((text ?? '').replace(/[^0-9]/g, ''));

describe('the status page, in a real browser', { timeout: 180_000, skip: needsChromium() }, () => {
  const t = tempDir();
  const interpreters = discoverInterpreters();
  let host: WsgiHost | undefined;
  let admin = '';
  let app = '';
  let profile: string | undefined;
  let context: BrowserContext | undefined;
  let page: Page;

  const status = (): Promise<StatusReport> => getJson<StatusReport>(`${admin}/status`);
  const card = (label: string) => page.locator(`article[data-group="${label}"]`);

  before(async () => {
    const pyA = interpreters[0];
    const pyB = interpreters[interpreters.length - 1];
    assert.ok(pyA && pyB, 'at least one Python 3.8+ on this machine');
    makeVenv(join(t.dir, 'venv-alpha'), { python: pyA.path });
    makeVenv(join(t.dir, 'venv-beta'), { python: pyB.path });
    t.file('alpha.wsgi', APP('alpha'));
    t.file('beta.wsgi', APP('beta'));
    const config = t.file(
      'wsgi-host.toml',
      `
listen = ["127.0.0.1:${process.env.STATUS_PAGE_SCREENSHOT ? 8000 : 0}"]

[admin]
listen = "127.0.0.1:0"

[[group]]
name = "alpha"
python-home = "venv-alpha"
processes = 2
threads = 2

[[group]]
name = "beta"
python-home = "venv-beta"
processes = 1
threads = 3

[[mount]]
path = "/alpha"
script = "alpha.wsgi"
group = "alpha"

[[mount]]
path = "/beta"
script = "beta.wsgi"
group = "beta"
`,
    );
    host = await WsgiHost.serve(['-c', config], { cwd: t.dir, timeoutMs: 60_000 });
    app = host.url;
    admin = (await host.waitForLog(/^admin listener on (http:\/\/\S+)$/, 10_000))[1] as string;

    const expect = async (path: string, code: number): Promise<void> => {
      const r = await request(`${app}${path}`, { timeoutMs: 15_000 });
      assert.equal(r.status, code, `${path}: ${r.text}`);
    };
    for (let i = 0; i < 12; i++) await expect('/alpha/', 200);
    for (let i = 0; i < 7; i++) await expect('/beta/hello', 200);
    await expect('/alpha/missing', 404);
    await expect('/alpha/boom', 500);

    profile = mkdtempSync(join(tmpdir(), 'wsgi-host-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      timeout: 60_000,
    });
    context.setDefaultTimeout(15_000);
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${admin}/`, { timeout: 30_000 });
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await host?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
    t.cleanup();
  });

  test("shows every group's card with its Python version and python-home, and the server's facts", async () => {
    const report = await status();
    assert.equal(report.groups.length, 2);
    for (const g of report.groups) {
      const c = card(g.label);
      await c.waitFor({ timeout: 15_000 });
      assert.equal(await c.locator('[data-field="python-version"]').textContent(), g.pythonVersion);
      assert.equal(await c.locator('[data-field="python-home"]').textContent(), g.pythonHome);
      assert.equal(await c.locator('[data-field="interpreter"]').textContent(), g.interpreter);
      assert.equal(await c.locator('[data-field="state"]').textContent(), 'serving');
    }
    const header = (await page.locator('#server').textContent()) ?? '';
    assert.match(header, new RegExp(`pid\\s*${report.server.pid}`));
    for (const l of report.server.listen) assert.ok(header.includes(l), `${l} in ${header}`);
  });

  test('lists every worker process of each group, with its pid', async () => {
    const report = await status();
    for (const g of report.groups) {
      const want = g.processList.map((p) => String(p.pid)).sort();
      assert.ok(want.length > 0);
      const shown = await eventually(async () => {
        const pids = (
          await page.locator(`table[data-processes="${g.label}"] tbody tr[data-pid]`).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-pid')))
        ).sort();
        assert.deepEqual(pids, want);
        return pids;
      }, 10_000);
      for (const pid of shown) {
        const row = page.locator(`table[data-processes="${g.label}"] tr[data-pid="${pid}"]`);
        const text = (await row.textContent()) ?? '';
        const p = g.processList.find((x) => String(x.pid) === pid);
        assert.ok(text.includes(p?.pythonVersion ?? '?') && text.includes(p?.pythonHome ?? '?'), text);
      }
    }
  });

  test('shows the request counts by status class that /status reports', async () => {
    const report = await status();
    const alpha = report.groups.find((g) => g.group === 'alpha');
    assert.equal(alpha?.requests.total, 14);
    assert.equal(alpha?.requests.byClass['4xx'], 1);
    assert.equal(alpha?.requests.byClass['5xx'], 1);
    for (const g of report.groups) {
      const c = card(g.label);
      await eventually(async () => {
        assert.equal(count(await c.locator('[data-field="total"]').textContent()), g.requests.total);
        for (const [cls, n] of Object.entries(g.requests.byClass)) {
          assert.equal(count(await c.locator(`[data-class="${cls}"] b`).textContent()), n, `${g.label} ${cls}`);
        }
      }, 10_000);
      assert.notEqual(await c.locator('[data-latency="p50"]').textContent(), '–');
    }
  });

  test('draws the throughput, latency and capacity charts of each group from its history', async () => {
    const report = await status();
    for (const g of report.groups) {
      for (const kind of ['throughput', 'latency', 'capacity']) {
        const chart = page.locator(`svg[data-chart="${kind}"][data-group="${g.label}"]`);
        await eventually(async () => {
          assert.ok(Number(await chart.getAttribute('data-points')) > 0, `${g.label} ${kind}: points`);
          assert.ok(Number(await chart.getAttribute('data-marks')) > 0, `${g.label} ${kind}: marks`);
        }, 15_000);
        assert.ok((await chart.locator('rect, path, circle').count()) > 0, `${g.label} ${kind}: drawn shapes`);
      }
    }
  });

  test('updates live: more requests raise the total shown', async () => {
    const label = (await status()).groups.find((g) => g.group === 'beta')?.label as string;
    const total = card(label).locator('[data-field="total"]');
    const before = count(await total.textContent());
    for (let i = 0; i < 5; i++) assert.equal((await request(`${app}/beta/more`, { timeoutMs: 15_000 })).status, 200);
    await eventually(
      async () => assert.ok(count(await total.textContent()) >= before + 5, `total went from ${before} to ${await total.textContent()}`),
      10_000,
    );
    if (process.env.STATUS_PAGE_SCREENSHOT) await page.screenshot({ path: process.env.STATUS_PAGE_SCREENSHOT });
  });

  test('escapes every string, shows a failed group, asks for the token on 401 and survives a lost server', async () => {
    const real = await status();
    const evil = '<img src=x onerror="document.title=1">';
    const fake: StatusReport = {
      ...real,
      server: { ...real.server, config: evil },
      groups: real.groups.map((g, i) => ({
        ...g,
        label: i === 0 ? `${evil}-${g.label}` : g.label,
        state: i === 0 ? 'failed' : g.state,
        failure: i === 0 ? `crash loop: <b>5 processes</b> ${evil}` : g.failure,
        pythonHome: i === 0 ? `${g.pythonHome}/<script>` : g.pythonHome,
      })),
    };
    const p = await (context as BrowserContext).newPage();
    try {
      let mode: 'ok' | 'down' = 'ok';
      const auth: (string | undefined)[] = [];
      await p.route('**/status', async (route) => {
        const header = route.request().headers().authorization;
        auth.push(header);
        if (mode === 'down') return route.abort('connectionrefused');
        if (header !== 'Bearer s3cret') return route.fulfill({ status: 401, contentType: 'text/plain', body: 'token please' });
        return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(fake) });
      });
      await p.goto(`${admin}/`, { timeout: 30_000 });
      await p.locator('#auth').waitFor({ state: 'visible', timeout: 10_000 });
      await p.locator('#token').fill('s3cret');
      await p.locator('#auth button[type="submit"]').click();
      const failed = p.locator('article.group.failed');
      await failed.waitFor({ timeout: 10_000 });
      assert.ok(auth.includes('Bearer s3cret'), 'polls send the token');
      assert.equal(await p.evaluate('sessionStorage.getItem("wsgi-host.admin-token")'), 's3cret');
      assert.ok(await p.locator('#auth').isHidden());
      assert.equal(await failed.locator('[data-field="state"]').textContent(), 'failed');
      assert.equal(await failed.locator('[data-field="failure"]').textContent(), fake.groups[0]?.failure);
      assert.equal(await failed.locator('h2').textContent(), fake.groups[0]?.label);
      assert.equal(await failed.locator('[data-field="python-home"]').textContent(), fake.groups[0]?.pythonHome);
      assert.ok((await p.locator('#server').textContent())?.includes(evil));
      assert.equal(await p.locator('img, main script, main b:has-text("5 processes")').count(), 0, 'no markup from the JSON');
      assert.ok(!(await p.title()).startsWith('1'), 'no script from the JSON ran');

      mode = 'down';
      const banner = p.locator('#banner');
      await banner.waitFor({ state: 'visible', timeout: 10_000 });
      assert.match((await banner.textContent()) ?? '', /cannot reach the server/i);
      assert.equal(await p.locator('article.group').count(), fake.groups.length, 'the last data stays');
      mode = 'ok';
      await banner.waitFor({ state: 'hidden', timeout: 10_000 });
    } finally {
      await p.close();
    }
  });
});
