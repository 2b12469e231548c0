"""A mixing desk's channel strip for one stem, built from the callback's own kernels.

Signal path, stereo in and out: high-pass (``dsp.biquad``, 12 dB/oct) → low shelf at
``LOW_SHELF_HZ`` → mid peak → high shelf at ``HIGH_SHELF_HZ`` → compressor
(``dsp.compressor``, max-linked, fixed knee and times) → tanh saturation at 2x
(``dsp.saturation``) → width (side scaled) → constant-power pan (``dsp.stereo.pan_gains``)
→ gain. The saturation's oversampling filters delay the output by ``LATENCY_FRAMES`` at any
rate; :func:`process` returns the output aligned with the input.

The parameters of one strip are one float64 row (``STRIP_PARAMS`` in order), so a
predictor's output, a report and a DAW export all speak the same vector.
``models.automix.twin`` is its differentiable torch twin (equal within 1e-3, tested).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from dsp import biquad, compressor, saturation
from dsp.param_table import Param, ParamTable
from dsp.stereo import pan_gains
from dsp.units import db_to_gain

LOW_SHELF_HZ = 150.0
HIGH_SHELF_HZ = 5000.0
SHELF_Q = 0.7071067811865476
MID_Q = 1.0
HPF_Q = 0.7071067811865476
COMP_KNEE_DB = 6.0
COMP_ATTACK_MS = 10.0
COMP_RELEASE_MS = 120.0
LATENCY_FRAMES = (saturation.STAGE1_TAPS - 1) // 2  # 2x oversampling's group delay


STRIP = ParamTable((
    Param("hpf_hz", 20.0, 400.0, 30.0, log=True),
    Param("low_db", -12.0, 12.0, 0.0),
    Param("mid_hz", 250.0, 5000.0, 1000.0, log=True),
    Param("mid_db", -12.0, 12.0, 0.0),
    Param("high_db", -12.0, 12.0, 0.0),
    Param("comp_threshold_db", -40.0, 0.0, 0.0),
    Param("comp_ratio", 1.0, 8.0, 1.0),
    Param("drive_db", 0.0, 18.0, 0.0),
    Param("width", 0.0, 2.0, 1.0),
    Param("pan", -1.0, 1.0, 0.0),
    Param("gain_db", -30.0, 18.0, 0.0),
))
STRIP_PARAMS = STRIP.params
NAMES = STRIP.names
INDEX = STRIP.index
N_PARAMS = len(STRIP)
# the defaults: a strip that only saturates full-scale peaks (flat EQ, 1:1, centred, 0 dB)
defaults, clamp, as_dict = STRIP.defaults, STRIP.clamp, STRIP.as_dict


def _filters(rate_hz: float, p: np.ndarray) -> list[tuple[int, float, float, float]]:
    return [(biquad.HIGHPASS, p[INDEX["hpf_hz"]], HPF_Q, 0.0),
            (biquad.LOWSHELF, LOW_SHELF_HZ, SHELF_Q, p[INDEX["low_db"]]),
            (biquad.PEAK, p[INDEX["mid_hz"]], MID_Q, p[INDEX["mid_db"]]),
            (biquad.HIGHSHELF, HIGH_SHELF_HZ, SHELF_Q, p[INDEX["high_db"]])]


def filter_coefficients(rate_hz: float, params: np.ndarray) -> np.ndarray:
    """The four biquads' normalised (b0, b1, b2, a1, a2) rows, in signal order."""
    out = np.zeros((4, 5))
    for row, (kind, f, q, g) in zip(out, _filters(rate_hz, params), strict=True):
        biquad.design(kind, float(f), float(q), float(g), float(rate_hz), row)
    return out


def process(x: np.ndarray, rate_hz: int, params: np.ndarray, placed: bool = True
            ) -> np.ndarray:
    """``x`` float32 ``(2, n)`` through the strip set by ``params`` (N_PARAMS,), clamped to
    the ranges; returns a new float32 ``(2, n)`` aligned with ``x`` (the oversampling delay
    run out past the end and dropped from the start). ``placed=False`` stops before width,
    pan and gain (``place`` applies them)."""
    p = clamp(np.asarray(params, dtype=np.float64))
    n = x.shape[1]
    y = np.zeros((2, n + LATENCY_FRAMES), np.float32)
    y[:, :n] = x
    _equalise(filter_coefficients(rate_hz, p), y)
    thr, ratio = p[INDEX["comp_threshold_db"]], p[INDEX["comp_ratio"]]
    comp = compressor.prepare(rate_hz, compressor.LINK_MAX)
    compressor.process(comp, thr, ratio, COMP_KNEE_DB, COMP_ATTACK_MS, COMP_RELEASE_MS, 0.0,
                       y, y)
    drive = p[INDEX["drive_db"]]
    saturation.process(saturation.prepare(2, rate_hz, drive, 2), drive, y, y)
    out = np.ascontiguousarray(y[:, LATENCY_FRAMES:])
    return place(out, p) if placed else out


@njit(nogil=True, cache=True, inline="always")
def _tdf2(x: float, c: tuple, z1: float, z2: float) -> tuple[float, float, float]:
    """``dsp.biquad.tdf2`` with the coefficients as one tuple."""
    b0, b1, b2, a1, a2 = c
    return biquad.tdf2(x, b0, b1, b2, a1, a2, z1, z2)


@njit(nogil=True, cache=True, inline="always")
def _f32(v: float) -> float:
    return float(np.float32(v))  # as the float32 buffer between two biquad passes rounds


@njit(nogil=True, cache=True, inline="always")
def _skewed(i: int, n: int, x: float, c: tuple, z: tuple, u: tuple
            ) -> tuple[float, tuple, tuple]:
    """Step ``i`` of one channel: filter 0 on sample i, 1 on i - 1, 2 on i - 2, 3 on i - 3,
    each only inside its own run (it starts at its first sample and stops after the last,
    so it sees exactly its input). ``z``: the four filters' memories; ``u``: what filters 0,
    1 and 2 gave one step ago. Returns filter 3's output, ``z`` and ``u``."""
    c0, c1, c2, c3 = c
    p0, q0, p1, q1, p2, q2, p3, q3 = z
    u0, u1, u2 = u
    y3 = 0.0
    if i >= 3:
        y3, p3, q3 = _tdf2(u2, c3, p3, q3)
    if 2 <= i < n + 2:
        y2, p2, q2 = _tdf2(u1, c2, p2, q2)
        u2 = _f32(y2)
    if 1 <= i < n + 1:
        y1, p1, q1 = _tdf2(u0, c1, p1, q1)
        u1 = _f32(y1)
    if i < n:
        y0, p0, q0 = _tdf2(x, c0, p0, q0)
        u0 = _f32(y0)
    return y3, (p0, q0, p1, q1, p2, q2, p3, q3), (u0, u1, u2)


@njit(nogil=True, cache=True)
def _equalise(coef: np.ndarray, y: np.ndarray) -> None:
    """The four biquads of ``coef`` (rows b0, b1, b2, a1, a2) over ``y (2, n)``, in place,
    from rest, in one pass with the filters skewed by a sample each (:func:`_skewed`), so
    the eight recursions of the two channels run side by side instead of one after another
    (7.1 -> 4.8 ms for 10 s of stereo here, against four passes of ``dsp.biquad.run``);
    each filter's output is rounded to float32 as between those passes: the same to the
    bit (tested)."""
    c = ((coef[0, 0], coef[0, 1], coef[0, 2], coef[0, 3], coef[0, 4]),
         (coef[1, 0], coef[1, 1], coef[1, 2], coef[1, 3], coef[1, 4]),
         (coef[2, 0], coef[2, 1], coef[2, 2], coef[2, 3], coef[2, 4]),
         (coef[3, 0], coef[3, 1], coef[3, 2], coef[3, 3], coef[3, 4]))
    n = y.shape[1]
    za = zb = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    ua = ub = (0.0, 0.0, 0.0)
    edge = min(3, n)
    for i in range(edge):  # the filters starting one by one
        _, za, ua = _skewed(i, n, float(y[0, i]), c, za, ua)
        _, zb, ub = _skewed(i, n, float(y[1, i]), c, zb, ub)
    for i in range(edge, n):  # all four running: the same steps, no branches
        ya, za, ua = _skewed(3, n + 3, float(y[0, i]), c, za, ua)
        yb, zb, ub = _skewed(3, n + 3, float(y[1, i]), c, zb, ub)
        y[0, i - 3] = ya
        y[1, i - 3] = yb
    for i in range(max(n, edge), n + 3):  # the last three stopping
        ya, za, ua = _skewed(i, n, 0.0, c, za, ua)
        yb, zb, ub = _skewed(i, n, 0.0, c, zb, ub)
        if i >= 3:
            y[0, i - 3] = ya
            y[1, i - 3] = yb


def place(y: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Width, pan and gain of ``params`` applied to ``y (2, n)`` (a new array)."""
    ll, rl, lr, rr = (np.float32(v) for v in place_gains(
        params[INDEX["width"]], params[INDEX["pan"]], params[INDEX["gain_db"]]))
    out = np.empty_like(y)
    out[0] = ll * y[0] + rl * y[1]
    out[1] = lr * y[0] + rr * y[1]
    return out


def mix_placed(unplaced: list[np.ndarray], strips: np.ndarray) -> np.ndarray:
    """The sum of every ``unplaced[k] (2, n)`` placed by ``strips[k]``: what summing
    :func:`place` of each gives (the same float32 operations in the same order), without a
    placed copy of each stem."""
    total = np.zeros_like(unplaced[0])
    for y, params in zip(unplaced, strips, strict=True):
        gains = place_gains(params[INDEX["width"]], params[INDEX["pan"]],
                            params[INDEX["gain_db"]])
        _add_placed(total, y, *(np.float32(g) for g in gains))
    return total


@njit(nogil=True, cache=True)
def _add_placed(total: np.ndarray, y: np.ndarray, ll: np.float32, rl: np.float32,
                lr: np.float32, rr: np.float32) -> None:
    for i in range(y.shape[1]):
        total[0, i] += ll * y[0, i] + rl * y[1, i]
        total[1, i] += lr * y[0, i] + rr * y[1, i]


def place_gains(width: float, pan: float, gain_db: float) -> tuple[float, float, float, float]:
    """The 2x2 matrix ``[[ll, rl], [lr, rr]]`` (as ll, rl, lr, rr: output L from input L
    and R, output R from input L and R) of width, then pan, then gain."""
    gl, gr = pan_gains(pan)
    g = db_to_gain(gain_db)
    # M/S with the side scaled: L' = (1+w)/2 L + (1-w)/2 R, R' = (1-w)/2 L + (1+w)/2 R
    a, b = 0.5 * (1.0 + width), 0.5 * (1.0 - width)
    return g * gl * a, g * gl * b, g * gr * b, g * gr * a

