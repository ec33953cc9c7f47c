"""The shop: an importable module, served as shop.wsgi:application (gunicorn style)."""
import json
import sys


def application(environ, start_response):
    body = json.dumps({
        "app": "shop",
        "python": sys.version.split()[0],
        "sys.prefix": sys.prefix,
        "path": environ["PATH_INFO"],
    }).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
