"""environ.py: CGI names of request headers, and the environ a REQUEST head makes."""

import unittest

from harness import load

pkg = load()
environ = pkg.environ


class HeaderKeys(unittest.TestCase):
    def test_cgi_names(self):
        self.assertEqual(environ.header_key("User-Agent"), "HTTP_USER_AGENT")
        self.assertEqual(environ.header_key("content-type"), "CONTENT_TYPE")
        self.assertEqual(environ.header_key("Content-Length"), "CONTENT_LENGTH")

    def test_underscores_are_dropped(self):
        self.assertEqual(environ.header_key("X_Forwarded_For"), "")


class BuildEnviron(unittest.TestCase):
    def test_fixed_fields_pseudo_fields_and_repeated_headers(self):
        base = environ.base_environ({"group": "g"}, {"kind": "script", "target": "/srv/app.wsgi"}, 1, None, None)
        fields = ["0", "POST", "/app", "/x", "a=1", "/app/x?a=1", "HTTP/1.1", "10.0.0.1", "5555", "example.org",
                  "8080", "https", "rid-1", ":server-addr", "10.0.0.2", "Cookie", "a=1", "cookie", "b=2",
                  "Accept", "x", "Accept", "y", "X_Spoof", "z", "Content-Type", "text/plain"]
        env = environ.build_environ(fields, base, {})
        self.assertEqual((env["REQUEST_METHOD"], env["SCRIPT_NAME"], env["PATH_INFO"], env["QUERY_STRING"]),
                         ("POST", "/app", "/x", "a=1"))
        self.assertEqual((env["REMOTE_ADDR"], env["REMOTE_PORT"], env["SERVER_NAME"], env["SERVER_PORT"]),
                         ("10.0.0.1", "5555", "example.org", "8080"))
        self.assertEqual((env["wsgi.url_scheme"], env["mod_wsgi.request_id"], env["HTTP_X_REQUEST_ID"]),
                         ("https", "rid-1", "rid-1"))
        self.assertEqual(env["SERVER_ADDR"], "10.0.0.2")
        self.assertEqual(env["HTTP_COOKIE"], "a=1; b=2")
        self.assertEqual(env["HTTP_ACCEPT"], "x, y")
        self.assertEqual(env["CONTENT_TYPE"], "text/plain")
        self.assertNotIn("HTTP_X_SPOOF", env)
        self.assertEqual(env["SCRIPT_FILENAME"], "/srv/app.wsgi")
        self.assertEqual(env["mod_wsgi.daemon_connects"], "1")
        self.assertNotIn("REQUEST_METHOD", base, "the base environ is copied, never changed")

    def test_env_pseudo_fields_name_their_variable(self):
        base = environ.base_environ({"group": "g"}, {"kind": "script", "target": "/srv/app.wsgi"}, 1, None, None)
        fields = ["0", "GET", "", "/", "", "/", "HTTP/2.0", "10.0.0.1", "5555", "example.org", "443", "https", "rid-2",
                  ":server-addr", "10.0.0.2", ":env:SSL_TLS_SNI", "example.org", ":env:HTTP2", "on", ":unknown", "x",
                  "Host", "example.org"]
        env = environ.build_environ(fields, base, {})
        self.assertEqual((env["SSL_TLS_SNI"], env["HTTP2"]), ("example.org", "on"))
        self.assertEqual(env["HTTP_HOST"], "example.org")
        self.assertNotIn(":unknown", env)
        self.assertNotIn("unknown", env)


if __name__ == "__main__":
    unittest.main()
