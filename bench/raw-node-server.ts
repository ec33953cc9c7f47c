/**
 * The ceiling: a plain node:http server with the benchmark's routes and the same responses as
 * bench/apps (no Python, no worker hop). Usage: node dist/bench/raw-node-server.js PORT
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

const HELLO = Buffer.from('Hello, world!');
const BYTES_100K = Buffer.alloc(100 * 1024, 'x');
const BLOCK = Buffer.alloc(64 * 1024, 'x');
const DOWNLOAD = 100 * 1024 * 1024;

function send(res: ServerResponse, status: number, type: string, body: Buffer): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length });
  res.end(body);
}

function json(req: IncomingMessage, res: ServerResponse, port: string): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const request = {
    REQUEST_METHOD: req.method,
    SCRIPT_NAME: '',
    PATH_INFO: q < 0 ? url : url.slice(0, q),
    QUERY_STRING: q < 0 ? '' : url.slice(q + 1),
    SERVER_NAME: '127.0.0.1',
    SERVER_PORT: port,
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
    HTTP_HOST: req.headers.host ?? '',
    'wsgi.url_scheme': 'http',
  };
  const items = Array.from({ length: 12 }, (_, i) => ({ id: i, name: `item-${String(i).padStart(2, '0')}`, path: request.PATH_INFO, ok: i % 3 !== 0 }));
  send(res, 200, 'application/json', Buffer.from(JSON.stringify({ request, items })));
}

function upload(req: IncomingMessage, res: ServerResponse): void {
  const expected = Number(req.headers['content-length'] ?? 0);
  let got = 0;
  req.on('data', (c: Buffer) => (got += c.length));
  req.on('end', () => send(res, got === expected ? 200 : 400, 'text/plain', Buffer.from(String(got))));
}

function download(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': DOWNLOAD });
  let left = DOWNLOAD / BLOCK.length;
  const pump = (): void => {
    while (left > 0) {
      left--;
      if (!res.write(BLOCK)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => (left = 0));
  pump();
}

const port = process.argv[2] ?? '8000';
const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/hello') send(res, 200, 'text/plain', HELLO);
  else if (path === '/json') json(req, res, port);
  else if (path === '/100k') send(res, 200, 'application/octet-stream', BYTES_100K);
  else if (path === '/upload') upload(req, res);
  else if (path === '/download') download(res);
  else send(res, 404, 'text/plain', Buffer.from('no such benchmark route\n'));
});
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
