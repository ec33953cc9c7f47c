/** The project's performance targets (issue 17's goals), checked against the medians (printed under the table). */
import { RAW_NODE, WSGI_HOST } from './peers/index.js';
import type { Results, Summary } from './results.js';
import { IDLE_MS, IDLE_WINDOWS, SETTLE_MS } from './run-server.js';

const MiB = 1024 * 1024;
const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;

function line(what: string, value: number | undefined, goal: string, met: ((v: number) => boolean) | undefined, detail: string): string {
  if (value === undefined || Number.isNaN(value)) return `- ${what}: not measured in this run (goal ${goal})`;
  const verdict = met === undefined ? '' : met(value) ? ' [met]' : ' [NOT met]';
  return `- ${what}: ${detail} (goal ${goal})${verdict}`;
}

/** A peer's summary, unless its runs had errors (not a result). */
function clean(s: Summary | undefined): Summary | undefined {
  return s !== undefined && s.errors === 0 ? s : undefined;
}

export function renderTargets(results: Results, layouts: string[]): string {
  const out: string[] = [];
  const get = (sc: string, l: string, server: string): Summary | undefined => results.summary(sc, server === RAW_NODE ? 'any' : l, server);
  // two decimals, unless rounding would hide which side of the goal it is (1.4999x, not 1.50x)
  const x = (n: number, goal = NaN): string => `${n.toFixed(n >= goal !== Number(n.toFixed(2)) >= goal ? 4 : 2)}x`;

  for (const l of layouts) {
    const host = (sc: string): Summary | undefined => get(sc, l, WSGI_HOST);
    const vs = (sc: string, peer: string, goal: number): void => {
      const h = host(sc);
      const p = clean(get(sc, l, peer));
      const r = h !== undefined && p !== undefined ? h.rps / p.rps : undefined;
      const err = h !== undefined && h.errors > 0 ? ' (wsgi-host had errors)' : '';
      out.push(line(`${sc} ${l} vs ${peer}`, r, `>= ${goal}x`, (v) => v >= goal && err === '', `${x(r ?? NaN, goal)}${err}`));
    };
    out.push(`${l}:`);
    // Issue 17's goals. CPU per request: the server's whole tree, at or below uWSGI's.
    const cpuVs = (sc: string, peer: string, goal: number): void => {
      const h = host(sc);
      const p = clean(get(sc, l, peer));
      const r = h !== undefined && p !== undefined ? h.serverCpuUsPerReq / p.serverCpuUsPerReq : undefined;
      out.push(
        line(
          `${sc} ${l} server CPU per request vs ${peer}`,
          r,
          `<= ${goal}x`,
          (v) => v <= goal,
          `${(h?.serverCpuUsPerReq ?? NaN).toFixed(0)} us / ${(p?.serverCpuUsPerReq ?? NaN).toFixed(0)} us = ${x(r ?? NaN, goal)}`,
        ),
      );
    };
    cpuVs('hello-c64', 'uwsgi', 1);
    cpuVs('json-c16', 'uwsgi', 1);
    vs('hello-c64', 'gunicorn-gthread', 2.5);
    vs('hello-c64', 'mod_wsgi-daemon', 3);
    vs('hello-c64', 'uwsgi', 1);
    vs('100k-c16', 'uwsgi', 1);
    vs('upload-10m-c4', 'gunicorn-gthread', 1);
    vs('upload-10m-c4', 'uwsgi', 0.5);
    vs('download-100m-c2', 'gunicorn-gthread', 1);
    const h64 = host('hello-c64');
    const raw = clean(get('hello-c64', l, RAW_NODE));
    const share = h64 !== undefined && raw !== undefined ? h64.rps / raw.rps : undefined;
    out.push(line(`hello-c64 ${l} share of raw Node (no goal: the one-loop ceiling)`, share, 'none', undefined, (share ?? NaN).toFixed(2)));
    const idleCpu = results.idleCpuPct(l, WSGI_HOST);
    const idleMax = idleCpu.length > 0 ? Math.max(...idleCpu) : undefined;
    out.push(
      line(
        `idle CPU ${l} (the whole tree with no request from ${SETTLE_MS / 1000} s after its last scenario, the median of ${IDLE_WINDOWS} windows of ${IDLE_MS / 1000} s, worst start)`,
        idleMax,
        '0%, under 0.1%',
        (v) => v < 0.1,
        `${(idleMax ?? NaN).toFixed(3)}%`,
      ),
    );
    // Memory: the trees right after start (each route answered once), medians over repetitions.
    const idle = (server: string) => results.idleSamples(l, server);
    const hostIdle = idle(WSGI_HOST);
    // gunicorn's sync worker has one thread in every layout: compare with it where it ran
    const syncLayout = [l, ...layouts].find((lay) => results.idleSamples(lay, 'gunicorn-sync').length > 0) ?? l;
    const syncIdle = results.idleSamples(syncLayout, 'gunicorn-sync');
    const workerMB = (samples: typeof hostIdle): number => mean(samples.map((s) => mean(s.childRss))) / MiB;
    if (hostIdle.length > 0 && syncIdle.length > 0) {
      const d = workerMB(hostIdle) - workerMB(syncIdle);
      out.push(
        line(
          `idle RSS per Python worker ${l}, wsgi-host vs gunicorn-sync ${syncLayout}`,
          d,
          '+5 MB at most',
          (v) => v <= 5,
          `${workerMB(hostIdle).toFixed(1)} MB vs ${workerMB(syncIdle).toFixed(1)} MB: ${d >= 0 ? '+' : ''}${d.toFixed(1)} MB`,
        ),
      );
    } else {
      out.push(line(`idle RSS per Python worker ${l}, wsgi-host vs gunicorn-sync`, undefined, '+5 MB at most', undefined, ''));
    }
    if (hostIdle.length > 0) {
      const fe = mean(hostIdle.map((s) => s.rootRssBytes)) / MiB;
      const loads = results.rootRssLoad(l, WSGI_HOST) / MiB;
      out.push(
        line(
          `wsgi-host front end RSS ${l} (one loop), after every scenario`,
          Math.max(fe, loads),
          '< 100 MB',
          (v) => v < 100,
          `${fe.toFixed(1)} MB idle, ${loads.toFixed(1)} MB at most under load`,
        ),
      );
    }
  }
  return out.join('\n');
}
