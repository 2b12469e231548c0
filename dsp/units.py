"""Decibels and linear gains: the one conversion every floor uses.

Jitted and inlined, so the callback's kernels, the block function and offline Python code
all compute ``10 ** (db / 20)`` the same way, to the bit. Scalar conversions go through
here. Two kinds of code write the formula inline on purpose: vectorised maths on numpy
arrays or torch tensors (a jitted scalar function would loop in Python; the training
corpora and the differentiable twin), and modules kept free of Numba so that importing
them starts no compiler (``dsp.bs1770``, for ``musicmill loudness``).
"""

from __future__ import annotations

import math

from numba import njit


@njit(nogil=True, cache=True, inline="always")
def db_to_gain(db: float) -> float:
    """Amplitude ratio of ``db`` decibels: ``10 ** (db / 20)``."""
    return 10.0 ** (db / 20.0)


@njit(nogil=True, cache=True, inline="always")
def gain_to_db(gain: float) -> float:
    """Decibels of an amplitude ratio; -inf for 0 (callers that show it floor it)."""
    if gain <= 0.0:
        return -math.inf
    return 20.0 * math.log10(gain)
