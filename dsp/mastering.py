"""The offline mix's mastering chain: bus compressor → tilt → (cuts) → side gain → gain →
limiter.

Built from the callback's kernels (``dsp.compressor``, ``dsp.biquad``, ``dsp.limiter``).
The tilt is a pair of shelves turned in opposite directions (the low one at ``TILT_LOW_HZ``
down by half of ``tilt_db``, the high one at ``TILT_HIGH_HZ`` up by half), which moves the
spectral centroid without changing the level of the middle. The side gain scales
S = (L - R) / 2 and so the M/S ratio by exactly its factor; the true-peak limiter holds
``CEILING_DBTP``. A low-cut and a high-cut (12 dB/oct) are off until the correction needs
more than the tilt can give. Everything before the limiter is :func:`pre_limiter`, so a
correction that only moves tilt, cuts, side and gain reruns the bus compressor never.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from dsp import biquad, compressor, limiter_offline
from dsp.param_table import Param, ParamTable
from dsp.units import db_to_gain

TILT_LOW_HZ = 250.0
TILT_HIGH_HZ = 2500.0
TILT_Q = 0.7071067811865476
BUS_KNEE_DB = 6.0
BUS_ATTACK_MS = 10.0
BUS_RELEASE_MS = 150.0
CEILING_DBTP = -1.0
LOW_CUT_OFF_HZ = 10.0
HIGH_CUT_OFF_HZ = 22000.0
CUT_Q = 0.7071067811865476
LIMITER_RELEASE_MS = 100.0


MASTER = ParamTable((
    Param("bus_threshold_db", -30.0, 0.0, 0.0),
    Param("bus_ratio", 1.0, 4.0, 1.0),
    Param("tilt_db", -24.0, 24.0, 0.0),  # each shelf up to 12 dB
    Param("side_db", -18.0, 12.0, 0.0),
    Param("gain_db", -24.0, 40.0, 0.0),  # a quiet, peaky sum may need a lot
    # correction only (the predictor never sets them): when the tilt is at its end, a
    # high-cut darkens further and a low-cut brightens; at their defaults they are off
    Param("low_cut_hz", LOW_CUT_OFF_HZ, 1000.0, LOW_CUT_OFF_HZ),
    Param("high_cut_hz", 1000.0, HIGH_CUT_OFF_HZ, HIGH_CUT_OFF_HZ),
    # and a faster limiter release when a loud target needs more than gain can give
    Param("limiter_release_ms", 10.0, LIMITER_RELEASE_MS, LIMITER_RELEASE_MS),
))
MASTER_PARAMS = MASTER.params
NAMES = MASTER.names
INDEX = MASTER.index
N_PARAMS = len(MASTER)
defaults, clamp, as_dict = MASTER.defaults, MASTER.clamp, MASTER.as_dict


def bus_compress(x: np.ndarray, rate_hz: int, params: np.ndarray) -> np.ndarray:
    """The bus compressor alone (stereo-linked), on a copy of ``x (2, n)`` float32."""
    p = clamp(params)
    y = np.array(x, dtype=np.float32)
    state = compressor.prepare(rate_hz, compressor.LINK_MAX)
    compressor.process(state, p[INDEX["bus_threshold_db"]], p[INDEX["bus_ratio"]],
                       BUS_KNEE_DB, BUS_ATTACK_MS, BUS_RELEASE_MS, 0.0, y, y)
    return y


def tone_filters(rate_hz: int, params: np.ndarray) -> list[tuple[int, float, float, float]]:
    """The tone stage's biquads in signal order, each (kind, freq_hz, q, gain_db): the tilt's
    shelves unless flat, then whichever cut is on."""
    p = clamp(params)
    out = []
    tilt = p[INDEX["tilt_db"]]
    if tilt != 0.0:
        out += [(biquad.LOWSHELF, TILT_LOW_HZ, TILT_Q, -0.5 * tilt),
                (biquad.HIGHSHELF, TILT_HIGH_HZ, TILT_Q, 0.5 * tilt)]
    low_cut, high_cut = p[INDEX["low_cut_hz"]], p[INDEX["high_cut_hz"]]
    if low_cut > LOW_CUT_OFF_HZ:
        out.append((biquad.HIGHPASS, low_cut, CUT_Q, 0.0))
    if high_cut < min(HIGH_CUT_OFF_HZ, 0.45 * rate_hz):
        out.append((biquad.LOWPASS, high_cut, CUT_Q, 0.0))
    return out


def tone(x: np.ndarray, rate_hz: int, params: np.ndarray) -> np.ndarray:
    """Tilt, side gain and gain (the linear stages after the bus compressor), on a copy."""
    p = clamp(params)
    y = np.array(x, dtype=np.float32)
    for kind, f, q, g in tone_filters(rate_hz, p):
        biquad.run(biquad.prepare(2, rate_hz, kind, f, q, g), y, y)
    _side_and_gain(y, np.float32(db_to_gain(p[INDEX["side_db"]])),
                   np.float32(db_to_gain(p[INDEX["gain_db"]])))
    return y


@njit(nogil=True, cache=True)
def _side_and_gain(y: np.ndarray, side: np.float32, gain: np.float32) -> None:
    """The side scaled by ``side``, both channels by ``gain``, in place, in float32 (the
    operations numpy ran on whole channels, one sample at a time: no temporaries)."""
    half = np.float32(0.5)
    half_side = half * side
    for i in range(y.shape[1]):
        mid = (y[0, i] + y[1, i]) * half
        s = (y[0, i] - y[1, i]) * half_side
        y[0, i] = (mid + s) * gain
        y[1, i] = (mid - s) * gain


def unit_delays(freqs_hz: np.ndarray, rate_hz: int) -> np.ndarray:
    """z⁻¹ at ``freqs_hz``: what :func:`tone_response` evaluates the filters on."""
    return np.exp(-2j * np.pi * np.asarray(freqs_hz, np.float64) / rate_hz)


def tone_response(freqs_hz: np.ndarray, rate_hz: int, params: np.ndarray,
                  z: np.ndarray | None = None) -> np.ndarray:
    """|H| of the tone stage's filters at ``freqs_hz`` (the side gain and gain aside): what
    :func:`tone` does to the spectrum of the mid and of the side alike. ``z``:
    :func:`unit_delays` of ``freqs_hz``, when a caller asks for many settings."""
    z = unit_delays(freqs_hz, rate_hz) if z is None else z
    h = np.ones(z.shape, np.complex128)
    for kind, f, q, g in tone_filters(rate_hz, params):
        b, a = biquad.coefficients(kind, f, q, g, rate_hz)
        h *= (b[0] + b[1] * z + b[2] * z * z) / (1.0 + a[1] * z + a[2] * z * z)
    return np.abs(h)


def pre_limiter(x: np.ndarray, rate_hz: int, params: np.ndarray) -> np.ndarray:
    return tone(bus_compress(x, rate_hz, params), rate_hz, params)


def limit(x: np.ndarray, rate_hz: int, release_ms: float = LIMITER_RELEASE_MS) -> np.ndarray:
    """The true-peak limiter at ``CEILING_DBTP``, its lookahead run out past the end and
    dropped from the start, so the output lines up with ``x`` (``dsp.limiter_offline``:
    the streaming limiter's output, its detector read on every core)."""
    return limiter_offline.limit(x, rate_hz, CEILING_DBTP, release_ms)
