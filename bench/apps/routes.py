"""The one script every server loads: routes PATH_INFO to the scenario apps beside this file.

Loaded by file path (mod_wsgi, uWSGI --wsgi-file, wsgi-host) or as module `routes` (gunicorn,
waitress); the scenario apps are loaded by path too, so this folder need not be on sys.path.
The dispatch is one dict lookup: negligible next to any server's cost per request.
"""
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name):
    spec = importlib.util.spec_from_file_location("bench_app_" + name, os.path.join(HERE, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.application


ROUTES = {
    "/hello": _load("hello"),
    "/json": _load("json1k"),
    "/100k": _load("bytes100k"),
    "/upload": _load("upload"),
    "/download": _load("download"),
}
NOT_FOUND = b"no such benchmark route\n"


def application(environ, start_response):
    app = ROUTES.get(environ.get("PATH_INFO", ""))
    if app is None:
        start_response("404 Not Found", [("Content-Type", "text/plain"),
                                         ("Content-Length", str(len(NOT_FOUND)))])
        return [NOT_FOUND]
    return app(environ, start_response)
