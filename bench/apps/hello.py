"""Hello world: 13 bytes, the whole body at once."""

BODY = b"Hello, world!"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", list(HEADERS))
    return [BODY]
