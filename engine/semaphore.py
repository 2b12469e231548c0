"""A POSIX unnamed semaphore in a numpy buffer: the callback posts, a Python thread waits.

``sem_post`` is async-signal-safe and only enters the kernel when someone is waiting, so
the real-time thread can call it (through libc, from the cfunc). ``sem_wait`` through
ctypes releases the GIL while it sleeps.
"""

from __future__ import annotations

import ctypes
import math
import time

import numpy as np

from engine.pointers import libc_function

_SEM_T_BYTES = 64  # glibc's sem_t is 32 bytes on x86-64 and aarch64; leave room

_init = libc_function("sem_init", ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_uint)
_destroy = libc_function("sem_destroy", ctypes.c_int, ctypes.c_void_p)
_post = libc_function("sem_post", ctypes.c_int, ctypes.c_void_p)
_timedwait = libc_function("sem_timedwait", ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class Semaphore:
    """Unnamed process-private semaphore; ``address`` is what the cfunc posts to."""

    def __init__(self) -> None:
        self._buffer = np.zeros(_SEM_T_BYTES, dtype=np.uint8)
        if _init(self._buffer.ctypes.data, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "sem_init failed")

    @property
    def address(self) -> int:
        return int(self._buffer.ctypes.data)

    def post(self) -> None:
        _post(self.address)

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s``; True if posted. Releases the GIL while waiting."""
        deadline = time.clock_gettime(time.CLOCK_REALTIME) + timeout_s
        frac, whole = math.modf(deadline)
        ts = _Timespec(int(whole), int(frac * 1e9))
        return _timedwait(self.address, ctypes.byref(ts)) == 0

    def close(self) -> None:
        _destroy(self.address)
