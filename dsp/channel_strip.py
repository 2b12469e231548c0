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
    for kind, f, q, g in _filters(rate_hz, p):
        state = biquad.prepare(2, rate_hz, kind, f, q, g)
        biquad.run(state, y, y)
    thr, ratio = p[INDEX["comp_threshold_db"]], p[INDEX["comp_ratio"]]
    comp = compressor.prepare(rate_hz, compressor.LINK_MAX)
    compressor.process(comp, thr, ratio, COMP_KNEE_DB, COMP_ATTACK_MS, COMP_RELEASE_MS, 0.0,
                       y, y)
    drive = p[INDEX["drive_db"]]
    saturation.process(saturation.prepare(2, rate_hz, drive, 2), drive, y, y)
    out = np.ascontiguousarray(y[:, LATENCY_FRAMES:])
    return place(out, p) if placed else out


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

