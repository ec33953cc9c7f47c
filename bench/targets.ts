/** The project's performance targets, checked against the medians (printed under the table). */
import { RAW_NODE, WSGI_HOST } from './peers/index.js';
import type { Results, Summary } from './results.js';
import { fmtMs } from './table.js';

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

export function renderTargets(results: Results, layouts: string[], peers: string[]): string {
  const out: string[] = [];
  const get = (sc: string, l: string, server: string): Summary | undefined => results.summary(sc, server === RAW_NODE ? 'any' : l, server);
  const others = peers.filter((p) => p !== WSGI_HOST && p !== RAW_NODE);
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
    const vsBest = (sc: string, goal: number): void => {
      const h = host(sc);
      const candidates = others.map((p) => [p, clean(get(sc, l, p))] as const).filter((c) => c[1] !== undefined);
      if (h === undefined || candidates.length === 0) return void out.push(line(`${sc} ${l} vs best peer`, undefined, `>= ${goal}x`, undefined, ''));
      const [name, best] = candidates.reduce((a, b) => ((b[1] as Summary).rps > (a[1] as Summary).rps ? b : a));
      const r = h.rps / (best as Summary).rps;
      out.push(line(`${sc} ${l} vs best peer (${name})`, r, `>= ${goal}x`, (v) => v >= goal && h.errors === 0, x(r, goal)));
    };
    out.push(`${l}:`);
    vs('hello-c64', 'gunicorn-gthread', 2);
    vs('hello-c64', 'mod_wsgi-daemon', 3);
    const h64 = host('hello-c64');
    const raw = clean(get('hello-c64', l, RAW_NODE));
    const share = h64 !== undefined && raw !== undefined ? h64.rps / raw.rps : undefined;
    out.push(line(`hello-c64 ${l} share of raw Node`, share, '>= 0.5', (v) => v >= 0.5, (share ?? NaN).toFixed(2)));
    vs('hello-close-c64', 'uwsgi', 1);
    const c1 = host('hello-c1');
    const d1 = clean(get('hello-c1', l, 'mod_wsgi-daemon'));
    const p50 = c1 !== undefined && d1 !== undefined ? c1.p50Ms / d1.p50Ms : undefined;
    out.push(
      line(
        `hello-c1 ${l} p50 vs mod_wsgi-daemon p50`,
        p50,
        '<= 0.6x',
        (v) => v <= 0.6,
        `${fmtMs(c1?.p50Ms ?? NaN)} / ${fmtMs(d1?.p50Ms ?? NaN)} = ${x(p50 ?? NaN, 0.6)}`,
      ),
    );
    vsBest('json-c16', 1.5);
    vsBest('100k-c16', 1.5);
    vsBest('upload-10m-c4', 1);
    vsBest('download-100m-c2', 1);
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
          `wsgi-host front end RSS ${l}`,
          Math.max(fe, loads),
          '<= 80 MB',
          (v) => v <= 80,
          `${fe.toFixed(1)} MB idle, ${loads.toFixed(1)} MB at most under load`,
        ),
      );
    }
  }
  return out.join('\n');
}
