"""The bundled example: a WSGI script file, loaded by wsgi-host the way mod_wsgi loads it."""
import sys


def application(environ, start_response):
    body = (
        "Hello from wsgi-host!\n\n"
        "Python %s\nsys.prefix: %s\nSCRIPT_NAME: %r\nPATH_INFO: %r\n"
        % (sys.version.split()[0], sys.prefix, environ["SCRIPT_NAME"], environ["PATH_INFO"])
    ).encode("utf-8")
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
