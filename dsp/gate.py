"""Downward expander / gate with attack, hold and release.

Below ``threshold_db`` every dB of level drop becomes ``ratio`` dB of output drop (a large
ratio gates), with the attenuation limited to ``range_db``. The attenuation is smoothed in
dB: it falls (the gate opens) with ``attack_ms``; after the signal stops asking for less
attenuation it is held for ``hold_ms`` and then rises with ``release_ms``. The detector is
the instantaneous linked peak, so ``hold_ms`` should span a half period of the lowest note
to keep the gate from chattering on zero crossings.
"""

import math

import numpy as np
from numba import njit

from dsp.units import db_to_gain

# State layout.
_SR, _ATTACK_MS, _HOLD_MS, _RELEASE_MS = 0, 1, 2, 3
_ALPHA_A, _ALPHA_R, _HOLD_N, _HOLD_LEFT = 4, 5, 6, 7
_ATT_DB = 8
STATE_SIZE = 9

ATTENUATION_DB = _ATT_DB  # state[ATTENUATION_DB]: current attenuation, dB (>= 0)

_FLOOR_DB = -200.0


def prepare(sample_rate_hz: float) -> np.ndarray:
    """Allocate the float64 state vector (gate starts open)."""
    state = np.zeros(STATE_SIZE)
    state[_SR] = sample_rate_hz
    state[_ATTACK_MS] = state[_HOLD_MS] = state[_RELEASE_MS] = -1.0
    return state


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Open the gate and clear the hold timer."""
    state[_ATT_DB] = 0.0
    state[_HOLD_LEFT] = 0.0


@njit(nogil=True, cache=True)
def _update_coeffs(state: np.ndarray, attack_ms: float, hold_ms: float, release_ms: float):
    sr = state[_SR]
    if attack_ms != state[_ATTACK_MS]:
        state[_ATTACK_MS] = attack_ms
        state[_ALPHA_A] = math.exp(-1.0 / max(attack_ms * 1e-3 * sr, 1e-9))
    if release_ms != state[_RELEASE_MS]:
        state[_RELEASE_MS] = release_ms
        state[_ALPHA_R] = math.exp(-1.0 / max(release_ms * 1e-3 * sr, 1e-9))
    if hold_ms != state[_HOLD_MS]:
        state[_HOLD_MS] = hold_ms
        state[_HOLD_N] = round(max(hold_ms, 0.0) * 1e-3 * sr)


@njit(nogil=True, cache=True)
def process_sidechain(
    state: np.ndarray,
    threshold_db: float,
    ratio: float,
    range_db: float,
    attack_ms: float,
    hold_ms: float,
    release_ms: float,
    x: np.ndarray,
    sidechain: np.ndarray,
    y: np.ndarray,
) -> None:
    """Gate ``x`` into ``y`` (n_channels, n_frames), keyed by planar ``sidechain``.

    ``ratio`` >= 1 is the expansion ratio (1:ratio), ``range_db`` >= 0 the maximum
    attenuation in dB. ``y`` may be ``x``.
    """
    _update_coeffs(state, attack_ms, hold_ms, release_ms)
    slope = max(ratio, 1.0) - 1.0
    range_db = abs(range_db)
    aA = state[_ALPHA_A]
    aR = state[_ALPHA_R]
    hold_n = int(state[_HOLD_N])
    hold_left = int(state[_HOLD_LEFT])
    att = state[_ATT_DB]
    for i in range(x.shape[1]):
        level = 0.0
        for c in range(sidechain.shape[0]):
            level = max(level, abs(float(sidechain[c, i])))
        level_db = 20.0 * math.log10(level) if level > 1e-10 else _FLOOR_DB
        target = min(max(threshold_db - level_db, 0.0) * slope, range_db)
        if target <= att:
            hold_left = hold_n
            att = aA * att + (1.0 - aA) * target
        elif hold_left > 0:
            hold_left -= 1
        else:
            att = aR * att + (1.0 - aR) * target
        g = db_to_gain(-att)
        for c in range(x.shape[0]):
            y[c, i] = x[c, i] * g
    state[_ATT_DB] = att
    state[_HOLD_LEFT] = hold_left


@njit(nogil=True, cache=True)
def process(
    state: np.ndarray,
    threshold_db: float,
    ratio: float,
    range_db: float,
    attack_ms: float,
    hold_ms: float,
    release_ms: float,
    x: np.ndarray,
    y: np.ndarray,
) -> None:
    """Gate planar float32 ``x`` into ``y`` (n_channels, n_frames), self-keyed."""
    process_sidechain(state, threshold_db, ratio, range_db, attack_ms, hold_ms, release_ms,
                      x, x, y)
