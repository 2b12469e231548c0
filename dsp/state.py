"""Kernel states laid out as one float64 array: scalars in a header, then regions whose
offsets the header holds (the onset detector, pitch tracker and noise reducer use it)."""

from __future__ import annotations

import numpy as np
from numba import njit


def allocate(header: int, sizes: dict[int, int], tables: dict[int, np.ndarray]) -> np.ndarray:
    """A state of ``header`` scalars, then a region of ``sizes[slot]`` values per slot (the
    header's ``slot`` holds its offset), with ``tables`` copied into their regions."""
    state = np.zeros(header + sum(sizes.values()), dtype=np.float64)
    offset = header
    for slot, size in sizes.items():
        state[slot] = offset
        offset += size
    for slot, values in tables.items():
        o = int(state[slot])
        state[o: o + values.shape[0]] = values
    return state


@njit(nogil=True, cache=True, inline="always")
def region(state: np.ndarray, slot: int, length: int) -> np.ndarray:
    """The ``length`` values of the region whose offset header ``slot`` holds."""
    o = int(state[slot])
    return state[o: o + length]
