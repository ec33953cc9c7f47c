"""wsgi.input: the request body, read from the request's channel (which grants the front end
credit as the body is consumed)."""


class Input(object):
    """wsgi.input: the request body, streamed from the front end with flow control."""

    __slots__ = ("_ch", "_buf", "_eof")

    def __init__(self, ch):
        self._ch = ch
        self._buf = b""
        self._eof = False

    def _more(self):
        if self._eof:
            return False
        chunk = self._ch.read_body()
        if not chunk:
            self._eof = True
            return False
        self._buf = self._buf + chunk if self._buf else chunk
        return True

    def read(self, size=-1):
        if size is None or size < 0:
            while self._more():
                pass
            data = self._buf
            self._buf = b""
            return data
        while len(self._buf) < size and self._more():
            pass
        data = self._buf[:size]
        self._buf = self._buf[size:]
        return data

    def readline(self, size=-1):
        if size is None:
            size = -1
        start = 0
        while True:
            i = self._buf.find(b"\n", start)
            if i >= 0:
                end = i + 1
                break
            if 0 <= size <= len(self._buf):
                end = size
                break
            start = len(self._buf)
            if not self._more():
                end = len(self._buf)
                break
        if 0 <= size < end:
            end = size
        data = self._buf[:end]
        self._buf = self._buf[end:]
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
