"""A mixing process keeps freed arrays' memory: the next arrays take no page faults."""

import subprocess
import sys

import pytest

PROBE = """
import resource, numpy as np
from engine.offline import heap

def cycle():  # three 16 MB arrays held, then freed together
    arrays = [np.ones(4 << 20, np.float32) for _ in range(3)]
    del arrays

def faults():
    cycle()
    cycle()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    cycle()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

plain = faults()
heap.keep_freed_memory()
heap.keep_freed_memory()  # once is enough; again changes nothing
print(plain, faults())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_freed_array_serves_the_next_one():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True).stdout.split()
    plain, kept = int(out[0]), int(out[1])
    assert plain > 200  # memory given back and faulted in again, 4 KB at a time (~1000)
    assert kept < plain / 10
