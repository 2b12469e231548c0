"""Memory the audio thread touches must be resident before the stream starts.

``np.zeros`` maps fresh pages lazily: the first write to each page then faults inside
whichever thread writes first, which for rings and buffers is the audio callback (a
4 ms first block was measured here). Writing every page at allocation and locking the
pages the callback reaches into RAM before starting keeps page faults off the real-time
thread.

Only those pages are locked: anonymous memory (the engine's arrays, the compiled callback,
the heap) and the few shared libraries the callback calls into. ``mlockall`` would also pin
every page of torch's and ONNX Runtime's libraries (1.2 GB resident for ``musicmill run``
with the drum model, against what the worker thread actually touches); those serve the
worker, which is built to absorb a late block.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

# Shared libraries the callback's compiled code reaches: libc (clock_gettime, sem_post), libm
# (pow, exp, log), the loader, and PortAudio with the audio backends under it.
CALLBACK_LIBRARIES = ("libc.so", "libm.so", "libmvec", "ld-linux", "libpthread", "librt",
                      "libportaudio", "libjack", "libasound", "libstdc++", "libgcc_s")
_SPECIAL = ("[heap]", "[stack]")


def resident_zeros(shape, dtype=np.float32) -> np.ndarray:
    """Zeros whose pages are already faulted in (written once, here)."""
    a = np.empty(shape, dtype=dtype)
    a.fill(0)
    return a


def _wanted(path: str) -> bool:
    if not path or path in _SPECIAL:
        return True  # anonymous memory: arrays, JIT code, the heap
    return any(lib in os.path.basename(path) for lib in CALLBACK_LIBRARIES)


def lock_callback_pages(maps: Path = Path("/proc/self/maps")) -> int:
    """``mlock`` the mappings the callback can touch (see module doc); returns the bytes
    locked, 0 where locking is not permitted (then the engine runs unlocked)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        lines = maps.read_text().splitlines()
    except OSError:
        return 0
    libc.mlock.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    locked = 0
    for line in lines:
        fields = line.split(maxsplit=5)
        perms, path = fields[1], fields[5].strip() if len(fields) > 5 else ""
        if "r" not in perms or not _wanted(path):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if libc.mlock(start, end - start) == 0:
            locked += end - start
    return locked
