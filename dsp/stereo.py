"""Stereo tools: M/S, width with mono bass, the mixer's pan law, correlation meter.

All buffers are planar float32 ``(2, n_frames)`` and may be processed in place. M/S uses the
halved convention ``M = (L + R) / 2``, ``S = (L - R) / 2`` so ``L = M + S`` and ``R = M - S``
exactly.

Width splits mid and side with the same Linkwitz-Riley 4th-order crossover (two cascaded
Butterworth TPT state-variable sections per band). LR4 low + high sums to a 2nd-order allpass,
so at width 1 the output is the input through that allpass: identical magnitude response, only
phase around ``crossover_hz`` changes. The side gains are:

- above the crossover: ``width`` (0 = mono, 1 = unchanged, 2 = side doubled);
- below the crossover: ``width`` up to 1, then falling to 0 at width 2, so widening never widens
  the bass and the bass is fully mono at width 2.

Gains are smoothed with a one-pole (``smoothing_ms``) so parameter changes do not click.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# ---------------------------------------------------------------------------------------------
# M/S


@njit(nogil=True, cache=True)
def ms_encode(x: np.ndarray, y: np.ndarray) -> None:
    """L/R -> M/S: y[0] = (L + R) / 2, y[1] = (L - R) / 2. x, y: (2, n_frames); in place ok."""
    for i in range(x.shape[1]):
        left = x[0, i]
        right = x[1, i]
        y[0, i] = 0.5 * (left + right)
        y[1, i] = 0.5 * (left - right)


@njit(nogil=True, cache=True)
def ms_decode(x: np.ndarray, y: np.ndarray) -> None:
    """M/S -> L/R: y[0] = M + S, y[1] = M - S. x, y: (2, n_frames); in place ok."""
    for i in range(x.shape[1]):
        mid = x[0, i]
        side = x[1, i]
        y[0, i] = mid + side
        y[1, i] = mid - side


# ---------------------------------------------------------------------------------------------
# Width with Linkwitz-Riley bass split

_W_SR = 0
_W_G = 1  # TPT prewarped gain tan(pi * fc / sr)
_W_A1 = 2
_W_A2 = 3
_W_A3 = 4
_W_WIDTH = 5  # target width
_W_GLO = 6  # smoothed bass side gain
_W_GHI = 7  # smoothed upper side gain
_W_SMOOTH = 8  # one-pole coefficient per sample
_W_XOVER = 9
_W_FILT = 10  # 2 signals (mid, side) x 3 SVF sections x 2 integrator states
_W_SIZE = _W_FILT + 12

_SQRT2 = math.sqrt(2.0)


def _one_pole_coef(sample_rate_hz: float, smoothing_ms: float) -> float:
    if smoothing_ms <= 0:
        return 1.0
    return 1.0 - math.exp(-1000.0 / (smoothing_ms * sample_rate_hz))


def prepare_width(
    sample_rate_hz: float,
    crossover_hz: float = 120.0,
    width: float = 1.0,
    smoothing_ms: float = 20.0,
) -> np.ndarray:
    """Allocate a stereo-width state.

    sample_rate_hz: audio rate; crossover_hz: bass split frequency (LR4, -6 dB point);
    width: 0 (mono) … 1 (unchanged) … 2 (extra wide, bass mono); smoothing_ms: one-pole time
    constant of width changes. Returns float64 (22,).
    """
    state = np.zeros(_W_SIZE, dtype=np.float64)
    state[_W_SR] = sample_rate_hz
    state[_W_SMOOTH] = _one_pole_coef(sample_rate_hz, smoothing_ms)
    set_crossover(state, crossover_hz)
    set_width(state, width)
    reset_width(state)
    return state


@njit(nogil=True, cache=True)
def _side_gains(width: float) -> tuple[float, float]:
    g_hi = min(max(width, 0.0), 2.0)
    g_lo = min(g_hi, 2.0 - g_hi)
    return g_lo, g_hi


@njit(nogil=True, cache=True)
def set_width(state: np.ndarray, width: float) -> None:
    """Set the target width (0 … 2, clamped); reached with the smoothing time constant."""
    state[_W_WIDTH] = min(max(width, 0.0), 2.0)


@njit(nogil=True, cache=True)
def set_crossover(state: np.ndarray, crossover_hz: float) -> None:
    """Set the bass split frequency in Hz (clamped to 10 Hz … 0.45 * sample rate)."""
    sr = state[_W_SR]
    fc = min(max(crossover_hz, 10.0), 0.45 * sr)
    g = math.tan(math.pi * fc / sr)
    a1 = 1.0 / (1.0 + g * (g + _SQRT2))
    state[_W_XOVER] = fc
    state[_W_G] = g
    state[_W_A1] = a1
    state[_W_A2] = g * a1
    state[_W_A3] = g * g * a1


@njit(nogil=True, cache=True)
def reset_width(state: np.ndarray) -> None:
    """Clear the crossover filters and jump the gains to the target width."""
    for i in range(_W_FILT, _W_SIZE):
        state[i] = 0.0
    g_lo, g_hi = _side_gains(state[_W_WIDTH])
    state[_W_GLO] = g_lo
    state[_W_GHI] = g_hi


@njit(nogil=True, cache=True)
def _svf(state: np.ndarray, o: int, v0: float, a1: float, a2: float, a3: float):
    # Zavalishin TPT state-variable filter, Q = 1/sqrt(2) (Butterworth); returns (low, high).
    ic1 = state[o]
    ic2 = state[o + 1]
    v3 = v0 - ic2
    v1 = a1 * ic1 + a2 * v3
    v2 = ic2 + a2 * ic1 + a3 * v3
    state[o] = 2.0 * v1 - ic1
    state[o + 1] = 2.0 * v2 - ic2
    return v2, v0 - _SQRT2 * v1 - v2


@njit(nogil=True, cache=True)
def _lr4_split(state: np.ndarray, o: int, v: float, a1: float, a2: float, a3: float):
    # LR4 = Butterworth squared: the first section feeds a second low and a second high one.
    lo1, hi1 = _svf(state, o, v, a1, a2, a3)
    lo, _ = _svf(state, o + 2, lo1, a1, a2, a3)
    _, hi = _svf(state, o + 4, hi1, a1, a2, a3)
    return lo, hi


@njit(nogil=True, cache=True)
def process_width(state: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """Apply stereo width. x, y: float32 (2, n_frames); in place ok."""
    a1 = state[_W_A1]
    a2 = state[_W_A2]
    a3 = state[_W_A3]
    k = state[_W_SMOOTH]
    t_lo, t_hi = _side_gains(state[_W_WIDTH])
    g_lo = state[_W_GLO]
    g_hi = state[_W_GHI]
    for i in range(x.shape[1]):
        left = np.float64(x[0, i])
        right = np.float64(x[1, i])
        g_lo += k * (t_lo - g_lo)
        g_hi += k * (t_hi - g_hi)
        # Mid goes through the same crossover as the side so both see the same allpass phase.
        m_lo, m_hi = _lr4_split(state, _W_FILT, 0.5 * (left + right), a1, a2, a3)
        s_lo, s_hi = _lr4_split(state, _W_FILT + 6, 0.5 * (left - right), a1, a2, a3)
        mid = m_lo + m_hi
        side = g_lo * s_lo + g_hi * s_hi
        y[0, i] = mid + side
        y[1, i] = mid - side
    state[_W_GLO] = g_lo
    state[_W_GHI] = g_hi


# ---------------------------------------------------------------------------------------------
# Pan (the mixer's pan law)


@njit(nogil=True, cache=True, inline="always")
def pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power pan with unity at the centre: pan -1 (left) … 1 (right) -> (gain_l,
    gain_r), ``gain_l**2 + gain_r**2 = 2``; hard left is +3 dB on the left."""
    theta = (pan + 1.0) * (math.pi / 4.0)
    return math.sqrt(2.0) * math.cos(theta), math.sqrt(2.0) * math.sin(theta)


# ---------------------------------------------------------------------------------------------
# Correlation meter

_C_COEF = 0
_C_LR = 1  # exponential average of L*R
_C_LL = 2  # of L*L
_C_RR = 3  # of R*R
_C_VALUE = 4
_C_SIZE = 5

# Below this mean power (about -200 dBFS) the meter reads 0 instead of dividing noise by noise.
_C_FLOOR = 1e-20


def prepare_correlation(sample_rate_hz: float, time_constant_ms: float = 300.0) -> np.ndarray:
    """Allocate a correlation (phase) meter state.

    time_constant_ms: time constant of the exponential averages. Returns float64 (5,).
    """
    state = np.zeros(_C_SIZE, dtype=np.float64)
    state[_C_COEF] = _one_pole_coef(sample_rate_hz, time_constant_ms)
    return state


@njit(nogil=True, cache=True)
def reset_correlation(state: np.ndarray) -> None:
    """Clear the averages; the meter reads 0 until signal arrives."""
    for i in range(_C_LR, _C_SIZE):
        state[i] = 0.0


@njit(nogil=True, cache=True)
def process_correlation(state: np.ndarray, x: np.ndarray) -> float:
    """Feed a stereo block and return the current correlation in [-1, 1].

    x: float32 (2, n_frames), not modified. The value is the zero-mean Pearson correlation
    E[LR] / sqrt(E[L^2] E[R^2]) with exponential averaging (audio is taken as DC-free, as in
    hardware phase meters): +1 mono, 0 unrelated channels, -1 phase-inverted; 0 in silence.
    """
    c = state[_C_COEF]
    e_lr = state[_C_LR]
    e_ll = state[_C_LL]
    e_rr = state[_C_RR]
    for i in range(x.shape[1]):
        left = np.float64(x[0, i])
        right = np.float64(x[1, i])
        e_lr += c * (left * right - e_lr)
        e_ll += c * (left * left - e_ll)
        e_rr += c * (right * right - e_rr)
    state[_C_LR] = e_lr
    state[_C_LL] = e_ll
    state[_C_RR] = e_rr
    denom = e_ll * e_rr
    if denom > _C_FLOOR * _C_FLOOR:
        value = min(max(e_lr / math.sqrt(denom), -1.0), 1.0)
    else:
        value = 0.0
    state[_C_VALUE] = value
    return value


@njit(nogil=True, cache=True)
def correlation(state: np.ndarray) -> float:
    """Last correlation value computed by process_correlation (-1 … 1)."""
    return state[_C_VALUE]
