"""Auto-mix: ride the master's loudness, brightness and stereo width towards a style's targets.

Three slow corrections, each from a measurement of the signal it acts on (feed-forward, so
there is no loop to oscillate):

- **brightness**: the share of the energy above ``SPLIT_HZ`` (2nd-order Butterworth
  high-pass), in dB (``10 log10(E_high / E_all)``), measured before a high shelf at the same
  corner. With low and high energies ``L`` and ``H`` and a target share ``r``, a shelf that
  raises the high band by ``g`` (power) gives the share ``r`` when ``g = r L / (H (1 - r))``.
- **width**: side-to-mid energy ratio in dB (``10 log10(E_side / E_mid)``, K-weighted),
  measured after the shelf; the side is scaled by the dB difference to the target.
- **loudness**: BS.1770 loudness of the shelved signal with the side gain applied
  (``-0.691 + 10 log10(2 (E_mid + s^2 E_side))``, K-weighted mid and side energies, since
  ``L^2 + R^2 = 2 (M^2 + S^2)``), and a gain to the target loudness.

The energies are exponential averages over ``TIME_CONSTANT_S`` of the hops (``HOP_S``) that
are above ``GATE_LUFS`` and no more than ``RELATIVE_GATE_LU`` below the level of every
hop above ``GATE_LUFS`` (a second average, so a quiet passage after a loud one is heard):
silence, a mic's noise floor and the gaps between beatbox hits neither pull the estimate
down nor make the gain rise, and a bias weight makes the estimate the plain mean of what
was heard while fewer than a time constant of hops are in. Corrections move at most
``RATE_DB_PER_S`` (gain: faster down than up), within fixed ranges, scaled by ``amount``
(0 leaves the signal untouched, bit for bit, once the corrections have returned to 0).

Everything runs per sample and decides once per hop counted across blocks, so the output
does not depend on how the audio is cut into blocks. State: one float64 vector.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dsp import biquad
from dsp.bs1770 import LOUDNESS_OFFSET_DB, k_weighting_coefficients
from dsp.units import db_to_gain

SPLIT_HZ = 2000.0  # brightness: energy above this, and the corner of the correcting shelf
MIN_RATE_HZ = 4 * SPLIT_HZ  # at or below this the auto-mix is off (the split needs room)
SHELF_Q = 0.7071
HOP_S = 0.005
TIME_CONSTANT_S = 3.0  # the EBU short-term window's length
GATE_LUFS = -50.0  # hops quieter than this are not measured
RELATIVE_GATE_LU = -20.0  # nor hops this far below the estimate (a mic's floor between phrases)
GAIN_RANGE_DB = (-24.0, 12.0)
SHELF_RANGE_DB = (-9.0, 9.0)
SIDE_RANGE_DB = (-24.0, 6.0)
RATE_DB_PER_S = 3.0  # shelf, side, and the gain going up
TRIM_PER_S = 0.1  # of the brightness error per second: slow against the 3 s averages
TRIM_RANGE_DB = 6.0
TRIM_SETTLED_DB = 0.1  # the trim integrates only while the shelf sits on its target
GAIN_DOWN_DB_PER_S = 6.0  # a sudden loud passage comes down twice as fast as a quiet one rises

# state layout
_SR, _HOP, _HOP_POS, _ALPHA = 0, 1, 2, 3
_AMOUNT, _T_LUFS, _T_BRIGHT, _T_WIDTH = 4, 5, 6, 7
# this hop's sums, and their averages in the same order (then the averages' bias weight):
# K-weighted mid and side after the shelf, all and high-band energy before and after it
_N_SUMS = 6
_ACC = 8
_E = _ACC + _N_SUMS
_KM, _KS, _ALL, _HIGH, _ALL_POST, _HIGH_POST = range(_N_SUMS)
_E_W = _E + _N_SUMS
# the hops' K-weighted energy behind the absolute gate alone, and its bias weight: where the
# relative gate sits (so a quieter passage after a loud one is still heard)
_E_ABS, _E_ABS_W = _E_W + 1, _E_W + 2
_GAIN_DB, _SHELF_DB, _SIDE_DB = _E_W + 3, _E_W + 4, _E_W + 5  # applied corrections
_TRIM_DB, _SHELF_T = _E_W + 6, _E_W + 7  # the shelf's integrated trim, its target this hop
# linear gain and side gain, and their per-sample steps
_G, _DG, _S, _DS = _E_W + 8, _E_W + 9, _E_W + 10, _E_W + 11
_HPF = _E_W + 12  # b0 b1 b2 a1 a2
_K1 = _HPF + 5  # K-weighting stage 1
_K2 = _K1 + 5  # K-weighting stage 2
_SH = _K2 + 5  # shelf coefficients now
_SH_STEP = _SH + 5  # their per-sample step towards the hop's design
_SH_NEXT = _SH_STEP + 5  # the hop's design
_Z = _SH_NEXT + 5  # filter memories: 2 signals (mid, side) x 5 filters x 2
_N_FILTERS = 5
_SIZE = _Z + 4 * _N_FILTERS
_F_HPF, _F_SHELF, _F_K1, _F_K2, _F_HPF_POST = range(_N_FILTERS)

READINGS = ("loudness_lufs", "brightness_db", "width_db", "gain_db", "shelf_db", "side_db")

_TINY = 1e-20
_DENORMAL = 1e-30


def butterworth_highpass(cutoff_hz: float, sample_rate_hz: float) -> tuple[float, ...]:
    """(b0, b1, b2, a1, a2) of the 2nd-order Butterworth high-pass, bilinear transform with
    the cutoff prewarped (what ``scipy.signal.butter(2, f, "highpass", fs=fs)`` designs;
    closed form here so the engine's start does not import scipy.signal)."""
    k = math.tan(math.pi * cutoff_hz / sample_rate_hz)
    norm = 1.0 / (1.0 + math.sqrt(2.0) * k + k * k)
    return (norm, -2.0 * norm, norm, 2.0 * (k * k - 1.0) * norm,
            (1.0 - math.sqrt(2.0) * k + k * k) * norm)


def prepare(sample_rate_hz: float, time_constant_s: float = TIME_CONSTANT_S) -> np.ndarray:
    """Allocate an auto-mix state for ``sample_rate_hz`` with ``amount`` 0 (untouched).

    ``time_constant_s``: of the averages; a very long one (a measurement of a whole file)
    makes them the plain mean of every hop that passed the gates."""
    state = np.zeros(_SIZE)
    if not sample_rate_hz > MIN_RATE_HZ:
        return state  # _HOP 0: process leaves the audio alone (no 2 kHz split to measure)
    hop = max(1, round(HOP_S * sample_rate_hz))
    state[_SR] = sample_rate_hz
    state[_HOP] = hop
    state[_ALPHA] = -math.expm1(-hop / (time_constant_s * sample_rate_hz))
    state[_HPF:_HPF + 5] = butterworth_highpass(SPLIT_HZ, sample_rate_hz)
    kb, ka = k_weighting_coefficients(sample_rate_hz)
    state[_K1:_K1 + 5] = kb[0, 0], kb[0, 1], kb[0, 2], ka[0, 1], ka[0, 2]
    state[_K2:_K2 + 5] = kb[1, 0], kb[1, 1], kb[1, 2], ka[1, 1], ka[1, 2]
    biquad.design(biquad.HIGHSHELF, SPLIT_HZ, SHELF_Q, 0.0, sample_rate_hz,
                  state[_SH:_SH + 5])
    state[_SH_NEXT:_SH_NEXT + 5] = state[_SH:_SH + 5]
    state[_G] = 1.0
    state[_S] = 1.0
    return state


@njit(nogil=True, cache=True)
def set_params(state: np.ndarray, amount: float, loudness_lufs: float, brightness_db: float,
               width_db: float) -> None:
    """Set the strength (0 … 1) and the targets; they take effect from the next hop."""
    state[_AMOUNT] = min(max(amount, 0.0), 1.0)
    state[_T_LUFS] = loudness_lufs
    state[_T_BRIGHT] = min(brightness_db, -0.01)  # a share of the energy: below 0 dB
    state[_T_WIDTH] = width_db


@njit(nogil=True, cache=True, inline="always")
def _tdf2(state, c, z, v):
    """One transposed direct form II biquad step: coefficients at ``c``, memory at ``z``."""
    y = state[c] * v + state[z]
    state[z] = state[c + 1] * v - state[c + 3] * y + state[z + 1]
    state[z + 1] = state[c + 2] * v - state[c + 4] * y
    return y


@njit(nogil=True, cache=True, inline="always")
def _mem(signal, filt):
    return _Z + 2 * _N_FILTERS * signal + 2 * filt


@njit(nogil=True, cache=True)
def _db(energy_ratio: float) -> float:
    return 10.0 * math.log10(max(energy_ratio, _TINY))


@njit(nogil=True, cache=True)
def _clamp(v: float, lo: float, hi: float) -> float:
    return min(max(v, lo), hi)


@njit(nogil=True, cache=True)
def _slew(now: float, target: float, up: float, down: float) -> float:
    return now + _clamp(target - now, -down, up)


@njit(nogil=True, cache=True)
def measured(state: np.ndarray) -> tuple[float, float, float]:
    """The averages so far: loudness before the gain and side, brightness before the
    shelf, width before the side gain, in LUFS / dB / dB (-inf while nothing was heard)."""
    w = state[_E_W]
    if w <= 0.0:
        return -math.inf, -math.inf, -math.inf
    km, ks = state[_E + _KM] / w, state[_E + _KS] / w
    loud = LOUDNESS_OFFSET_DB + _db(2.0 * (km + ks))
    bright = _db(state[_E + _HIGH] / max(state[_E + _ALL], _TINY))
    width = _db(ks / max(km, _TINY))
    return loud, bright, width


@njit(nogil=True, cache=True)
def _end_of_hop(state: np.ndarray) -> None:
    hop = state[_HOP]
    hop_energy = 2.0 * (state[_ACC + _KM] + state[_ACC + _KS]) / hop
    hop_lufs = LOUDNESS_OFFSET_DB + _db(hop_energy)
    a = state[_ALPHA]
    above_floor = hop_lufs > GATE_LUFS
    if above_floor:
        state[_E_ABS] += a * (hop_energy - state[_E_ABS])
        state[_E_ABS_W] += a * (1.0 - state[_E_ABS_W])
    level_lufs = LOUDNESS_OFFSET_DB + _db(state[_E_ABS] / max(state[_E_ABS_W], _TINY))
    heard = above_floor and hop_lufs > level_lufs + RELATIVE_GATE_LU
    if heard:
        for k in range(_N_SUMS):
            state[_E + k] += a * (state[_ACC + k] / hop - state[_E + k])
        state[_E_W] += a * (1.0 - state[_E_W])
    for k in range(_N_SUMS):
        state[_ACC + k] = 0.0
    for z in range(_Z, _SIZE):  # decayed filter memories would go denormal (slow) in silence
        if abs(state[z]) < _DENORMAL:
            state[z] = 0.0

    amount = state[_AMOUNT]
    hop_s = hop / state[_SR]
    gain_t, shelf_t, side_t = 0.0, 0.0, 0.0
    w = state[_E_W]
    if amount == 0.0:
        state[_TRIM_DB] = 0.0
    elif w > 0.0:
        km, ks = state[_E + _KM] / w, state[_E + _KS] / w
        high, high_post = state[_E + _HIGH] / w, state[_E + _HIGH_POST] / w
        low = state[_E + _ALL] / w - high
        low_post = state[_E + _ALL_POST] / w - high_post
        if high > _TINY and low > _TINY and high_post > _TINY and low_post > _TINY:
            r = 10.0 ** (state[_T_BRIGHT] / 10.0)
            # feed-forward: right for a brick-wall split; the trim integrates what the
            # shelf's gentler transition leaves, once the shelf has caught up (no windup)
            target_db = _db(high / (high + low))
            target_db += amount * (state[_T_BRIGHT] - target_db)
            settled = abs(state[_SHELF_DB] - state[_SHELF_T]) < TRIM_SETTLED_DB
            feed_db = amount * _db(r * low / (high * (1.0 - r)))
            if heard and settled:
                err = target_db - _db(high_post / (high_post + low_post))
                # the trim never takes the shelf past its range: no windup at the clamp
                lo = max(-TRIM_RANGE_DB, SHELF_RANGE_DB[0] - feed_db)
                hi = min(TRIM_RANGE_DB, SHELF_RANGE_DB[1] - feed_db)
                state[_TRIM_DB] = _clamp(state[_TRIM_DB] + TRIM_PER_S * hop_s * err,
                                         min(lo, 0.0), max(hi, 0.0))
            shelf_t = _clamp(feed_db + state[_TRIM_DB], SHELF_RANGE_DB[0], SHELF_RANGE_DB[1])
        if ks > _TINY and km > _TINY:
            side_t = amount * _clamp(state[_T_WIDTH] - _db(ks / km), SIDE_RANGE_DB[0],
                                     SIDE_RANGE_DB[1])
        s2 = 10.0 ** (side_t / 10.0)
        loud = LOUDNESS_OFFSET_DB + _db(2.0 * (km + s2 * ks))
        gain_t = amount * _clamp(state[_T_LUFS] - loud, GAIN_RANGE_DB[0], GAIN_RANGE_DB[1])
    state[_SHELF_T] = shelf_t
    step = RATE_DB_PER_S * hop_s
    state[_GAIN_DB] = _slew(state[_GAIN_DB], gain_t, step, GAIN_DOWN_DB_PER_S * hop_s)
    state[_SHELF_DB] = _slew(state[_SHELF_DB], shelf_t, step, step)
    state[_SIDE_DB] = _slew(state[_SIDE_DB], side_t, step, step)

    # ramp to the new settings over the next hop (linear coefficients stay stable: the
    # stable (a1, a2) region is convex)
    state[_DG] = (db_to_gain(state[_GAIN_DB]) - state[_G]) / hop
    state[_DS] = (db_to_gain(state[_SIDE_DB]) - state[_S]) / hop
    biquad.design(biquad.HIGHSHELF, SPLIT_HZ, SHELF_Q, state[_SHELF_DB], state[_SR],
                  state[_SH_NEXT:_SH_NEXT + 5])
    for k in range(5):
        state[_SH_STEP + k] = (state[_SH_NEXT + k] - state[_SH + k]) / hop


@njit(nogil=True, cache=True)
def _land(state: np.ndarray) -> None:
    """Gain, side gain and shelf coefficients set to the applied corrections' values."""
    state[_G] = db_to_gain(state[_GAIN_DB])
    state[_S] = db_to_gain(state[_SIDE_DB])
    for k in range(5):
        state[_SH + k] = state[_SH_NEXT + k]


@njit(nogil=True, cache=True)
def _untouched(state: np.ndarray) -> bool:
    """Amount 0 and every correction back at 0: the output is the input, bit for bit."""
    return (state[_AMOUNT] == 0.0 and state[_GAIN_DB] == 0.0 and state[_SHELF_DB] == 0.0
            and state[_SIDE_DB] == 0.0 and state[_G] == 1.0 and state[_S] == 1.0)


@njit(nogil=True, cache=True)
def process(state: np.ndarray, x: np.ndarray) -> None:
    """Measure and correct ``x`` (2, n) in place; any n. Non-finite samples count as 0."""
    hop = int(state[_HOP])
    if hop == 0:
        return  # prepared at a rate too low to measure brightness: off
    pos = int(state[_HOP_POS])
    hpf_m, hpf_s = _mem(0, _F_HPF), _mem(1, _F_HPF)
    sh_m, sh_s = _mem(0, _F_SHELF), _mem(1, _F_SHELF)
    k1_m, k1_s = _mem(0, _F_K1), _mem(1, _F_K1)
    k2_m, k2_s = _mem(0, _F_K2), _mem(1, _F_K2)
    hp2_m, hp2_s = _mem(0, _F_HPF_POST), _mem(1, _F_HPF_POST)
    for i in range(x.shape[1]):
        left = np.float64(x[0, i])
        right = np.float64(x[1, i])
        if not (math.isfinite(left) and math.isfinite(right)):
            left, right = 0.0, 0.0
        mid = 0.5 * (left + right)
        side = 0.5 * (left - right)
        hm = _tdf2(state, _HPF, hpf_m, mid)
        hs = _tdf2(state, _HPF, hpf_s, side)
        state[_ACC + _ALL] += mid * mid + side * side
        state[_ACC + _HIGH] += hm * hm + hs * hs
        mid = _tdf2(state, _SH, sh_m, mid)
        side = _tdf2(state, _SH, sh_s, side)
        hm = _tdf2(state, _HPF, hp2_m, mid)
        hs = _tdf2(state, _HPF, hp2_s, side)
        state[_ACC + _ALL_POST] += mid * mid + side * side
        state[_ACC + _HIGH_POST] += hm * hm + hs * hs
        km = _tdf2(state, _K2, k2_m, _tdf2(state, _K1, k1_m, mid))
        ks = _tdf2(state, _K2, k2_s, _tdf2(state, _K1, k1_s, side))
        state[_ACC + _KM] += km * km
        state[_ACC + _KS] += ks * ks
        if not _untouched(state):
            g = state[_G]
            s = state[_S]
            x[0, i] = g * (mid + s * side)
            x[1, i] = g * (mid - s * side)
        state[_G] += state[_DG]
        state[_S] += state[_DS]
        for k in range(5):
            state[_SH + k] += state[_SH_STEP + k]
        pos += 1
        if pos >= hop:
            pos = 0
            _land(state)  # exactly on the hop's values (no drift from summed steps)
            _end_of_hop(state)
    state[_HOP_POS] = pos


def restart(state: np.ndarray) -> None:
    """Start a new signal from the corrections and averages reached so far (filters and
    the hop cleared): offline, a first pass over a file settles them, so the second pass
    is corrected from its first sample."""
    if state[_HOP] == 0.0:
        return  # off at this rate
    state[_Z:_SIZE] = 0.0
    state[_HOP_POS] = 0.0
    state[_ACC:_ACC + _N_SUMS] = 0.0
    biquad.design(biquad.HIGHSHELF, SPLIT_HZ, SHELF_Q, float(state[_SHELF_DB]), state[_SR],
                  state[_SH_NEXT:_SH_NEXT + 5])
    _land(state)
    state[_DG] = state[_DS] = 0.0
    state[_SH_STEP:_SH_STEP + 5] = 0.0


def readings(state: np.ndarray) -> dict[str, float]:
    """What the auto-mix measures and applies now (``READINGS``), for meters."""
    loud, bright, width = measured(state)
    return dict(zip(READINGS, (loud, bright, width, float(state[_GAIN_DB]),
                               float(state[_SHELF_DB]), float(state[_SIDE_DB])), strict=True))
