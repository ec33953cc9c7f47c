"""The admin application: it answers with its name and the request as it saw it."""
import json


def application(environ, start_response):
    seen = {k: v for k, v in environ.items() if isinstance(v, (str, int, bool)) or (isinstance(v, tuple) and all(isinstance(x, int) for x in v))}
    seen["application"] = "admin"
    body = json.dumps(seen, sort_keys=True).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
