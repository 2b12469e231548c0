"""One-pole DC blocker: ``y[n] = k (x[n] - x[n-1]) + R y[n-1]``, ``R = exp(-2 pi fc / fs)``.

``k = (1 + R) / 2`` makes the gain exactly 1 at Nyquist, so the passband error at 1 kHz is
a few thousandths of a dB for cutoffs around 10 Hz.
"""

import math

import numpy as np
from numba import njit

_SR, _NCH, _RAMP, _CUTOFF_HZ, _R, _STEP, _LEFT, _R_TARGET = 0, 1, 2, 3, 4, 5, 6, 7
_MEM = 8  # then (x1, y1) per channel


def _pole(cutoff_hz: float, sample_rate_hz: float) -> float:
    return math.exp(-2.0 * math.pi * min(max(cutoff_hz, 0.0), 0.45 * sample_rate_hz)
                    / sample_rate_hz)


_pole_jit = njit(nogil=True, cache=True)(_pole)


def prepare(
    n_channels: int, sample_rate_hz: float, cutoff_hz: float = 10.0, smoothing_ms: float = 5.0
) -> np.ndarray:
    """Allocate the float64 state vector, settled at ``cutoff_hz``."""
    state = np.zeros(_MEM + 2 * n_channels)
    state[_SR] = sample_rate_hz
    state[_NCH] = n_channels
    state[_RAMP] = max(1, round(smoothing_ms * 1e-3 * sample_rate_hz))
    state[_CUTOFF_HZ] = cutoff_hz
    state[_R] = state[_R_TARGET] = _pole(cutoff_hz, sample_rate_hz)
    return state


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Clear the filter memory and finish any cutoff glide."""
    state[_MEM:] = 0.0
    state[_R] = state[_R_TARGET]
    state[_LEFT] = 0.0


@njit(nogil=True, cache=True)
def process(state: np.ndarray, cutoff_hz: float, x: np.ndarray, y: np.ndarray) -> None:
    """Remove DC from planar float32 ``x`` into ``y`` (n_channels, n_frames); may be in place.

    ``cutoff_hz`` is the -3 dB corner.
    """
    if cutoff_hz != state[_CUTOFF_HZ]:
        state[_CUTOFF_HZ] = cutoff_hz
        state[_R_TARGET] = _pole_jit(cutoff_hz, state[_SR])
        state[_STEP] = (state[_R_TARGET] - state[_R]) / state[_RAMP]
        state[_LEFT] = state[_RAMP]
    n_ch = min(x.shape[0], int(state[_NCH]))
    r, left = state[_R], int(state[_LEFT])
    for c in range(n_ch):
        r, left = state[_R], int(state[_LEFT])  # every channel replays the same glide
        x1 = state[_MEM + 2 * c]
        y1 = state[_MEM + 2 * c + 1]
        for i in range(x.shape[1]):
            if left > 0:
                left -= 1
                r = state[_R_TARGET] if left == 0 else r + state[_STEP]
            xi = float(x[c, i])
            y1 = 0.5 * (1.0 + r) * (xi - x1) + r * y1
            x1 = xi
            y[c, i] = y1
        state[_MEM + 2 * c] = x1
        state[_MEM + 2 * c + 1] = y1
    if n_ch > 0:
        state[_R] = r
        state[_LEFT] = left
