import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { describe, test } from 'node:test';
import { checkConnectionsWhileAny } from '../../src/http/connection-checks.js';

/** node:http's connection-checking timer of a server (its interval, under a symbol). */
function checker(server: Server): (NodeJS.Timeout & { _destroyed?: boolean }) | undefined {
  const key = Object.getOwnPropertySymbols(server).find((s) => s.description === 'http.server.connectionsCheckingInterval');
  assert.ok(key, 'node:http keeps its connection-checking interval under the symbol connection-checks.ts looks for');
  return (server as unknown as Record<symbol, NodeJS.Timeout & { _destroyed?: boolean }>)[key];
}
const running = (server: Server): boolean => {
  const t = checker(server);
  return t !== undefined && t._destroyed !== true;
};

describe("node:http's connection checks run while the server has connections, not while idle", () => {
  test('no timer while no connection; header-timeout still cuts a client that trickles its headers; none again after it', async () => {
    const server = createServer({ headersTimeout: 300, requestTimeout: 0, connectionsCheckingInterval: 50 }, (_req, res) => res.end('ok'));
    checkConnectionsWhileAny(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      assert.equal(running(server), false, 'idle: no timer');
      const port = (server.address() as AddressInfo).port;
      const started = Date.now();
      let during: boolean | undefined;
      const closed = await new Promise<{ ms: number; answer: string }>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n'));
        let answer = '';
        s.on('data', (d) => {
          answer += d.toString('latin1');
        });
        s.on('error', reject);
        s.on('close', () => resolve({ ms: Date.now() - started, answer }));
        setTimeout(() => {
          during = running(server);
        }, 100);
        setTimeout(() => reject(new Error('header-timeout did not cut the connection within 5 s')), 5000).unref();
      });
      assert.equal(during, true, 'a connection: the checks run');
      assert.ok(closed.ms >= 250, `cut at header-timeout, not before: ${closed.ms} ms`);
      assert.match(closed.answer, /^HTTP\/1\.1 408 /, 'answered 408 as node:http does');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(running(server), false, 'the last connection closed: no timer again');
    } finally {
      server.close();
    }
  });
});
