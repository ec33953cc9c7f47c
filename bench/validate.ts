/** Before a server is measured, one request per route it will serve, checking the whole answer. */
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';

function exchange(url: string, method: string, body?: Buffer): Promise<{ status: number; bytes: number; text: string }> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsRequest : request;
    const req = get(url, { method, agent: false, timeout: 30_000, rejectUnauthorized: false }, (res) => {
      let bytes = 0;
      let text = '';
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (text.length < 4096) text += c.toString('latin1');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    if (body !== undefined) req.setHeader('Content-Length', body.length);
    req.end(body);
  });
}

const UPLOAD = Buffer.alloc(1024 * 1024 + 7, 'u');

const CHECKS: Record<string, (base: string) => Promise<string | undefined>> = {
  '/hello': async (base) => {
    const r = await exchange(`${base}/hello`, 'GET');
    return r.status === 200 && r.text === 'Hello, world!' ? undefined : `/hello answered ${r.status} '${r.text.slice(0, 80)}'`;
  },
  '/json': async (base) => {
    const r = await exchange(`${base}/json`, 'GET');
    try {
      const doc = JSON.parse(r.text) as { request?: { PATH_INFO?: string } };
      if (r.status === 200 && doc.request?.PATH_INFO === '/json') return undefined;
    } catch {
      // reported below
    }
    return `/json answered ${r.status} '${r.text.slice(0, 80)}'`;
  },
  '/100k': async (base) => {
    const r = await exchange(`${base}/100k`, 'GET');
    return r.status === 200 && r.bytes === 100 * 1024 ? undefined : `/100k answered ${r.status} with ${r.bytes} bytes`;
  },
  '/upload': async (base) => {
    const r = await exchange(`${base}/upload`, 'POST', UPLOAD);
    return r.status === 200 && r.text === String(UPLOAD.length) ? undefined : `/upload answered ${r.status} '${r.text.slice(0, 80)}'`;
  },
  '/download': async (base) => {
    const r = await exchange(`${base}/download`, 'GET');
    return r.status === 200 && r.bytes === 100 * 1024 * 1024 ? undefined : `/download answered ${r.status} with ${r.bytes} bytes`;
  },
};

/** Throws when a route's answer is wrong. */
export async function validate(base: string, paths: Iterable<string>): Promise<void> {
  for (const path of new Set(paths)) {
    const check = CHECKS[path];
    if (check === undefined) throw new Error(`no check for ${path}`);
    const problem = await check(base);
    if (problem !== undefined) throw new Error(`wrong answer: ${problem}`);
  }
}
