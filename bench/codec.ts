/**
 * Micro-benchmark of the front end's side of the worker protocol, with the project's own
 * src/protocol modules: encode a request head into a REQUEST frame; decode a RESPONSE frame.
 * Run: npm run bench -- --codec (also runs bench/codec.py), or node dist/bench/codec.js
 */
import { FrameDecoder } from '../src/protocol/frame-decoder.js';
import { frame, latin1Frame } from '../src/protocol/frame-encoder.js';
import { Flag, FrameType } from '../src/protocol/frame-types.js';
import { encodeRequestHead, joinHeaders, type RequestFields } from '../src/protocol/request-head.js';
import { decodeResponseHead, encodeResponseHead } from '../src/protocol/response-head.js';

// What wrk sends, as node:http's rawHeaders gives it.
const RAW_HEADERS = ['Host', '127.0.0.1:8000', 'User-Agent', 'wrk/4.1', 'Accept', '*/*', 'Connection', 'keep-alive'];

function head(i: number): RequestFields {
  return {
    appIndex: 0,
    method: 'GET',
    scriptName: '',
    pathInfo: '/hello',
    queryString: '',
    requestUri: '/hello',
    protocol: 'HTTP/1.1',
    remoteAddr: '127.0.0.1',
    remotePort: '54321',
    serverName: '127.0.0.1',
    serverPort: '8000',
    scheme: 'http',
    requestId: `req-${i}`,
  };
}

/** Run fn in batches for about `seconds`; ops per second. */
function opsPerSecond(fn: (i: number) => void, seconds = 1): number {
  for (let i = 0; i < 50_000; i++) fn(i); // warm-up (JIT)
  let ops = 0;
  const start = process.hrtime.bigint();
  const stop = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < stop) {
    for (let i = 0; i < 10_000; i++) fn(ops + i);
    ops += 10_000;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

let sink = 0;

const encode = opsPerSecond((i) => {
  const f = latin1Frame(FrameType.REQUEST, i & 0xffff, Flag.END, encodeRequestHead(head(i), joinHeaders(RAW_HEADERS)));
  sink += f.length;
});

// A worker's whole answer to hello world: one RESPONSE frame with END.
const body = Buffer.from('Hello, world!');
const payload = encodeResponseHead(200, 'OK', ['Content-Type', 'text/plain', 'Content-Length', '13'], body);
const wire = frame(FrameType.RESPONSE, 7, Flag.END, payload);
const decoder = new FrameDecoder((type, id, flags, p) => {
  const r = decodeResponseHead(p);
  sink += type + id + flags + r.status + r.headers.length + r.body.length;
});
const decode = opsPerSecond(() => decoder.push(wire));

// 64 responses arriving in one read, as under load.
const batch = Buffer.concat(Array.from({ length: 64 }, () => wire));
const decodeBatched = opsPerSecond(() => decoder.push(batch), 1) * 64;

const fmt = (n: number): string => `${Math.round(n).toLocaleString('en-US')} ops/s`;
console.log(`codec (Node ${process.version}, src/protocol):`);
console.log(`  encode request head + REQUEST frame:          ${fmt(encode)}`);
console.log(`  decode RESPONSE frame + response head:        ${fmt(decode)}`);
console.log(`  decode RESPONSE frames, 64 per chunk:         ${fmt(decodeBatched)}`);
if (sink === 0) console.log('');
