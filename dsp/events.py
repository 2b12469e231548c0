"""Sample-accurate event queues inside a kernel's float64 state, and its noise generator.

A queue is ``max`` rows of ``EV_SIZE`` floats (two payload values and a frame offset into
the next ``process`` call) starting at ``state[base]``, with its length at ``state[n_at]``
and capacity at ``state[max_at]``. Producers push with an offset; ``process`` repeatedly
takes the earliest event inside the block (in push order among equal offsets), renders up
to it, applies it and pops it; whatever is left is aged by the block length, so an offset
past the block waits for a later call. Used by the drum synth and the sampler voice.

:func:`append_row` is the other direction: a detector kernel (beatbox trigger, note
transcriber) writing the events it found in this block as rows of a caller's array.
"""

from __future__ import annotations

import numpy as np
from numba import njit

EV_SIZE = 3  # payload a, payload b, offset_frames
MASK32 = 0xFFFFFFFF


@njit(nogil=True, cache=True)
def push(state: np.ndarray, n_at: int, max_at: int, base: int, a: float, b: float,
         offset_frames: int) -> bool:
    """Append an event; False (and nothing queued) when the queue is full."""
    n = int(state[n_at])
    if n >= int(state[max_at]):
        return False
    e = base + EV_SIZE * n
    state[e] = a
    state[e + 1] = b
    state[e + 2] = max(offset_frames, 0)
    state[n_at] = n + 1
    return True


@njit(nogil=True, cache=True)
def append_row(rows: np.ndarray, n: int, values) -> int:
    """Write the float tuple ``values`` (one per column) as row ``n`` of ``rows``; returns
    the new row count. A full array drops the row (the caller sizes it for a block)."""
    if n >= rows.shape[0]:
        return n
    for c in range(len(values)):
        rows[n, c] = values[c]
    return n + 1


@njit(nogil=True, cache=True)
def earliest(state: np.ndarray, n_at: int, base: int, n_frames: int) -> int:
    """Index of the first event due before frame ``n_frames`` of this call, else -1."""
    best = -1
    best_off = n_frames
    for e in range(int(state[n_at])):
        off = int(state[base + EV_SIZE * e + 2])
        if off < best_off:
            best, best_off = e, off
    return best


@njit(nogil=True, cache=True)
def offset(state: np.ndarray, base: int, e: int) -> int:
    return int(state[base + EV_SIZE * e + 2])


@njit(nogil=True, cache=True)
def next_due(state: np.ndarray, n_at: int, base: int, n_frames: int) -> tuple[int, int]:
    """The earliest event due in this call and its frame offset; ``(-1, n_frames)`` when
    none is: render up to the offset, then :func:`take` the event (if any)."""
    best = earliest(state, n_at, base, n_frames)
    return best, (n_frames if best < 0 else offset(state, base, best))


@njit(nogil=True, cache=True)
def take(state: np.ndarray, n_at: int, base: int, e: int) -> tuple[float, float]:
    """Event ``e``'s payload ``(a, b)``, removing it from the queue."""
    k = base + EV_SIZE * e
    a, b = state[k], state[k + 1]
    pop(state, n_at, base, e)
    return a, b


@njit(nogil=True, cache=True)
def pop(state: np.ndarray, n_at: int, base: int, e: int) -> None:
    """Remove event ``e``, keeping the others in push order."""
    n = int(state[n_at])
    for k in range(base + EV_SIZE * e, base + EV_SIZE * (n - 1)):
        state[k] = state[k + EV_SIZE]
    state[n_at] = n - 1


@njit(nogil=True, cache=True)
def age(state: np.ndarray, n_at: int, base: int, n_frames: int) -> None:
    """Move the events still queued ``n_frames`` closer (the block is done)."""
    for e in range(int(state[n_at])):
        state[base + EV_SIZE * e + 2] -= n_frames


@njit(nogil=True, cache=True)
def xorshift32(w: int) -> int:
    """One step of Marsaglia's xorshift32 (w != 0 stays != 0)."""
    w ^= (w << 13) & MASK32
    w ^= w >> 17
    w ^= (w << 5) & MASK32
    return w


def seed_word(seed: int) -> int:
    """A non-zero 32-bit generator word from any integer seed."""
    word = (int(seed) * 2654435761 + 0x9E3779B9) & MASK32
    return word if word != 0 else 0x6D2B79F5
