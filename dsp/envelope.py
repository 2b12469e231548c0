"""Envelope follower (peak or RMS) with separate attack and release one-poles.

PEAK smooths |x|; RMS smooths x**2 and returns its square root. A time constant is the
time to reach 1 - 1/e of a step; 0 ms means instantaneous.
"""

import math

import numpy as np
from numba import njit

PEAK = 0
RMS = 1

_SR, _NCH, _MODE, _ATTACK_MS, _RELEASE_MS, _ALPHA_A, _ALPHA_R = 0, 1, 2, 3, 4, 5, 6
_ENV = 7  # then one value per channel (|x| or x**2 domain)


def prepare(n_channels: int, sample_rate_hz: float, mode: int = PEAK) -> np.ndarray:
    """Allocate the float64 state vector; ``mode`` is PEAK or RMS."""
    state = np.zeros(_ENV + n_channels)
    state[_SR] = sample_rate_hz
    state[_NCH] = n_channels
    state[_MODE] = mode
    state[_ATTACK_MS] = state[_RELEASE_MS] = -1.0
    return state


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Drop the envelope to zero."""
    state[_ENV:] = 0.0


@njit(nogil=True, cache=True)
def decay_coef(time_ms: float, sample_rate_hz: float) -> float:
    """Per-sample pole of a one-pole smoother with time constant ``time_ms`` (0 if none)."""
    n = time_ms * 1e-3 * sample_rate_hz
    return math.exp(-1.0 / n) if n > 0.0 else 0.0


@njit(nogil=True, cache=True)
def process(
    state: np.ndarray, attack_ms: float, release_ms: float, x: np.ndarray, env: np.ndarray
) -> None:
    """Write the envelope of planar float32 ``x`` (n_channels, n_frames) into ``env``.

    ``env`` has the shape of ``x`` and holds linear amplitude; times in milliseconds.
    """
    if attack_ms != state[_ATTACK_MS]:
        state[_ATTACK_MS] = attack_ms
        state[_ALPHA_A] = decay_coef(attack_ms, state[_SR])
    if release_ms != state[_RELEASE_MS]:
        state[_RELEASE_MS] = release_ms
        state[_ALPHA_R] = decay_coef(release_ms, state[_SR])
    aA, aR = state[_ALPHA_A], state[_ALPHA_R]
    rms = state[_MODE] == RMS
    for c in range(min(x.shape[0], int(state[_NCH]))):
        e = state[_ENV + c]
        for i in range(x.shape[1]):
            v = float(x[c, i])
            v = v * v if rms else abs(v)
            a = aA if v > e else aR
            e = a * e + (1.0 - a) * v
            env[c, i] = math.sqrt(e) if rms else e
        state[_ENV + c] = e
