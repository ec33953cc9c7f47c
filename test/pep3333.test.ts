import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getJson, parseRaw, rawRequest, request } from './helpers/http.js';
import { makeVenv } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { WsgiHost } from './helpers/wsgi-host.js';

// Every request goes through wsgiref.validate.validator, which raises AssertionError on any
// PEP 3333 violation by the server (environ, input, errors, start_response, iteration, close).
const VALIDATED_APP = String.raw`
import hashlib, json, warnings
from wsgiref.validate import validator, WSGIWarning
warnings.simplefilter("error", WSGIWarning)

def read_all(stream, length):
    h = hashlib.sha256()
    n = 0
    while True:
        chunk = stream.read(65536 if length is None else min(65536, length - n))
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
        if length is not None and n >= length:
            break
    return n, h.hexdigest()

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/lines":
        stream = environ["wsgi.input"]
        first = stream.readline()
        rest = stream.readlines()
        body = json.dumps({"first": first.decode(), "rest": [l.decode() for l in rest]}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written, ")
        return iter([b"then ", b"iterated"])
    if path == "/errors":
        environ["wsgi.errors"].write("a line for the error log\n")
        environ["wsgi.errors"].writelines(["two ", "lines\n"])
        environ["wsgi.errors"].flush()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"logged"]
    cl = environ.get("CONTENT_LENGTH")
    length = int(cl) if cl else None
    n, digest = read_all(environ["wsgi.input"], length)
    info = dict((k, v) for k, v in environ.items() if isinstance(v, str))
    info["wsgi.multithread"] = environ["wsgi.multithread"]
    info["wsgi.multiprocess"] = environ["wsgi.multiprocess"]
    info["wsgi.url_scheme"] = environ["wsgi.url_scheme"]
    info["wsgi.input_terminated"] = environ.get("wsgi.input_terminated")
    info["body_length"] = n
    info["body_sha256"] = digest
    body = json.dumps(info).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json"), ("X-Path-Info", "checked")])
    return [body]

application = validator(app)
`;

describe('PEP 3333: requests of many kinds pass wsgiref.validate', () => {
  const t = tempDir();
  let host: WsgiHost;

  before(async () => {
    const venv = makeVenv(join(t.dir, 'venv'));
    const app = t.file('validated.wsgi', VALIDATED_APP);
    host = await WsgiHost.serve([app, '--python-home', venv, '--mount', '/app', '--processes', '2', '--threads', '3']);
  });
  after(async () => {
    await host.stop();
    t.cleanup();
  });

  const noValidationErrors = (): void => {
    const bad = host.logs.filter((l) => /AssertionError|WSGIWarning|Traceback/.test(String(l.msg)));
    assert.deepEqual(bad, [], 'the validator found no violation');
  };

  test('GET with a query string: CGI variables, SCRIPT_NAME/PATH_INFO split at the mount', async () => {
    const e = await getJson(`${host.url}/app/some/path?x=1&y=%20z`, { headers: { 'User-Agent': 'pep3333-test' } });
    assert.equal(e.REQUEST_METHOD, 'GET');
    assert.equal(e.SCRIPT_NAME, '/app');
    assert.equal(e.PATH_INFO, '/some/path');
    assert.equal(e.QUERY_STRING, 'x=1&y=%20z');
    assert.equal(e.REQUEST_URI, '/app/some/path?x=1&y=%20z');
    assert.equal(e.SERVER_PROTOCOL, 'HTTP/1.1');
    assert.equal(e.SERVER_NAME, '127.0.0.1');
    assert.equal(e.SERVER_PORT, new URL(host.url).port);
    assert.equal(e.REMOTE_ADDR, '127.0.0.1');
    assert.match(String(e.REMOTE_PORT), /^\d+$/);
    assert.equal(e.HTTP_USER_AGENT, 'pep3333-test');
    assert.equal(e['wsgi.url_scheme'], 'http');
    assert.equal(e['wsgi.multithread'], true);
    assert.equal(e['wsgi.multiprocess'], true);
    assert.equal(e['mod_wsgi.process_group'], '');
    // Issue 14: mod_wsgi names the %{GLOBAL} application group "" in the environ.
    assert.equal(e['mod_wsgi.application_group'], '');
    assert.equal(e.CONTENT_LENGTH, undefined);
    noValidationErrors();
  });

  test('the mount itself and /apple: segment boundaries', async () => {
    const e = await getJson(`${host.url}/app`);
    assert.equal(e.SCRIPT_NAME, '/app');
    assert.equal(e.PATH_INFO, '');
    const miss = await request(`${host.url}/apple`);
    assert.equal(miss.status, 404);
  });

  test('percent-encoded paths are decoded to latin-1 native strings; dot segments and slashes normalized', async () => {
    // node:http's client would normalize the path itself: send the request line raw.
    const raw = parseRaw(await rawRequest(host.url, 'GET /app/a%20b/caf%C3%A9/x/../y//z HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'));
    const e = JSON.parse(raw.body) as Record<string, string>;
    assert.equal(e.PATH_INFO, '/a b/caf\u00c3\u00a9/y/z');
    assert.equal(e.REQUEST_URI, '/app/a%20b/caf%C3%A9/x/../y//z');
    const above = parseRaw(await rawRequest(host.url, 'GET /app/../../etc/passwd HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'));
    assert.equal(above.status, 400);
    const nul = await request(`${host.url}/app/a%00b`);
    assert.equal(nul.status, 400);
  });

  test('repeated headers are joined as RFC 9110 says; Cookie with "; "; names with "_" are dropped', async () => {
    const e = await getJson(`${host.url}/app/h`, {
      headers: [
        ['X-Multi', 'one'],
        ['X-Multi', 'two'],
        ['Cookie', 'a=1'],
        ['Cookie', 'b=2'],
        ['X_Spoofed', 'dropped'],
        ['X-Request-Id', 'client-given-id'],
      ],
    });
    assert.equal(e.HTTP_X_MULTI, 'one, two');
    assert.equal(e.HTTP_COOKIE, 'a=1; b=2');
    assert.equal(e.HTTP_X_SPOOFED, undefined);
    assert.equal(e.HTTP_X_REQUEST_ID, 'client-given-id');
  });

  test('POST and PUT with bodies: CONTENT_TYPE, CONTENT_LENGTH, the body intact', async () => {
    for (const method of ['POST', 'PUT']) {
      const body = Buffer.from(`field=value&method=${method}&`.repeat(1000));
      const e = await getJson(`${host.url}/app/echo`, {
        method,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
      });
      assert.equal(e.REQUEST_METHOD, method);
      assert.equal(e.CONTENT_TYPE, 'application/x-www-form-urlencoded');
      assert.equal(e.CONTENT_LENGTH, String(body.length));
      assert.equal(e.HTTP_CONTENT_LENGTH, undefined);
      assert.equal(e.body_length, body.length);
      assert.equal(e.body_sha256, createHash('sha256').update(body).digest('hex'));
    }
    noValidationErrors();
  });

  test('a chunked upload: no CONTENT_LENGTH, wsgi.input_terminated, read to the end', async () => {
    const parts = [Buffer.alloc(70_000, 1), Buffer.alloc(3, 2), Buffer.alloc(200_000, 3)];
    async function* gen(): AsyncGenerator<Buffer> {
      for (const p of parts) yield p;
    }
    const e = await getJson(`${host.url}/app/chunked`, { method: 'POST', body: gen() });
    assert.equal(e.CONTENT_LENGTH, undefined);
    assert.equal(e.HTTP_TRANSFER_ENCODING, 'chunked');
    assert.equal(e['wsgi.input_terminated'], true);
    assert.equal(e.body_length, 270_003);
    assert.equal(e.body_sha256, createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
  });

  test('readline and readlines on wsgi.input', async () => {
    const e = await getJson(`${host.url}/app/lines`, { method: 'POST', body: 'first line\nsecond\nthird without newline' });
    assert.equal(e.first, 'first line\n');
    assert.deepEqual(e.rest, ['second\n', 'third without newline']);
  });

  test('Expect: 100-continue gets its 100 when the application reads the body', async () => {
    const body = Buffer.alloc(50_000, 7);
    const e = await getJson(`${host.url}/app/expect`, { method: 'POST', headers: { Expect: '100-continue', 'Content-Length': String(body.length) }, body });
    assert.equal(e.body_length, body.length);
  });

  test('the write() callable, then the iterable', async () => {
    const r = await request(`${host.url}/app/write`);
    assert.equal(r.text, 'written, then iterated');
    assert.equal(r.headers['transfer-encoding'], 'chunked', 'no Content-Length set: chunked');
    noValidationErrors();
  });

  test('HEAD gets the headers and no body', async () => {
    const head = await request(`${host.url}/app/x`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['x-path-info'], 'checked');
  });

  test('wsgi.errors lines reach the error log tagged with the request id', async () => {
    const r = await request(`${host.url}/app/errors`, { headers: { 'X-Request-Id': 'errors-test-1' } });
    assert.equal(r.text, 'logged');
    assert.equal(r.headers['x-request-id'], 'errors-test-1');
    await host.waitForLog(/^a line for the error log$/);
    const line = host.logs.find((l) => l.msg === 'a line for the error log');
    assert.equal(line?.requestId, 'errors-test-1');
    assert.ok(host.logs.some((l) => l.msg === 'two lines' && l.requestId === 'errors-test-1'));
  });

  test('HTTP/1.0 without Host: SERVER_NAME falls back, the response closes the connection', async () => {
    const raw = await rawRequest(host.url, 'GET /app/one HTTP/1.0\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200 OK/);
    const e = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Record<string, string>;
    assert.equal(e.SERVER_PROTOCOL, 'HTTP/1.0');
    assert.equal(e.PATH_INFO, '/one');
    noValidationErrors();
  });
});
