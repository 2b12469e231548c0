"""Memory the audio thread touches must be resident before the stream starts.

``np.zeros`` maps fresh pages lazily: the first write to each page then faults inside
whichever thread writes first, which for rings and buffers is the audio callback (a
4 ms first block was measured here). Writing every page at allocation and locking the
process's pages into RAM before starting keeps page faults off the real-time thread.
"""

from __future__ import annotations

import ctypes

import numpy as np

_MCL_CURRENT = 1


def resident_zeros(shape, dtype=np.float32) -> np.ndarray:
    """Zeros whose pages are already faulted in (written once, here)."""
    a = np.empty(shape, dtype=dtype)
    a.fill(0)
    return a


def lock_current_pages() -> bool:
    """``mlockall(MCL_CURRENT)``: keep what is mapped now in RAM. False if not permitted."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return False
    return libc.mlockall(_MCL_CURRENT) == 0
