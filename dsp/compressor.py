"""Feed-forward compressor after Giannoulis, Massberg & Reiss (2012), JAES 60(6).

Detector: instantaneous level of the (linked) sidechain in dB -> soft-knee gain computer ->
gain reduction smoothed in the log domain by a branching one-pole (attack while the
reduction grows, release while it shrinks). Time constants follow the paper: the smoothed
reduction reaches 1 - 1/e of a step after ``attack_ms``.

Threshold, ratio and knee act per sample; their block-rate steps are smoothed by the
attack/release filter itself. Makeup gain glides linearly over ``smoothing_ms``.

Cost per frame: the detector and gain computer run once per frame for all channels; the
level is taken to dB (a log) only at or above the knee's start, and the linear gain is an
exp, skipped while there is no reduction. Outputs match the textbook formulation
(``10 ** (x / 20)``, ``20 * log10``) to float rounding.
"""

import math

import numpy as np
from numba import njit

from dsp.units import db_to_gain

LINK_MAX = 0  # detector follows the loudest channel
LINK_MEAN = 1  # detector follows the mean absolute level of the channels

# State layout.
_SR, _LINK, _RAMP = 0, 1, 2
_ATTACK_MS, _RELEASE_MS, _ALPHA_A, _ALPHA_R = 3, 4, 5, 6
_GR_DB, _GR_MAX_DB = 7, 8
_MAKEUP_DB, _MAKEUP, _MAKEUP_STEP, _MAKEUP_LEFT = 9, 10, 11, 12
STATE_SIZE = 13

GR_DB = _GR_DB  # state[GR_DB]: current gain reduction, dB (>= 0)
GR_MAX_DB = _GR_MAX_DB  # state[GR_MAX_DB]: largest reduction since reset/reset_meter, dB

_FLOOR_DB = -200.0
_DB_PER_NEPER = 20.0 / math.log(10.0)  # 20 * log10(v) == _DB_PER_NEPER * log(v)
_NEPER_PER_DB = math.log(10.0) / 20.0  # 10 ** (d / 20) == exp(_NEPER_PER_DB * d)


def prepare(
    sample_rate_hz: float, link: int = LINK_MAX, makeup_db: float = 0.0,
    smoothing_ms: float = 5.0,
) -> np.ndarray:
    """Allocate the float64 state vector; ``link`` is LINK_MAX or LINK_MEAN."""
    state = np.zeros(STATE_SIZE)
    state[_SR] = sample_rate_hz
    state[_LINK] = link
    state[_RAMP] = max(1, round(smoothing_ms * 1e-3 * sample_rate_hz))
    state[_ATTACK_MS] = -1.0  # forces coefficient computation on the first block
    state[_RELEASE_MS] = -1.0
    state[_MAKEUP_DB] = makeup_db
    state[_MAKEUP] = db_to_gain(makeup_db)
    return state


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Release all gain reduction, clear the meter and finish the makeup glide."""
    state[_GR_DB] = 0.0
    state[_GR_MAX_DB] = 0.0
    state[_MAKEUP] = db_to_gain(state[_MAKEUP_DB])
    state[_MAKEUP_LEFT] = 0.0


@njit(nogil=True, cache=True)
def reset_meter(state: np.ndarray) -> None:
    """Restart the max-gain-reduction meter from the current reduction."""
    state[_GR_MAX_DB] = state[_GR_DB]


@njit(nogil=True, cache=True)
def gain_computer_db(level_db: float, threshold_db: float, ratio: float, knee_db: float) -> float:
    """Static curve: output level in dB for an input level in dB (paper's eq. 4)."""
    over = level_db - threshold_db
    if 2.0 * over < -knee_db:
        return level_db
    if knee_db > 0.0 and 2.0 * abs(over) <= knee_db:
        t = over + 0.5 * knee_db
        return level_db + (1.0 / ratio - 1.0) * t * t / (2.0 * knee_db)
    return threshold_db + over / ratio


@njit(nogil=True, cache=True)
def _update_coeffs(state: np.ndarray, attack_ms: float, release_ms: float, makeup_db: float):
    sr = state[_SR]
    if attack_ms != state[_ATTACK_MS]:
        state[_ATTACK_MS] = attack_ms
        state[_ALPHA_A] = math.exp(-1.0 / max(attack_ms * 1e-3 * sr, 1e-9))
    if release_ms != state[_RELEASE_MS]:
        state[_RELEASE_MS] = release_ms
        state[_ALPHA_R] = math.exp(-1.0 / max(release_ms * 1e-3 * sr, 1e-9))
    if makeup_db != state[_MAKEUP_DB]:
        state[_MAKEUP_DB] = makeup_db
        n = state[_RAMP]
        state[_MAKEUP_STEP] = (db_to_gain(makeup_db) - state[_MAKEUP]) / n
        state[_MAKEUP_LEFT] = n


@njit(nogil=True, cache=True)
def _frame(level, gr, quiet, threshold_db, ratio, knee_db, slope, aA, aR):
    """One frame of detector, gain computer and smoothing; returns the new reduction (dB).

    Below the knee the static curve is the identity, so the target reduction is exactly 0
    and the level need not be taken to dB: linear levels under ``quiet`` lie more than
    8e-6 dB under the knee's start, far beyond any rounding of the dB comparison.
    """
    target = 0.0
    if not level < quiet:
        # gain_computer_db, inlined: target = level_db - output level (dB).
        level_db = _DB_PER_NEPER * math.log(level) if level > 1e-10 else _FLOOR_DB
        over = level_db - threshold_db
        if 2.0 * over < -knee_db:
            target = 0.0
        elif knee_db > 0.0 and 2.0 * abs(over) <= knee_db:
            t = over + 0.5 * knee_db
            target = level_db - (level_db + slope * t * t / (2.0 * knee_db))
        else:
            target = level_db - (threshold_db + over / ratio)
    # Both branches of the one-pole are computed so that only a select waits on the compare.
    g_attack = aA * gr + (1.0 - aA) * target
    g_release = aR * gr + (1.0 - aR) * target
    return g_attack if target > gr else g_release


@njit(nogil=True, cache=True)
def _linear_gain(gr):
    """``10 ** (-gr / 20)``; exp(-k * gr) rounds to exactly 1.0 for |k * gr| < 2**-54."""
    return math.exp(-_NEPER_PER_DB * gr) if abs(gr) > 1e-17 else 1.0


@njit(nogil=True, cache=True)
def process_sidechain(
    state: np.ndarray,
    threshold_db: float,
    ratio: float,
    knee_db: float,
    attack_ms: float,
    release_ms: float,
    makeup_db: float,
    x: np.ndarray,
    sidechain: np.ndarray,
    y: np.ndarray,
) -> None:
    """Compress ``x`` into ``y`` (n_channels, n_frames) with the gain driven by ``sidechain``.

    ``sidechain`` is planar (n_sc_channels, >= n_frames), linked across its channels.
    ``ratio`` >= 1 (x:1), ``knee_db`` >= 0 full knee width. ``y`` may be ``x``.
    """
    _update_coeffs(state, attack_ms, release_ms, makeup_db)
    ratio = max(ratio, 1.0)
    knee_db = max(knee_db, 0.0)
    aA = state[_ALPHA_A]
    aR = state[_ALPHA_R]
    use_mean = state[_LINK] == LINK_MEAN
    n_sc = sidechain.shape[0]
    n_ch = x.shape[0]
    n = x.shape[1]
    gr = state[_GR_DB]
    gr_max = state[_GR_MAX_DB]
    makeup = state[_MAKEUP]
    step = state[_MAKEUP_STEP]
    left = int(state[_MAKEUP_LEFT])
    quiet = math.exp(_NEPER_PER_DB * (threshold_db - 0.5 * knee_db)) * (1.0 - 1e-6)
    slope = 1.0 / ratio - 1.0
    if n_sc == 2 and n_ch == 2 and not use_mean and left == 0:
        # The common case (stereo, max-linked, makeup settled), without inner loops.
        for i in range(n):
            a0 = abs(float(sidechain[0, i]))
            a1 = abs(float(sidechain[1, i]))
            level = a0 if a0 > 0.0 else 0.0
            level = a1 if a1 > level else level
            gr = _frame(level, gr, quiet, threshold_db, ratio, knee_db, slope, aA, aR)
            gr_max = gr if gr > gr_max else gr_max
            g = makeup * _linear_gain(gr)
            y[0, i] = x[0, i] * g
            y[1, i] = x[1, i] * g
    else:
        makeup_target = db_to_gain(state[_MAKEUP_DB])
        for i in range(n):
            level = 0.0
            if use_mean:
                for c in range(n_sc):
                    level += abs(float(sidechain[c, i]))
                if n_sc > 0:
                    level /= n_sc
            else:
                for c in range(n_sc):
                    a = abs(float(sidechain[c, i]))
                    if a > level:
                        level = a
            gr = _frame(level, gr, quiet, threshold_db, ratio, knee_db, slope, aA, aR)
            gr_max = gr if gr > gr_max else gr_max
            if left > 0:
                left -= 1
                makeup = makeup_target if left == 0 else makeup + step
            g = makeup * _linear_gain(gr)
            for c in range(n_ch):
                y[c, i] = x[c, i] * g
    state[_GR_DB] = gr
    state[_GR_MAX_DB] = gr_max
    state[_MAKEUP] = makeup
    state[_MAKEUP_LEFT] = left


@njit(nogil=True, cache=True)
def process(
    state: np.ndarray,
    threshold_db: float,
    ratio: float,
    knee_db: float,
    attack_ms: float,
    release_ms: float,
    makeup_db: float,
    x: np.ndarray,
    y: np.ndarray,
) -> None:
    """Compress planar float32 ``x`` into ``y`` (n_channels, n_frames), self-keyed."""
    process_sidechain(state, threshold_db, ratio, knee_db, attack_ms, release_ms, makeup_db,
                      x, x, y)
