"""heap.py: with the allocator primed, body-sized blocks that come and go cost no page faults."""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))

# In a fresh interpreter (the thresholds are the process's): optionally prime, then three threads
# each make and drop 8 blocks of 64 KiB (the size of a request body's chunks) 100 times; prints
# the page faults that took.
CHURN = r"""
import resource, sys, threading
sys.path.insert(0, %r)
from harness import load
if sys.argv[1] == "prime":
    assert load().heap.prime()
def churn():
    for _ in range(100):
        held = [bytes(65536) for _ in range(8)]
        del held
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
threads = [threading.Thread(target=churn) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""" % (HERE,)


def faults(mode):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", CHURN, mode], env=env, stdout=subprocess.PIPE, timeout=60,
                         check=True)
    return int(out.stdout)


@unittest.skipUnless(hasattr(os, "confstr") and "CS_GNU_LIBC_VERSION" in getattr(os, "confstr_names", {}),
                     "the thresholds primed are glibc's")
class Primed(unittest.TestCase):
    def test_blocks_of_body_size_come_and_go_without_page_faults(self):
        unprimed = faults("as-is")
        primed = faults("prime")
        # 2,400 blocks of 16 pages each: as glibc starts, most of them fault their pages in again
        # (~30,000 faults here); primed, the heaps keep their free tops (~150).
        self.assertLess(primed, 1500, "page faults primed: %d (not primed: %d)" % (primed, unprimed))


if __name__ == "__main__":
    unittest.main()
