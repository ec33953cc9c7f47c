"""wsgi.input: the request body, read from the request's channel (which grants the front end
credit as the body is consumed)."""


class Input(object):
    """wsgi.input: the request body, streamed from the front end with flow control.

    The body arrives as chunks (bytes, one per DATA frame). A read that a chunk answers exactly
    returns that chunk itself; any other read copies its bytes once (a slice, or one join of the
    pieces it spans): never the buffer-and-concatenate pattern, which copies each byte several
    times when reads and chunks do not line up."""

    __slots__ = ("_ch", "_buf", "_pos", "_eof")

    def __init__(self, ch):
        self._ch = ch
        self._buf = b""  # the chunk being read, from _pos on
        self._pos = 0
        self._eof = False

    def _next(self):
        """The next chunk of the body; b'' at its end."""
        if self._eof:
            return b""
        chunk = self._ch.read_body()
        if not chunk:
            self._eof = True
            return b""
        return chunk

    def read(self, size=-1):
        buf = self._buf
        pos = self._pos
        have = len(buf) - pos
        if size is not None and 0 <= size <= have:
            if size == have:
                self._buf = b""
                self._pos = 0
                return buf if pos == 0 else buf[pos:]
            self._pos = pos + size
            return buf[pos:pos + size]
        # More than what is here: the rest of this chunk, then whole chunks, then part of one.
        parts = [memoryview(buf)[pos:]] if have else []
        need = -1 if size is None or size < 0 else size - have
        self._buf = b""
        self._pos = 0
        while need != 0:
            chunk = self._next()
            if not chunk:
                break
            n = len(chunk)
            if need < 0 or n <= need:
                parts.append(chunk)
                if need > 0:
                    need -= n
            else:
                parts.append(memoryview(chunk)[:need])
                self._buf = chunk
                self._pos = need
                need = 0
        if len(parts) == 1 and type(parts[0]) is bytes:
            return parts[0]
        return b"".join(parts)

    def readline(self, size=-1):
        if size is None:
            size = -1
        buf = self._buf
        pos = self._pos
        start = pos
        while True:
            i = buf.find(b"\n", start)
            if i >= 0:
                end = i + 1
                break
            if 0 <= size <= len(buf) - pos:
                end = pos + size
                break
            chunk = self._next()
            if not chunk:
                end = len(buf)
                break
            # A line across chunks: join what is left of this one and the next (lines are short).
            buf = buf[pos:] + chunk
            start = len(buf) - len(chunk)
            pos = 0
        if 0 <= size < end - pos:
            end = pos + size
        data = buf[pos:end]
        if end == len(buf):
            self._buf = b""
            self._pos = 0
        else:
            self._buf = buf
            self._pos = end
        return data

    def readlines(self, hint=-1):
        lines = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                break
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self):
        pass
