"""A 100 KB response, the whole body at once."""

BODY = b"x" * (100 * 1024)


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]
