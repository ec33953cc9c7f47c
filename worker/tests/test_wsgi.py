"""wsgi.py: the response head an application's status and headers make."""

import unittest

from harness import load

wsgi = load().wsgi


class EncodeHead(unittest.TestCase):
    def test_valid(self):
        status, head = wsgi.encode_head("404 Not Found", [("A", "b"), ("C", "d")], None)
        self.assertEqual(status, 404)
        self.assertEqual(head, b"Not Found\0A\0b\0C\0d")

    def test_errors(self):
        bad = [
            (b"200 OK", []),
            ("200", []),
            ("OK 200", []),
            ("200 OK", ("A", "b")),
            ("200 OK", [("A",)]),
            ("200 OK", [("A", 1)]),
            ("200 OK", [("A", "b\0Set-Cookie\0x")]),
            ("200 OK", [("A", "\u20ac")]),
        ]
        for status, headers in bad:
            with self.assertRaises(wsgi.AppError, msg=repr((status, headers))):
                wsgi.encode_head(status, headers, None)


if __name__ == "__main__":
    unittest.main()
