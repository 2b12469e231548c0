"""Keep freed big arrays' memory in the process while mixing, instead of returning it.

glibc gives every freed block above its mmap threshold back to the system at once and
takes it again page by page the next time: a fault for each 4 KB, zeroed by the kernel.
The styled mix allocates and frees several 4 MB arrays per stem and per pass, on two
threads, and spent about a sixth of its time in those faults (``musicmill bench mix``:
29x with them, 35x without, same machine). Raising the mmap threshold to glibc's largest
(32 MB) and the trim threshold well above what a mix holds makes a freed array's memory
serve the next one. A process that mixes keeps its peak's memory until it exits; the peak
itself is what it was. On anything but glibc on Linux this does nothing.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 << 20  # glibc's maximum on 64-bit
TRIM_THRESHOLD_BYTES = 1 << 30
_kept = False


def keep_freed_memory() -> None:
    """Set the two thresholds, once per process."""
    global _kept
    if _kept or not sys.platform.startswith("linux"):
        return
    _kept = True
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
