"""The blog: a WSGI script file, loaded the way mod_wsgi loads it."""
import html
import sys


def application(environ, start_response):
    body = (
        "<!doctype html><link rel=stylesheet href=/static/style.css>"
        "<h1>Blog</h1><p>Python %s from <code>%s</code></p><p>SCRIPT_NAME=%r PATH_INFO=%r</p>"
        % (sys.version.split()[0], html.escape(sys.prefix), environ["SCRIPT_NAME"], environ["PATH_INFO"])
    ).encode("utf-8")
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [body]
