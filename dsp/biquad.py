"""RBJ Audio EQ Cookbook biquads, Transposed Direct Form II, with click-free parameter changes.

State is one float64 vector (see ``prepare``). Coefficients are redesigned only when a
parameter differs from the cached one, then moved linearly per sample to the new design
over ``smoothing_ms``. Linear interpolation keeps the filter stable: the region of stable
``(a1, a2)`` pairs is a triangle, which is convex.
"""

import math

import numpy as np
from numba import njit

LOWPASS = 0
HIGHPASS = 1
BANDPASS = 2  # constant 0 dB peak gain
NOTCH = 3
PEAK = 4
LOWSHELF = 5
HIGHSHELF = 6
BYPASS = 7  # identity; lets a band fade out instead of switching off with a click

# State layout (indices into the float64 state vector).
_NCH, _SR, _RAMP, _LEFT = 0, 1, 2, 3
_KIND, _FREQ, _Q, _GAIN = 4, 5, 6, 7
_COEF, _STEP, _TARGET = 8, 13, 18
_Z = 23
STATE_HEADER = _Z


@njit(nogil=True, cache=True)
def design(
    kind: int,
    freq_hz: float,
    q: float,
    gain_db: float,
    sample_rate_hz: float,
    out_coeffs: np.ndarray,
) -> None:
    """Write normalised RBJ coefficients (b0, b1, b2, a1, a2) into ``out_coeffs[:5]``.

    ``freq_hz`` is the cutoff/centre frequency, ``q`` the cookbook Q (shelves too),
    ``gain_db`` is used by PEAK/LOWSHELF/HIGHSHELF only. Out-of-range values are clamped.
    """
    f = min(max(freq_hz, 1e-4 * sample_rate_hz), 0.49 * sample_rate_hz)
    q = min(max(q, 1e-3), 1e3)
    w0 = 2.0 * math.pi * f / sample_rate_hz
    cw = math.cos(w0)
    alpha = math.sin(w0) / (2.0 * q)
    A = 10.0 ** (gain_db / 40.0)
    sa = 2.0 * math.sqrt(A) * alpha
    b0, b1, b2, a0, a1, a2 = 1.0, 0.0, 0.0, 1.0, 0.0, 0.0
    if kind == LOWPASS:
        b1 = 1.0 - cw
        b0 = b2 = 0.5 * b1
        a0, a1, a2 = 1.0 + alpha, -2.0 * cw, 1.0 - alpha
    elif kind == HIGHPASS:
        b0 = b2 = 0.5 * (1.0 + cw)
        b1 = -(1.0 + cw)
        a0, a1, a2 = 1.0 + alpha, -2.0 * cw, 1.0 - alpha
    elif kind == BANDPASS:
        b0, b1, b2 = alpha, 0.0, -alpha
        a0, a1, a2 = 1.0 + alpha, -2.0 * cw, 1.0 - alpha
    elif kind == NOTCH:
        b0, b1, b2 = 1.0, -2.0 * cw, 1.0
        a0, a1, a2 = 1.0 + alpha, -2.0 * cw, 1.0 - alpha
    elif kind == PEAK:
        b0, b1, b2 = 1.0 + alpha * A, -2.0 * cw, 1.0 - alpha * A
        a0, a1, a2 = 1.0 + alpha / A, -2.0 * cw, 1.0 - alpha / A
    elif kind == LOWSHELF:
        b0 = A * ((A + 1.0) - (A - 1.0) * cw + sa)
        b1 = 2.0 * A * ((A - 1.0) - (A + 1.0) * cw)
        b2 = A * ((A + 1.0) - (A - 1.0) * cw - sa)
        a0 = (A + 1.0) + (A - 1.0) * cw + sa
        a1 = -2.0 * ((A - 1.0) + (A + 1.0) * cw)
        a2 = (A + 1.0) + (A - 1.0) * cw - sa
    elif kind == HIGHSHELF:
        b0 = A * ((A + 1.0) + (A - 1.0) * cw + sa)
        b1 = -2.0 * A * ((A - 1.0) + (A + 1.0) * cw)
        b2 = A * ((A + 1.0) + (A - 1.0) * cw - sa)
        a0 = (A + 1.0) - (A - 1.0) * cw + sa
        a1 = 2.0 * ((A - 1.0) - (A + 1.0) * cw)
        a2 = (A + 1.0) - (A - 1.0) * cw - sa
    out_coeffs[0] = b0 / a0
    out_coeffs[1] = b1 / a0
    out_coeffs[2] = b2 / a0
    out_coeffs[3] = a1 / a0
    out_coeffs[4] = a2 / a0


def coefficients(
    kind: int, freq_hz: float, q: float, gain_db: float, sample_rate_hz: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(b, a)`` (each shape (3,), ``a[0] == 1``) for use with scipy.signal."""
    c = np.zeros(5)
    design(kind, float(freq_hz), float(q), float(gain_db), float(sample_rate_hz), c)
    return c[:3].copy(), np.array([1.0, c[3], c[4]])


def prepare(
    n_channels: int,
    sample_rate_hz: float,
    kind: int = BYPASS,
    freq_hz: float = 1000.0,
    q: float = 0.7071067811865476,
    gain_db: float = 0.0,
    smoothing_ms: float = 5.0,
) -> np.ndarray:
    """Allocate the float64 state vector, already settled on the given design.

    Later parameter changes glide over ``smoothing_ms`` milliseconds.
    """
    state = np.zeros(STATE_HEADER + 2 * n_channels)
    state[_NCH] = n_channels
    state[_SR] = sample_rate_hz
    state[_RAMP] = max(1, round(smoothing_ms * 1e-3 * sample_rate_hz))
    state[_KIND:_GAIN + 1] = kind, freq_hz, q, gain_db
    design(kind, float(freq_hz), float(q), float(gain_db), float(sample_rate_hz),
           state[_TARGET:_TARGET + 5])
    state[_COEF:_COEF + 5] = state[_TARGET:_TARGET + 5]
    return state


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Clear the filter memory and finish any coefficient glide."""
    state[_Z:] = 0.0
    state[_COEF:_COEF + 5] = state[_TARGET:_TARGET + 5]
    state[_LEFT] = 0.0


@njit(nogil=True, cache=True)
def set_params(state: np.ndarray, kind: int, freq_hz: float, q: float, gain_db: float) -> None:
    """Start a coefficient glide if any parameter changed (no-op otherwise)."""
    if (kind == state[_KIND] and freq_hz == state[_FREQ] and q == state[_Q]
            and gain_db == state[_GAIN]):
        return
    state[_KIND] = kind
    state[_FREQ] = freq_hz
    state[_Q] = q
    state[_GAIN] = gain_db
    design(kind, freq_hz, q, gain_db, state[_SR], state[_TARGET:_TARGET + 5])
    n = state[_RAMP]
    for k in range(5):
        state[_STEP + k] = (state[_TARGET + k] - state[_COEF + k]) / n
    state[_LEFT] = n


@njit(nogil=True, cache=True, inline="always")
def tdf2(x: float, b0: float, b1: float, b2: float, a1: float, a2: float, z1: float,
         z2: float) -> tuple[float, float, float]:
    """One sample through a transposed direct form II biquad: (y, z1, z2). The one
    definition of the step: every loop here and the channel strip's equaliser run it."""
    y = b0 * x + z1
    return y, b1 * x - a1 * y + z2, b2 * x - a2 * y


@njit(nogil=True, cache=True)
def _pair(x, y, c, i0, i1, b0, b1, b2, a1, a2, z1a, z2a, z1b, z2b):
    """TDF-II over samples ``[i0, i1)`` of channels ``c`` and ``c + 1`` at fixed coefficients.

    The two channels are independent recursions interleaved in one loop, so their latency
    chains overlap; each channel sees exactly the operations of the one-channel loop.
    """
    for i in range(i0, i1):
        ya, z1a, z2a = tdf2(float(x[c, i]), b0, b1, b2, a1, a2, z1a, z2a)
        yb, z1b, z2b = tdf2(float(x[c + 1, i]), b0, b1, b2, a1, a2, z1b, z2b)
        y[c, i] = ya
        y[c + 1, i] = yb
    return z1a, z2a, z1b, z2b


@njit(nogil=True, cache=True)
def _single(x, y, c, i0, i1, b0, b1, b2, a1, a2, z1, z2):
    """TDF-II over samples ``[i0, i1)`` of channel ``c`` at fixed coefficients."""
    for i in range(i0, i1):
        y[c, i], z1, z2 = tdf2(float(x[c, i]), b0, b1, b2, a1, a2, z1, z2)
    return z1, z2


@njit(nogil=True, cache=True)
def _pair_glide(x, y, c, n, b0, b1, b2, a1, a2, d0, d1, d2, d3, d4, z1a, z2a, z1b, z2b):
    """Like ``_pair`` over ``[0, n)``, stepping every coefficient by ``d*`` before each sample."""
    for i in range(n):
        b0 += d0
        b1 += d1
        b2 += d2
        a1 += d3
        a2 += d4
        ya, z1a, z2a = tdf2(float(x[c, i]), b0, b1, b2, a1, a2, z1a, z2a)
        yb, z1b, z2b = tdf2(float(x[c + 1, i]), b0, b1, b2, a1, a2, z1b, z2b)
        y[c, i] = ya
        y[c + 1, i] = yb
    return z1a, z2a, z1b, z2b, b0, b1, b2, a1, a2


@njit(nogil=True, cache=True)
def _single_glide(x, y, c, n, b0, b1, b2, a1, a2, d0, d1, d2, d3, d4, z1, z2):
    """Like ``_single`` over ``[0, n)``, stepping every coefficient before each sample."""
    for i in range(n):
        b0 += d0
        b1 += d1
        b2 += d2
        a1 += d3
        a2 += d4
        y[c, i], z1, z2 = tdf2(float(x[c, i]), b0, b1, b2, a1, a2, z1, z2)
    return z1, z2, b0, b1, b2, a1, a2


@njit(nogil=True, cache=True)
def run(state: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """Filter ``x`` into ``y`` (n_channels, n_frames) with the current coefficients/glide.

    A glide of ``L = state[_LEFT]`` samples moves the coefficients by ``state[_STEP:]``
    before each of its first ``L - 1`` samples and lands exactly on ``state[_TARGET:]`` at
    the ``L``-th. Channels run in pairs with coefficients and memory in registers; only the
    samples still inside a glide pay for the per-sample coefficient update.
    """
    n_ch = min(x.shape[0], int(state[_NCH]))
    n = x.shape[1]
    if n_ch <= 0:
        return
    left0 = int(state[_LEFT])
    if left0 == 0 and state[_KIND] == BYPASS:
        # Settled identity: skip the arithmetic, keep memory clean for a later fade-in.
        for c in range(n_ch):
            state[_Z + 2 * c] = 0.0
            state[_Z + 2 * c + 1] = 0.0
            for i in range(n):
                y[c, i] = x[c, i]
        return
    b0, b1, b2 = state[_COEF], state[_COEF + 1], state[_COEF + 2]
    a1, a2 = state[_COEF + 3], state[_COEF + 4]
    if left0 > 0:
        # Samples [0, n_glide) take a step; sample left0 - 1 (if in this block) snaps to
        # the target, which then holds for the rest of the block.
        n_glide = min(n, left0 - 1)
        lands = left0 <= n
        d0, d1, d2 = state[_STEP], state[_STEP + 1], state[_STEP + 2]
        d3, d4 = state[_STEP + 3], state[_STEP + 4]
        t0, t1, t2 = state[_TARGET], state[_TARGET + 1], state[_TARGET + 2]
        t3, t4 = state[_TARGET + 3], state[_TARGET + 4]
        e0, e1, e2, e3, e4 = b0, b1, b2, a1, a2
        c = 0
        while c + 1 < n_ch:
            k = _Z + 2 * c
            z1a, z2a, z1b, z2b, e0, e1, e2, e3, e4 = _pair_glide(
                x, y, c, n_glide, b0, b1, b2, a1, a2, d0, d1, d2, d3, d4,
                state[k], state[k + 1], state[k + 2], state[k + 3])
            if lands:
                z1a, z2a, z1b, z2b = _pair(x, y, c, left0 - 1, n, t0, t1, t2, t3, t4,
                                           z1a, z2a, z1b, z2b)
            state[k], state[k + 1], state[k + 2], state[k + 3] = z1a, z2a, z1b, z2b
            c += 2
        if c < n_ch:
            k = _Z + 2 * c
            z1, z2, e0, e1, e2, e3, e4 = _single_glide(
                x, y, c, n_glide, b0, b1, b2, a1, a2, d0, d1, d2, d3, d4,
                state[k], state[k + 1])
            if lands:
                z1, z2 = _single(x, y, c, left0 - 1, n, t0, t1, t2, t3, t4, z1, z2)
            state[k], state[k + 1] = z1, z2
        if lands:
            e0, e1, e2, e3, e4 = t0, t1, t2, t3, t4
        state[_COEF], state[_COEF + 1], state[_COEF + 2] = e0, e1, e2
        state[_COEF + 3], state[_COEF + 4] = e3, e4
        state[_LEFT] = 0.0 if lands else left0 - n
        return
    c = 0
    while c + 1 < n_ch:
        k = _Z + 2 * c
        z1a, z2a, z1b, z2b = _pair(x, y, c, 0, n, b0, b1, b2, a1, a2,
                                   state[k], state[k + 1], state[k + 2], state[k + 3])
        state[k], state[k + 1], state[k + 2], state[k + 3] = z1a, z2a, z1b, z2b
        c += 2
    if c < n_ch:
        k = _Z + 2 * c
        state[k], state[k + 1] = _single(x, y, c, 0, n, b0, b1, b2, a1, a2,
                                         state[k], state[k + 1])


@njit(nogil=True, cache=True)
def process(
    state: np.ndarray,
    kind: int,
    freq_hz: float,
    q: float,
    gain_db: float,
    x: np.ndarray,
    y: np.ndarray,
) -> None:
    """Filter planar float32 ``x`` into ``y`` (n_channels, n_frames); may be in place.

    ``kind`` is one of the module constants, ``freq_hz`` in Hz, ``gain_db`` in dB.
    """
    set_params(state, kind, freq_hz, q, gain_db)
    run(state, x, y)
