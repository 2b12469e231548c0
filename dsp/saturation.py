"""tanh saturation with drive, small-signal level compensation and 2x (or 4x) oversampling.

``y = tanh(g * x) / g`` with ``g = 10 ** (drive_db / 20)``: unity gain for small signals,
soft clipping at ``1 / g``. The nonlinearity runs at 2x the sample rate between two
polyphase halfband FIRs (equiripple, designed with scipy at prepare time and stored in the
state). ``oversampling=4`` adds a short second halfband stage; use it for heavy drive,
where 2x cannot suppress harmonics above 1.5x the sample rate that fold back in-band.

The stage-1 halfband passes 0..0.479 fs and stops 0.521 fs..: its transition band is kept
narrow because a harmonic just above fs/2 would otherwise fold to just below it.
Latency (``latency_samples``) is 79 samples for 2x, 83.5 for 4x (at any rate).
"""

import math

import numpy as np
import scipy.signal
from numba import njit

STAGE1_TAPS = 159  # ~60 dB stopband over the 0.479..0.521 fs transition
STAGE2_TAPS = 19  # ~50 dB; its transition band is wide (0.25..0.75 fs of the base rate)

# State layout.
_SR, _FACTOR, _NCH, _RAMP = 0, 1, 2, 3
_DRIVE_DB, _G, _G_STEP, _G_LEFT = 4, 5, 6, 7
_L1, _K1, _L2, _K2 = 8, 9, 10, 11
_TAPS1, _TAPS2, _CH0, _CH_STRIDE, _LATENCY = 12, 13, 14, 15, 16
_HEADER = 17


def halfband(n_taps: int, passband: float) -> np.ndarray:
    """Equiripple halfband lowpass, ``n_taps = 4k + 3``, passband edge as a fraction of fs.

    Vaidyanathan & Nguyen's trick: a one-band remez design interleaved with zeros, plus the
    0.5 centre tap, gives exact zeros on every other tap.
    """
    assert n_taps % 4 == 3 and 0.0 < passband < 0.25
    g = scipy.signal.remez((n_taps + 1) // 2, [0.0, 2.0 * passband, 0.5, 0.5], [1.0, 0.0],
                           fs=1.0)
    h = np.zeros(n_taps)
    h[0::2] = 0.5 * g
    h[(n_taps - 1) // 2] = 0.5
    return h


@njit(nogil=True, cache=True)
def _stage_size(L: int) -> int:
    return 1 + 6 * L  # position, then three mirrored histories of length L


def prepare(
    n_channels: int, sample_rate_hz: float, drive_db: float = 0.0, oversampling: int = 2,
    smoothing_ms: float = 5.0,
) -> np.ndarray:
    """Allocate the float64 state vector (filters, histories); ``oversampling`` is 2 or 4."""
    if oversampling not in (2, 4):
        raise ValueError("oversampling must be 2 or 4")
    e1 = halfband(STAGE1_TAPS, 23.0 / 96.0)[0::2]  # the only non-trivial polyphase branch
    e2 = halfband(STAGE2_TAPS, 0.125)[0::2]
    L1, L2 = len(e1), len(e2)
    stride = _stage_size(L1) + _stage_size(L2)
    state = np.zeros(_HEADER + L1 + L2 + n_channels * stride)
    state[_SR] = sample_rate_hz
    state[_FACTOR] = oversampling
    state[_NCH] = n_channels
    state[_RAMP] = max(1, round(smoothing_ms * 1e-3 * sample_rate_hz))
    state[_DRIVE_DB] = drive_db
    state[_G] = 10.0 ** (drive_db / 20.0)
    state[_L1], state[_K1] = L1, (STAGE1_TAPS - 3) // 4
    state[_L2], state[_K2] = L2, (STAGE2_TAPS - 3) // 4
    state[_TAPS1], state[_TAPS2] = _HEADER, _HEADER + L1
    state[_CH0], state[_CH_STRIDE] = _HEADER + L1 + L2, stride
    state[_HEADER:_HEADER + L1] = e1
    state[_HEADER + L1:_HEADER + L1 + L2] = e2
    latency = (STAGE1_TAPS - 1) / 2.0
    if oversampling == 4:
        latency += (STAGE2_TAPS - 1) / 4.0
    state[_LATENCY] = latency
    return state


def latency_samples(state: np.ndarray) -> float:
    """Group delay of the oversampling filters, in samples at the base rate."""
    return float(state[_LATENCY])


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Clear the filter histories and finish the drive glide."""
    state[int(state[_CH0]):] = 0.0
    state[_G] = 10.0 ** (state[_DRIVE_DB] / 20.0)
    state[_G_LEFT] = 0.0


@njit(nogil=True, cache=True)
def _up(st: np.ndarray, base: int, taps: int, L: int, k: int, x: float):
    """Polyphase 2x interpolation of one input sample -> two output samples."""
    pos = int(st[base]) - 1
    if pos < 0:
        pos = L - 1
    st[base] = pos
    hist = base + 1 + pos
    # Mirrored write, so the newest-first window is always contiguous.
    st[hist] = x
    st[hist + L] = x
    acc = 0.0
    for j in range(L):
        acc += st[taps + j] * st[hist + j]
    return 2.0 * acc, st[hist + k]


@njit(nogil=True, cache=True)
def _down(st: np.ndarray, base: int, taps: int, L: int, k: int, w0: float, w1: float) -> float:
    """Polyphase 2x decimation of two input samples -> one output sample."""
    pos = int(st[base])  # already advanced by the matching _up call
    even = base + 1 + 2 * L + pos
    odd = base + 1 + 4 * L + pos
    st[even] = w0
    st[even + L] = w0
    st[odd] = w1
    st[odd + L] = w1
    acc = 0.0
    for j in range(L):
        acc += st[taps + j] * st[even + j]
    return acc + 0.5 * st[odd + k + 1]


@njit(nogil=True, cache=True)
def _shape(st: np.ndarray, s2: int, t2: int, L2: int, k2: int, four: bool, g: float,
           v: float) -> float:
    """tanh(g v) / g at 2x, or through the extra 2x stage when oversampling by 4."""
    if not four:
        return math.tanh(g * v) / g
    u0, u1 = _up(st, s2, t2, L2, k2, v)
    return _down(st, s2, t2, L2, k2, math.tanh(g * u0) / g, math.tanh(g * u1) / g)


@njit(nogil=True, cache=True)
def process(state: np.ndarray, drive_db: float, x: np.ndarray, y: np.ndarray) -> None:
    """Saturate planar float32 ``x`` into ``y`` (n_channels, n_frames); may be in place.

    ``drive_db`` is the input gain into tanh; the output is scaled back by the same amount.
    """
    if drive_db != state[_DRIVE_DB]:
        state[_DRIVE_DB] = drive_db
        n = state[_RAMP]
        state[_G_STEP] = (10.0 ** (drive_db / 20.0) - state[_G]) / n
        state[_G_LEFT] = n
    four = state[_FACTOR] == 4
    L1, k1, L2, k2 = int(state[_L1]), int(state[_K1]), int(state[_L2]), int(state[_K2])
    t1, t2 = int(state[_TAPS1]), int(state[_TAPS2])
    g_end = 10.0 ** (drive_db / 20.0)
    n_ch = min(x.shape[0], int(state[_NCH]))
    g, left = state[_G], int(state[_G_LEFT])
    for c in range(n_ch):
        s1 = int(state[_CH0] + c * state[_CH_STRIDE])
        s2 = s1 + _stage_size(L1)
        g, left = state[_G], int(state[_G_LEFT])  # each channel replays the same glide
        for i in range(x.shape[1]):
            if left > 0:
                left -= 1
                g = g_end if left == 0 else g + state[_G_STEP]
            v0, v1 = _up(state, s1, t1, L1, k1, float(x[c, i]))
            w0 = _shape(state, s2, t2, L2, k2, four, g, v0)
            w1 = _shape(state, s2, t2, L2, k2, four, g, v1)
            y[c, i] = _down(state, s1, t1, L1, k1, w0, w1)
    if n_ch > 0:
        state[_G] = g
        state[_G_LEFT] = left
