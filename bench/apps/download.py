"""A streamed 100 MB download: a generator of 64 KB blocks, with Content-Length."""

BLOCK = b"x" * (64 * 1024)
SIZE = 100 * 1024 * 1024


def _blocks():
    for _ in range(SIZE // len(BLOCK)):
        yield BLOCK


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(SIZE))])
    return _blocks()
