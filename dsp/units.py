"""Decibels and linear ratios: the one conversion every floor uses.

Amplitude ratios (gains, peaks, RMS: ``20 log10``) and power or energy ratios (mean
squares, SNRs: ``10 log10``). The scalar functions are jitted and inlined, so the callback's
kernels, the block function and offline Python code all compute ``10 ** (db / 20)`` the same
way, to the bit; Python code calls them too. ``db_to_gain_array`` is the same formula over a
whole numpy array (or torch tensor, keeping its gradient) in one vectorised power, where a
jitted scalar function would loop in Python. Modules kept free of Numba, so that importing
them starts no compiler, write the formulas inline: ``dsp.bs1770`` (for ``musicmill
loudness``) and the numpy-only analysis in ``dsp.analysis`` (``features``, ``spectral``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(nogil=True, cache=True, inline="always")
def db_to_gain(db: float) -> float:
    """Amplitude ratio of ``db`` decibels: ``10 ** (db / 20)``."""
    return 10.0 ** (db / 20.0)


@njit(nogil=True, cache=True, inline="always")
def gain_to_db(gain: float) -> float:
    """Decibels of an amplitude ratio; -inf for 0, a negative ratio or NaN (callers that
    show it floor it)."""
    if not gain > 0.0:
        return -math.inf
    return 20.0 * math.log10(gain)


@njit(nogil=True, cache=True, inline="always")
def db_to_power(db: float) -> float:
    """Power (energy, mean-square) ratio of ``db`` decibels: ``10 ** (db / 10)``."""
    return 10.0 ** (db / 10.0)


@njit(nogil=True, cache=True, inline="always")
def power_to_db(power: float) -> float:
    """Decibels of a power (energy, mean-square) ratio; -inf for 0, a negative ratio or NaN."""
    if not power > 0.0:
        return -math.inf
    return 10.0 * math.log10(power)


def db_to_gain_array(db: np.ndarray) -> np.ndarray:
    """``db_to_gain`` elementwise: ``10 ** (db / 20)`` over a numpy array, or a torch tensor
    (it stays one, gradient and all)."""
    return 10.0 ** (db / 20.0)
