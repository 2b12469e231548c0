"""Lock-free single-producer / single-consumer ring of planar frames.

One implementation serves the whole engine (audio to and from the worker, recording,
events). Storage is ``data[n_channels, capacity]``; bookkeeping is ``index[INDEX_LEN]``
with two monotonically increasing frame counters that never wrap in practice (int64 at
48 kHz lasts six million years):

- ``index[WRITE]`` is written only by the producer, ``index[READ]`` only by the consumer.
  They sit 64 bytes apart so the two threads do not fight over one cache line.
- Memory ordering: the producer copies frames into ``data`` and then publishes the new
  write count with a *release* store; the consumer reads the write count with an
  *acquire* load before it touches ``data``. Release/acquire guarantees that every data
  store before the release is visible to a thread that observes the released value, so
  the consumer never reads a frame before it is written. Symmetrically the consumer
  releases its read count after copying frames out, and the producer acquires it before
  overwriting space, so a slot is never reused while it is still being read.
  Each side reads its *own* counter with a plain load: only it writes that slot.
- Capacity is a power of two so positions are ``count & (capacity - 1)``.

Every function is ``@njit(nogil=True)``: callable from the audio cfunc and from worker
threads without the GIL. Nothing here allocates or blocks.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.memory import resident_zeros
from engine.pointers import load_acquire, store_release

WRITE = 0
READ = 8
INDEX_LEN = 16


def make_ring(n_channels: int, min_capacity_frames: int,
              dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Allocate ``(data, index)`` for a ring holding at least ``min_capacity_frames`` frames."""
    if n_channels < 1 or min_capacity_frames < 1:
        raise ValueError("ring needs n_channels >= 1 and capacity >= 1, "
                         f"got {n_channels}, {min_capacity_frames}")
    capacity = 1 << int(np.ceil(np.log2(min_capacity_frames)))
    return (resident_zeros((n_channels, capacity), dtype),
            resident_zeros(INDEX_LEN, np.int64))


@njit(nogil=True, cache=True)
def readable(data, index) -> int:
    """Frames the consumer may read now."""
    return load_acquire(index, WRITE) - index[READ]


@njit(nogil=True, cache=True)
def writable(data, index) -> int:
    """Frames the producer may write now."""
    return data.shape[1] - (index[WRITE] - load_acquire(index, READ))


@njit(nogil=True, cache=True)
def write(data, index, src, src_offset, n_frames) -> int:
    """Copy up to ``n_frames`` planar frames from ``src[:, src_offset:]``; return frames written."""
    w = index[WRITE]
    free = data.shape[1] - (w - load_acquire(index, READ))
    n = min(n_frames, free)
    mask = data.shape[1] - 1
    n_ch = data.shape[0]
    for i in range(n):
        pos = (w + i) & mask
        for c in range(n_ch):
            data[c, pos] = src[c, src_offset + i]
    store_release(index, WRITE, w + n)
    return n


@njit(nogil=True, cache=True)
def write_value(data, index, value, n_frames) -> int:
    """Write ``n_frames`` frames of a constant (priming a delay with silence)."""
    w = index[WRITE]
    free = data.shape[1] - (w - load_acquire(index, READ))
    n = min(n_frames, free)
    mask = data.shape[1] - 1
    for i in range(n):
        for c in range(data.shape[0]):
            data[c, (w + i) & mask] = value
    store_release(index, WRITE, w + n)
    return n


@njit(nogil=True, cache=True)
def read(data, index, dst, dst_offset, n_frames) -> int:
    """Copy up to ``n_frames`` frames out into planar ``dst[:, dst_offset:]``; return the count."""
    r = index[READ]
    n = min(n_frames, load_acquire(index, WRITE) - r)
    mask = data.shape[1] - 1
    n_ch = data.shape[0]
    for i in range(n):
        pos = (r + i) & mask
        for c in range(n_ch):
            dst[c, dst_offset + i] = data[c, pos]
    store_release(index, READ, r + n)
    return n


@njit(nogil=True, cache=True)
def discard(data, index, n_frames) -> int:
    """Drop up to ``n_frames`` frames without copying; return frames dropped."""
    r = index[READ]
    n = min(n_frames, load_acquire(index, WRITE) - r)
    store_release(index, READ, r + n)
    return n
