"""Reads the whole request body from wsgi.input in 64 KB reads; answers with its length.
A body shorter than Content-Length is a 400, so wrk counts it as an error."""

CHUNK = 64 * 1024


def application(environ, start_response):
    expected = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    got = 0
    while got < expected:
        block = stream.read(min(CHUNK, expected - got))
        if not block:
            break
        got += len(block)
    body = str(got).encode("ascii")
    status = "200 OK" if got == expected else "400 Bad Request"
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
