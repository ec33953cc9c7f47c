"""input.py: wsgi.input over the chunks its channel delivers."""

import unittest

from harness import load

Input = load().input.Input


class FakeChannel(object):
    def __init__(self, chunks):
        self.chunks = list(chunks)

    def read_body(self):
        return self.chunks.pop(0) if self.chunks else b""


def make_input(*chunks):
    return Input(FakeChannel(chunks))


class InputStream(unittest.TestCase):
    def test_read_sizes_across_chunks(self):
        i = make_input(b"abc", b"defg", b"h")
        self.assertEqual(i.read(2), b"ab")
        self.assertEqual(i.read(4), b"cdef")
        self.assertEqual(i.read(), b"gh")
        self.assertEqual(i.read(10), b"")

    def test_readline(self):
        i = make_input(b"one\ntw", b"o\nthree")
        self.assertEqual(i.readline(), b"one\n")
        self.assertEqual(i.readline(2), b"tw")
        self.assertEqual(i.readline(), b"o\n")
        self.assertEqual(i.readline(), b"three")
        self.assertEqual(i.readline(), b"")

    def test_readlines_and_iteration(self):
        self.assertEqual(make_input(b"a\nb\n", b"c").readlines(), [b"a\n", b"b\n", b"c"])
        # As io.IOBase.readlines: stop once the lines read reach the hint.
        self.assertEqual(make_input(b"a\nb\n", b"c").readlines(2), [b"a\n"])
        self.assertEqual(make_input(b"a\nb\n", b"c").readlines(3), [b"a\n", b"b\n"])
        self.assertEqual(list(make_input(b"x\ny")), [b"x\n", b"y"])


if __name__ == "__main__":
    unittest.main()
