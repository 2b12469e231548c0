"""Delay line with a per-sample glide of the delay time and linear interpolation.

Integer delays are exact (the interpolation weight of the neighbour is exactly zero).
A delay change glides over ``smoothing_ms``, which bends pitch briefly instead of clicking.
"""

import numpy as np
from numba import njit

_NCH, _LEN, _MAX, _RAMP, _POS = 0, 1, 2, 3, 4
_DELAY_SAMPLES, _D, _STEP, _LEFT = 5, 6, 7, 8
_BUF = 9  # then n_channels rows of _LEN samples


def prepare(
    n_channels: int, sample_rate_hz: float, max_delay_samples: int, delay_samples: float = 0.0,
    smoothing_ms: float = 20.0,
) -> np.ndarray:
    """Allocate the float64 state vector, buffer included.

    Delays up to ``max_delay_samples``; changes glide over ``smoothing_ms`` milliseconds.
    """
    length = int(max_delay_samples) + 2  # room for the interpolation neighbour
    state = np.zeros(_BUF + n_channels * length)
    state[_NCH] = n_channels
    state[_LEN] = length
    state[_MAX] = max_delay_samples
    state[_RAMP] = max(1, round(smoothing_ms * 1e-3 * sample_rate_hz))
    d = min(max(delay_samples, 0.0), max_delay_samples)
    state[_DELAY_SAMPLES] = delay_samples
    state[_D] = d
    return state


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Silence the buffer and finish any delay glide."""
    state[_BUF:] = 0.0
    state[_D] = min(max(state[_DELAY_SAMPLES], 0.0), state[_MAX])
    state[_LEFT] = 0.0


@njit(nogil=True, cache=True)
def process(state: np.ndarray, delay_samples: float, x: np.ndarray, y: np.ndarray) -> None:
    """Delay planar float32 ``x`` into ``y`` (n_channels, n_frames) by ``delay_samples``.

    ``delay_samples`` is clamped to [0, max_delay_samples]; fractions interpolate linearly.
    ``y`` may be ``x``.
    """
    target = min(max(delay_samples, 0.0), state[_MAX])
    if delay_samples != state[_DELAY_SAMPLES]:
        state[_DELAY_SAMPLES] = delay_samples
        state[_STEP] = (target - state[_D]) / state[_RAMP]
        state[_LEFT] = state[_RAMP]
    n_ch = min(x.shape[0], int(state[_NCH]))
    length = int(state[_LEN])
    pos0, d0, left0, step = int(state[_POS]), state[_D], int(state[_LEFT]), state[_STEP]
    pos, d, left = pos0, d0, left0
    for c in range(n_ch):
        row = _BUF + c * length
        pos, d, left = pos0, d0, left0  # every channel replays the same glide
        for i in range(x.shape[1]):
            if left > 0:
                left -= 1
                d = target if left == 0 else d + step
            state[row + pos] = x[c, i]
            di = int(d)
            frac = d - di
            a = pos - di
            if a < 0:
                a += length
            b = a - 1 if a > 0 else length - 1
            y[c, i] = state[row + a] + frac * (state[row + b] - state[row + a])
            pos += 1
            if pos == length:
                pos = 0
    if n_ch > 0:
        state[_POS] = pos
        state[_D] = d
        state[_LEFT] = left
