"""heap.py: with the allocator primed, body-sized blocks that come and go cost no page faults."""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))

# Three threads each make and drop 8 blocks of 64 KiB (the size of a request body's chunks) 100
# times; churn_faults() returns the page faults that took. Run in a fresh interpreter here (the
# thresholds are the process's), and in a worker process by test_protocol.py.
CHURN_CODE = """
import resource, threading
def churn():
    for _ in range(100):
        held = [bytes(65536) for _ in range(8)]
        del held
def churn_faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    threads = [threading.Thread(target=churn) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
"""
# Optionally primed, then churn_faults(), printed.
CHURN = r"""
import sys
sys.path.insert(0, %r)
from harness import load
if sys.argv[1] == "prime":
    assert load().heap.prime()
""" % (HERE,) + CHURN_CODE + "print(churn_faults())\n"
# With glibc's allocator as it starts, the churn faults ~30,000 pages in here; primed, ~150.
PRIMED_FAULTS_AT_MOST = 1500
GLIBC = hasattr(os, "confstr") and "CS_GNU_LIBC_VERSION" in getattr(os, "confstr_names", {})


def faults(mode):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", CHURN, mode], env=env, stdout=subprocess.PIPE, timeout=60,
                         check=True)
    return int(out.stdout)


@unittest.skipUnless(GLIBC, "the thresholds primed are glibc's")
class Primed(unittest.TestCase):
    def test_blocks_of_body_size_come_and_go_without_page_faults(self):
        unprimed = faults("as-is")
        primed = faults("prime")
        # 2,400 blocks of 16 pages each: as glibc starts, most of them fault their pages in again;
        # primed, the heaps keep their free tops.
        self.assertLess(primed, PRIMED_FAULTS_AT_MOST, "page faults primed: %d (not primed: %d)" % (primed, unprimed))


if __name__ == "__main__":
    unittest.main()
