"""logs.py: the level of what the application logs."""

import logging
import unittest

from harness import load

pkg = load()
logs = pkg.logs
wsgi = pkg.wsgi
LOG_ERROR = pkg.wire.LOG_ERROR


class FakeConn(object):
    def __init__(self):
        self.sent = []

    def log(self, level, rid, text):
        self.sent.append((level, text))


class LogLevels(unittest.TestCase):
    def test_a_logging_handler_writing_to_wsgi_errors_keeps_the_record_level(self):
        conn = FakeConn()
        saved = (logging.Handler.handle, logging.StreamHandler.emit, logging.lastResort)
        try:
            logs.install_logging_bridge(conn)
            errors = wsgi.ErrorStream(logs.LogWriter(conn, LOG_ERROR, 2, "<stderr>"))

            class ToErrors(logging.Handler):
                def emit(self, record):
                    errors.write(self.format(record) + "\n")

            log = logging.getLogger("wsgi-host-test-radicale")
            log.propagate = False
            log.setLevel(logging.DEBUG)
            handler = ToErrors()
            log.addHandler(handler)
            try:
                log.info("an info line")
                errors.write("a plain write\n")
            finally:
                log.removeHandler(handler)
            self.assertEqual(conn.sent, [(logging.INFO, "an info line"), (LOG_ERROR, "a plain write")])
        finally:
            logging.Handler.handle, logging.StreamHandler.emit, logging.lastResort = saved


if __name__ == "__main__":
    unittest.main()
