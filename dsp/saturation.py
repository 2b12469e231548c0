"""tanh saturation with drive, small-signal level compensation and 2x (or 4x) oversampling.

``y = tanh(g * x) / g`` with ``g = 10 ** (drive_db / 20)``: unity gain for small signals,
soft clipping at ``1 / g``. The nonlinearity runs at 2x the sample rate between two
polyphase halfband FIRs (equiripple, designed with scipy at prepare time and stored in the
state). ``oversampling=4`` adds a short second halfband stage; use it for heavy drive,
where 2x cannot suppress harmonics above 1.5x the sample rate that fold back in-band.

The stage-1 halfband passes 0..0.479 fs and stops 0.521 fs..: its transition band is kept
narrow because a harmonic just above fs/2 would otherwise fold to just below it.
Latency (``latency_samples``) is 79 samples for 2x, 83.5 for 4x (at any rate).

Implementation: a halfband's odd taps are zero except the 0.5 centre tap, so each 2x stage
splits into one symmetric FIR branch (the even taps) and a pure delay (the centre tap), both
running at the lower rate. Frames go through in chunks of up to ``CHUNK``: every filter
branch, the tanh and the history shifts are plain loops over contiguous buffers, which LLVM
vectorises. Taps, histories and filter outputs are float32 (a float32 view of the state's
tail, so ``state`` must be contiguous, as ``prepare``'s output and any slice of it are);
tanh is a rational fit (|error| < 1e-10 in float64) that vectorises where ``math.tanh``
(a libm call) would not, evaluated in float32 like the samples around it (eight lanes to
a vector, not four). Output matches a float64 reference (scipy ``upfirdn``, ``np.tanh``)
within 1.5e-7, about one float32 step.
"""

import numpy as np
from numba import njit

from dsp.units import db_to_gain

STAGE1_TAPS = 159  # ~60 dB stopband over the 0.479..0.521 fs transition
STAGE2_TAPS = 19  # ~50 dB; its transition band is wide (0.25..0.75 fs of the base rate)
CHUNK = 128  # frames per pass through the vectorised loops

# State layout: a float64 header and per-frame drive scratch, then a float32 work area
# (viewed in place): the two even-tap branches, per-channel histories, shared scratch.
_SR, _FACTOR, _NCH, _RAMP = 0, 1, 2, 3
_DRIVE_DB, _G, _G_STEP, _G_LEFT = 4, 5, 6, 7
_L1, _K1, _L2, _K2 = 8, 9, 10, 11
_CH0, _CH_STRIDE, _SCRATCH, _LATENCY = 12, 13, 14, 15
_HEADER = 16
_WORK = _HEADER + 3 * CHUNK  # float64 index where the float32 work area starts

# tanh(x) ~= x P(x^2) / Q(x^2) on |x| <= _TANH_CLAMP (relative error < 5e-12; fitted by
# iteratively reweighted least squares in a Chebyshev basis), and tanh(+-_TANH_CLAMP)
# beyond, where the true value differs by < 8e-11.
_TANH_CLAMP = 12.0
_P0, _P1, _P2, _P3 = 0.9999999999984704, 0.14481210140150147, 0.004955541047262781, \
    5.799258464365722e-05
_P4, _P5, _P6 = 2.4292910153448863e-07, 3.0030138892954627e-10, 4.800535219028295e-14
_Q0, _Q1, _Q2, _Q3 = 1.0, 0.4781454347015186, 0.031004019340989473, 0.0006081949922075251
_Q4, _Q5, _Q6 = 4.291090209023343e-06, 1.0204070406749454e-08, 5.531898658024217e-12


def halfband(n_taps: int, passband: float) -> np.ndarray:
    """Equiripple halfband lowpass, ``n_taps = 4k + 3``, passband edge as a fraction of fs.

    Vaidyanathan & Nguyen's trick: a one-band remez design interleaved with zeros, plus the
    0.5 centre tap, gives exact zeros on every other tap.
    """
    assert n_taps % 4 == 3 and 0.0 < passband < 0.25
    import scipy.signal  # the design only: importing scipy.signal costs about a second

    g = scipy.signal.remez((n_taps + 1) // 2, [0.0, 2.0 * passband, 0.5, 0.5], [1.0, 0.0],
                           fs=1.0)
    h = np.zeros(n_taps)
    h[0::2] = 0.5 * g
    h[(n_taps - 1) // 2] = 0.5
    return h


def _channel_size(L1: int, K1: int, L2: int, K2: int) -> int:
    # float32 slots: stage 1 keeps input, even-branch output and centre-branch output
    # histories, each followed by room for one chunk; stage 2 the same at twice the rate
    return (3 * (L1 - 1) + K1 + 3 * CHUNK) + (2 * (L2 - 1) + K2 + 1 + 6 * CHUNK)


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
    K1, K2 = (STAGE1_TAPS - 3) // 4, (STAGE2_TAPS - 3) // 4
    stride = _channel_size(L1, K1, L2, K2)
    n_work = L1 + L2 + n_channels * stride + 5 * CHUNK
    state = np.zeros(_WORK + (n_work + 1) // 2)
    state[_SR] = sample_rate_hz
    state[_FACTOR] = oversampling
    state[_NCH] = n_channels
    state[_RAMP] = max(1, round(smoothing_ms * 1e-3 * sample_rate_hz))
    state[_DRIVE_DB] = drive_db
    state[_G] = db_to_gain(drive_db)
    state[_L1], state[_K1] = L1, K1
    state[_L2], state[_K2] = L2, K2
    state[_CH0], state[_CH_STRIDE] = L1 + L2, stride
    state[_SCRATCH] = L1 + L2 + n_channels * stride
    work = state[_WORK:].view(np.float32)
    work[:L1] = e1
    work[L1:L1 + L2] = e2
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
    state[_WORK:].view(np.float32)[int(state[_CH0]):] = 0.0
    state[_G] = db_to_gain(state[_DRIVE_DB])
    state[_G_LEFT] = 0.0


@njit(nogil=True, cache=True)
def _even_branch(e: np.ndarray, buf: np.ndarray, h: int, n: int, scale: float,
                 out: np.ndarray) -> None:
    """``out[i] = scale * sum_j e[j] buf[h + i - j]`` for ``i < n``; ``e`` symmetric, even.

    Symmetric taps are folded (``e[j] (a + b)``), and eight of them go into each pass over
    ``out``, so the loop over ``i`` stays vectorised and ``out`` is read and written rarely.
    """
    half = e.shape[0] // 2
    last = e.shape[0] - 1
    o = out[:n]
    o[:] = 0.0
    j = 0
    while j + 8 <= half:
        c0, c1, c2, c3 = scale * e[j], scale * e[j + 1], scale * e[j + 2], scale * e[j + 3]
        c4, c5, c6, c7 = scale * e[j + 4], scale * e[j + 5], scale * e[j + 6], scale * e[j + 7]
        a = buf[h - j - 7:h - j + n]  # a[i + 7 - r] = buf[h + i - (j + r)]
        b = buf[h - last + j:h - last + j + 7 + n]  # b[i + r] = buf[h + i - (last - j - r)]
        for i in range(n):
            o[i] += (((c0 * (a[i + 7] + b[i]) + c1 * (a[i + 6] + b[i + 1]))
                      + (c2 * (a[i + 5] + b[i + 2]) + c3 * (a[i + 4] + b[i + 3])))
                     + ((c4 * (a[i + 3] + b[i + 4]) + c5 * (a[i + 2] + b[i + 5]))
                        + (c6 * (a[i + 1] + b[i + 6]) + c7 * (a[i] + b[i + 7]))))
        j += 8
    while j + 4 <= half:
        c0, c1, c2, c3 = scale * e[j], scale * e[j + 1], scale * e[j + 2], scale * e[j + 3]
        a = buf[h - j - 3:h - j + n]
        b = buf[h - last + j:h - last + j + 3 + n]
        for i in range(n):
            o[i] += ((c0 * (a[i + 3] + b[i]) + c1 * (a[i + 2] + b[i + 1]))
                     + (c2 * (a[i + 1] + b[i + 2]) + c3 * (a[i] + b[i + 3])))
        j += 4
    while j < half:
        c = scale * e[j]
        a = buf[h - j:h - j + n]
        b = buf[h - last + j:h - last + j + n]
        for i in range(n):
            o[i] += c * (a[i] + b[i])
        j += 1


@njit(nogil=True, cache=True, error_model="numpy")  # no zero-division branch: vectorises
def _tanh_over_g(v: np.ndarray, g: float, gs: np.ndarray, glide: bool, out: np.ndarray,
                 n: int) -> None:
    """``out[i] = tanh(g v[i]) / g``, with ``g = gs[i]`` while gliding; in float32, like
    the samples around it (eight lanes to a vector where float64 has four)."""
    lim = np.float32(_TANH_CLAMP)
    p0, p1, p2, p3 = np.float32(_P0), np.float32(_P1), np.float32(_P2), np.float32(_P3)
    p4, p5, p6 = np.float32(_P4), np.float32(_P5), np.float32(_P6)
    q0, q1, q2, q3 = np.float32(_Q0), np.float32(_Q1), np.float32(_Q2), np.float32(_Q3)
    q4, q5, q6 = np.float32(_Q4), np.float32(_Q5), np.float32(_Q6)
    g32 = np.float32(g)
    for i in range(n):
        gi = np.float32(gs[i]) if glide else g32
        t = gi * v[i]
        t = t if t < lim else lim
        t = t if t > -lim else -lim
        t2 = t * t
        p = p0 + t2 * (p1 + t2 * (p2 + t2 * (p3 + t2 * (p4 + t2 * (p5 + t2 * p6)))))
        q = q0 + t2 * (q1 + t2 * (q2 + t2 * (q3 + t2 * (q4 + t2 * (q5 + t2 * q6)))))
        out[i] = t * p / (gi * q)


@njit(nogil=True, cache=True)
def _shift(buf: np.ndarray, keep: int, n: int) -> None:
    """Move the newest ``keep`` samples of ``buf[:keep + n]`` to its front."""
    for i in range(keep):
        buf[i] = buf[i + n]


@njit(nogil=True, cache=True)
def _stage2(st: np.ndarray, e2: np.ndarray, K2: int, base: int, s2: np.ndarray,
            ve: np.ndarray, g: float, g2: np.ndarray, glide: bool, n: int) -> None:
    """The 4x part, in place on the 2x stream ``s2[:n]``: up 2x, tanh, down 2x."""
    h = e2.shape[0] - 1
    u = st[base:base + h + 2 * CHUNK]
    se = st[base + h + 2 * CHUNK:base + 2 * h + 4 * CHUNK]
    so = st[base + 2 * h + 4 * CHUNK:base + 2 * h + K2 + 1 + 6 * CHUNK]
    for i in range(n):
        u[h + i] = s2[i]
    _even_branch(e2, u, h, n, np.float32(2.0), ve)
    _tanh_over_g(ve, g, g2, glide, se[h:], n)
    _tanh_over_g(u[h - K2:], g, g2, glide, so[K2 + 1:], n)
    _even_branch(e2, se, h, n, np.float32(1.0), s2)
    for i in range(n):
        s2[i] += 0.5 * so[i]
    _shift(u, h, n)
    _shift(se, h, n)
    _shift(so, K2 + 1, n)


@njit(nogil=True, cache=True)
def process(state: np.ndarray, drive_db: float, x: np.ndarray, y: np.ndarray) -> None:
    """Saturate planar float32 ``x`` into ``y`` (n_channels, n_frames); may be in place.

    ``drive_db`` is the input gain into tanh; the output is scaled back by the same amount.
    """
    if drive_db != state[_DRIVE_DB]:
        state[_DRIVE_DB] = drive_db
        n = state[_RAMP]
        state[_G_STEP] = (db_to_gain(drive_db) - state[_G]) / n
        state[_G_LEFT] = n
    four = state[_FACTOR] == 4
    L1, K1, L2, K2 = int(state[_L1]), int(state[_K1]), int(state[_L2]), int(state[_K2])
    work = state[_WORK:].view(np.float32)
    e1, e2 = work[:L1], work[L1:L1 + L2]
    h1 = L1 - 1
    g_end = db_to_gain(drive_db)
    g_step = state[_G_STEP]
    n_ch = min(x.shape[0], int(state[_NCH]))
    ch0, stride = int(state[_CH0]), int(state[_CH_STRIDE])
    sc = int(state[_SCRATCH])
    ue = work[sc:sc + CHUNK]  # stage-1 even-branch output, then the output's
    s2 = work[sc + CHUNK:sc + 3 * CHUNK]  # at 4x: the 2x stream, interleaved
    ve = work[sc + 3 * CHUNK:sc + 5 * CHUNK]  # at 4x: stage-2 even-branch output
    gs = state[_HEADER:_HEADER + CHUNK]  # per-frame drive while gliding
    g2 = state[_HEADER + CHUNK:_HEADER + 3 * CHUNK]  # at 4x: gs at the 2x rate
    g, left = state[_G], int(state[_G_LEFT])
    n_frames = x.shape[1] if n_ch > 0 else 0
    for start in range(0, n_frames, CHUNK):
        m = min(CHUNK, n_frames - start)
        glide = left > 0
        if glide:
            for i in range(m):
                if left > 0:
                    left -= 1
                    g = g_end if left == 0 else g + g_step
                gs[i] = g
            if four:
                for i in range(m):
                    g2[2 * i] = gs[i]
                    g2[2 * i + 1] = gs[i]
        for c in range(n_ch):
            base = ch0 + c * stride
            xb = work[base:base + h1 + CHUNK]
            we = work[base + h1 + CHUNK:base + 2 * h1 + 2 * CHUNK]
            wo = work[base + 2 * h1 + 2 * CHUNK:base + 2 * h1 + K1 + 1 + 3 * CHUNK]
            xc = x[c, start:start + m]
            for i in range(m):
                xb[h1 + i] = xc[i]
            _even_branch(e1, xb, h1, m, np.float32(2.0), ue)
            if four:
                for i in range(m):
                    s2[2 * i] = ue[i]
                    s2[2 * i + 1] = xb[h1 - K1 + i]
                _stage2(work, e2, K2, base + 2 * h1 + K1 + 1 + 3 * CHUNK, s2, ve, g, g2, glide,
                        2 * m)
                for i in range(m):
                    we[h1 + i] = s2[2 * i]
                    wo[K1 + 1 + i] = s2[2 * i + 1]
            else:
                _tanh_over_g(ue, g, gs, glide, we[h1:], m)
                _tanh_over_g(xb[h1 - K1:], g, gs, glide, wo[K1 + 1:], m)
            _even_branch(e1, we, h1, m, np.float32(1.0), ue)
            yc = y[c, start:start + m]
            for i in range(m):
                yc[i] = ue[i] + 0.5 * wo[i]
            _shift(xb, h1, m)
            _shift(we, h1, m)
            _shift(wo, K1 + 1, m)
    if n_ch > 0:
        state[_G] = g
        state[_G_LEFT] = left
