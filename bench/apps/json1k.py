"""About 1 KB of JSON built from the request's environ on every request."""
import json

KEYS = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME",
        "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR", "HTTP_HOST", "wsgi.url_scheme")


def application(environ, start_response):
    request = {k: str(environ.get(k, "")) for k in KEYS}
    path = request["PATH_INFO"]
    items = [{"id": i, "name": "item-%02d" % i, "path": path, "ok": i % 3 != 0} for i in range(12)]
    body = json.dumps({"request": request, "items": items}).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
