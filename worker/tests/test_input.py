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

    def test_reads_that_do_not_line_up_with_chunks(self):
        body = bytes(range(256)) * 40
        for cut in (1, 7, 100, 1000, 4096, 10240, 20000):
            chunks = [body[i:i + cut] for i in range(0, len(body), cut)]
            for size in (1, 3, 64, 999, 4096, 10240, 30000):
                i = make_input(*chunks)
                got = []
                while True:
                    block = i.read(size)
                    if not block:
                        break
                    self.assertIs(type(block), bytes)
                    self.assertLessEqual(len(block), size)
                    got.append(block)
                self.assertEqual(b"".join(got), body, (cut, size))
                self.assertTrue(all(len(b) == size for b in got[:-1]), "every read but the last is whole")
            i = make_input(*chunks)
            self.assertEqual(i.read(5) + i.readline() + i.read(), body, cut)

    def test_a_read_that_matches_a_chunk_returns_that_chunk(self):
        a, b = b"a" * 65536, b"b" * 65536
        i = make_input(a, b)
        self.assertIs(i.read(65536), a)
        self.assertIs(i.read(65536), b)
        self.assertEqual(i.read(65536), b"")

    def test_lines_across_chunks(self):
        i = make_input(b"ab", b"c\nde", b"f", b"\n", b"gh")
        self.assertEqual(i.readline(), b"abc\n")
        self.assertEqual(i.readline(2), b"de")
        self.assertEqual(i.read(1), b"f")
        self.assertEqual(i.readline(), b"\n")
        self.assertEqual(i.readline(), b"gh")
        self.assertEqual(i.readline(), b"")

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
