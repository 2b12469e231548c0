"""Gain in dB with a linear per-sample glide whenever the value changes."""

import numpy as np
from numba import njit

_RAMP, _GAIN_DB, _GAIN, _STEP, _LEFT = 0, 1, 2, 3, 4
STATE_SIZE = 5


def prepare(sample_rate_hz: float, gain_db: float = 0.0, smoothing_ms: float = 5.0) -> np.ndarray:
    """Allocate the float64 state vector, settled at ``gain_db``.

    Later changes of ``gain_db`` glide linearly over ``smoothing_ms`` milliseconds.
    """
    state = np.zeros(STATE_SIZE)
    state[_RAMP] = max(1, round(smoothing_ms * 1e-3 * sample_rate_hz))
    state[_GAIN_DB] = gain_db
    state[_GAIN] = 10.0 ** (gain_db / 20.0)
    return state


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Jump to the target gain, ending any glide."""
    state[_GAIN] = 10.0 ** (state[_GAIN_DB] / 20.0)
    state[_LEFT] = 0.0


@njit(nogil=True, cache=True)
def process(state: np.ndarray, gain_db: float, x: np.ndarray, y: np.ndarray) -> None:
    """Scale planar float32 ``x`` into ``y`` (n_channels, n_frames) by ``gain_db``.

    ``y`` may be ``x``.
    """
    target = 10.0 ** (gain_db / 20.0)
    if gain_db != state[_GAIN_DB]:
        state[_GAIN_DB] = gain_db
        state[_STEP] = (target - state[_GAIN]) / state[_RAMP]
        state[_LEFT] = state[_RAMP]
    g0, left0, step = state[_GAIN], int(state[_LEFT]), state[_STEP]
    g, left = g0, left0
    for c in range(x.shape[0]):
        g, left = g0, left0  # every channel replays the same glide
        for i in range(x.shape[1]):
            if left > 0:
                left -= 1
                g = target if left == 0 else g + step
            y[c, i] = x[c, i] * g
    if x.shape[0] > 0:
        state[_GAIN] = g
        state[_LEFT] = left
