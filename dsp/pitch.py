"""Causal streaming monophonic pitch tracker (YIN) with voicing confidence.

Every ``hop`` samples the last ``L = W + tau_max`` samples are analysed, where
``tau_max = ceil(sample_rate_hz / f0_min_hz)`` and the integration window ``W = tau_max``
(one period of the lowest pitch). Following de Cheveigné & Kawahara (2002):

- difference function ``d(tau) = sum_{j<W} (x_j - x_{j+tau})^2``, computed as
  ``e(0) + e(tau) - 2 r(tau)`` with the cross-correlation ``r`` from one complex FFT of size
  ``next_pow2(L)`` (window in the real part, whole buffer in the imaginary part) and one
  inverse FFT, and the energies ``e`` as running sums;
- cumulative mean normalised difference ``d'(tau) = d(tau) * tau / sum_{k=1..tau} d(k)``;
- candidates are the local minima of ``d'`` in ``[tau_min, tau_max]``, each valued at its
  parabola-interpolated minimum; the first one below
  ``max(threshold, rel_tol * deepest + abs_tol)`` is chosen (the relative part keeps noisy
  frames from jumping to a multiple of the period), moved to the deepest point of its dip,
  else the deepest candidate; ``tau`` is refined by parabolic interpolation of ``d'``.

``f0_hz = sample_rate_hz / tau``; ``confidence = 1 - d'(tau)`` clipped to [0, 1] (periodicity);
a frame is voiced when ``d'(tau) < voicing_threshold`` and the frame is above ``-70 dBFS`` RMS.
Each estimate is stamped with the buffer centre (``latency_samples(state) = L // 2`` before the
last sample analysed).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dsp.onset import fft_inplace, fft_tables
from dsp.state import region
from dsp.units import db_to_power

# Output columns of process().
COL_POSITION = 0
COL_F0_HZ = 1
COL_CONFIDENCE = 2
COL_VOICED = 3
N_COLS = 4

_SR = 0
_W = 1  # integration window
_TMIN = 2
_TMAX = 3
_L = 4  # analysed buffer length W + tau_max
_NFFT = 5
_HOP = 6
_THR = 7
_VTHR = 8
_SILENCE = 9  # mean-square floor below which a frame is unvoiced
_WPOS = 10  # ring write position (= oldest sample)
_COUNT = 11  # samples since the last analysis
_TOTAL = 12  # samples consumed since reset
_F0 = 13  # last estimate
_CONF = 14
_VOICED = 15
_O_RING = 16
_O_RE = 17
_O_IM = 18
_O_COS = 19
_O_SIN = 20
_O_REV = 21
_O_DN = 22  # d' for tau = 0 … tau_max
_RELTOL = 23
_ABSTOL = 24
_HEADER = 25

_SILENCE_DBFS = -70.0


def prepare(
    sample_rate_hz: float,
    f0_min_hz: float = 50.0,
    f0_max_hz: float = 2000.0,
    hop: int = 256,
    threshold: float = 0.15,
    voicing_threshold: float = 0.3,
    rel_tol: float = 1.2,
    abs_tol: float = 0.05,
) -> np.ndarray:
    """Allocate a pitch-tracker state.

    sample_rate_hz: audio rate; f0_min_hz / f0_max_hz: search range in Hz; hop: samples between
    estimates (e.g. 128-256); threshold: YIN absolute threshold on d' for picking the first dip;
    voicing_threshold: d' above which a frame is reported unvoiced; rel_tol, abs_tol: a dip
    also qualifies when its d' is below ``rel_tol * deepest + abs_tol`` (noise robustness).
    Returns one float64 array.
    """
    if not 0 < f0_min_hz < f0_max_hz < sample_rate_hz / 4:
        raise ValueError("need 0 < f0_min_hz < f0_max_hz < sample_rate_hz / 4")
    if hop < 1:
        raise ValueError("hop must be >= 1")
    tau_max = int(math.ceil(sample_rate_hz / f0_min_hz))
    tau_min = max(2, int(math.floor(sample_rate_hz / f0_max_hz)))
    w = tau_max
    length = w + tau_max
    # Circular correlation has no wrap-around for lags 0 … tau_max as long as n_fft >= L.
    n_fft = 1 << (length - 1).bit_length()
    sizes = {
        _O_RING: length,
        _O_RE: n_fft,
        _O_IM: n_fft,
        _O_COS: n_fft // 2,
        _O_SIN: n_fft // 2,
        _O_REV: n_fft,
        _O_DN: tau_max + 2,
    }
    state = np.zeros(_HEADER + sum(sizes.values()), dtype=np.float64)
    offset = _HEADER
    for slot, size in sizes.items():
        state[slot] = offset
        offset += size
    cos_tab, sin_tab, bitrev = fft_tables(n_fft)
    for slot, values in ((_O_COS, cos_tab), (_O_SIN, sin_tab), (_O_REV, bitrev)):
        o = int(state[slot])
        state[o : o + values.shape[0]] = values
    state[_SR] = sample_rate_hz
    state[_W] = w
    state[_TMIN] = tau_min
    state[_TMAX] = tau_max
    state[_L] = length
    state[_NFFT] = n_fft
    state[_HOP] = hop
    state[_THR] = threshold
    state[_VTHR] = voicing_threshold
    state[_RELTOL] = rel_tol
    state[_ABSTOL] = abs_tol
    state[_SILENCE] = db_to_power(_SILENCE_DBFS)
    reset(state)
    return state


@njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Forget the signal history; the next estimate comes after one hop."""
    region(state, _O_RING, int(state[_L]))[:] = 0.0
    state[_WPOS] = 0.0
    state[_COUNT] = 0.0
    state[_TOTAL] = 0.0
    state[_F0] = 0.0
    state[_CONF] = 0.0
    state[_VOICED] = 0.0


@njit(nogil=True, cache=True)
def latency_samples(state: np.ndarray) -> int:
    """Samples from an estimate's stamped position to the last sample it analysed."""
    return int(state[_L]) // 2


@njit(nogil=True, cache=True)
def current_f0_hz(state: np.ndarray) -> float:
    """Latest f0 estimate in Hz (the best candidate even when unvoiced; 0 in silence)."""
    return state[_F0]


@njit(nogil=True, cache=True)
def current_confidence(state: np.ndarray) -> float:
    """Latest periodicity confidence, 0 … 1."""
    return state[_CONF]


@njit(nogil=True, cache=True)
def current_voiced(state: np.ndarray) -> bool:
    """Whether the latest frame was judged voiced."""
    return state[_VOICED] > 0.5


@njit(nogil=True, cache=True)
def _vertex(y0: float, y1: float, y2: float) -> tuple[float, float]:
    # Parabola through (-1, y0), (0, y1), (1, y2): (value at the vertex, vertex offset).
    denom = y0 - 2.0 * y1 + y2
    if denom <= 0.0:
        return y1, 0.0
    shift = min(max(0.5 * (y0 - y2) / denom, -0.5), 0.5)
    return max(y1 - 0.25 * (y0 - y2) * shift, 0.0), shift


# long: YIN on one frame (FFT difference function, cumulative mean normalisation, the
# absolute threshold, parabolic interpolation) with its buffers in the state.
@njit(nogil=True, cache=True)
def _analyse(state: np.ndarray) -> None:
    w = int(state[_W])
    length = int(state[_L])
    n_fft = int(state[_NFFT])
    tau_min = int(state[_TMIN])
    tau_max = int(state[_TMAX])
    ring = region(state, _O_RING, length)
    re = region(state, _O_RE, n_fft)
    im = region(state, _O_IM, n_fft)
    dn = region(state, _O_DN, tau_max + 2)
    start = int(state[_WPOS])  # oldest sample
    # Unroll the ring (oldest first): window x[0:W] in re, whole buffer x[0:L] in im.
    e0 = 0.0
    for j in range(n_fft):
        if j < length:
            k = start + j
            if k >= length:
                k -= length
            v = ring[k]
            im[j] = v
            if j < w:
                re[j] = v
                e0 += v * v
            else:
                re[j] = 0.0
        else:
            re[j] = 0.0
            im[j] = 0.0
    if e0 < state[_SILENCE] * w:
        state[_F0] = 0.0
        state[_CONF] = 0.0
        state[_VOICED] = 0.0
        return
    cos_tab = region(state, _O_COS, n_fft // 2)
    sin_tab = region(state, _O_SIN, n_fft // 2)
    bitrev = region(state, _O_REV, n_fft)
    fft_inplace(re, im, cos_tab, sin_tab, bitrev)
    # Split Z = A + iB into the spectra of the two real signals, form conj(A) * B (the spectrum
    # of the real cross-correlation, hence Hermitian) and store its conjugate for the inverse.
    for k in range(n_fft // 2 + 1):
        k2 = (n_fft - k) % n_fft
        zr = re[k]
        zi = im[k]
        wr = re[k2]
        wi = im[k2]
        ar = 0.5 * (zr + wr)
        ai = 0.5 * (zi - wi)
        br = 0.5 * (zi + wi)
        bi = 0.5 * (wr - zr)
        rr = ar * br + ai * bi  # conj(A) * B
        ri = ar * bi - ai * br
        re[k] = rr
        im[k] = -ri  # conjugate, for ifft(X) = conj(fft(conj(X))) / N
        re[k2] = rr
        im[k2] = ri
    fft_inplace(re, im, cos_tab, sin_tab, bitrev)
    scale = 1.0 / n_fft
    # d(tau) = e0 + e(tau) - 2 r(tau), with e(tau) = sum_{j<W} x_{j+tau}^2 as a running sum.
    e_tau = e0
    running = 0.0
    dn[0] = 1.0
    for tau in range(1, tau_max + 1):
        a = ring[(start + tau - 1) % length]
        b = ring[(start + tau - 1 + w) % length]
        e_tau += b * b - a * a
        d = e0 + e_tau - 2.0 * re[tau] * scale
        if d < 0.0:
            d = 0.0  # rounding only: d is a sum of squares
        running += d
        dn[tau] = d * tau / running if running > 0.0 else 1.0
    # Candidates are the local minima of d', each judged by its parabola-interpolated value:
    # at high f0 the dip is only a few samples wide and its sampled values can miss the
    # threshold that its true minimum meets (the next dip, at twice the period, then wins).
    lowest = np.inf
    lowest_tau = -1
    for tau in range(tau_min + 1, tau_max):
        if dn[tau] <= dn[tau - 1] and dn[tau] < dn[tau + 1]:
            v, _ = _vertex(dn[tau - 1], dn[tau], dn[tau + 1])
            if v < lowest:
                lowest = v
                lowest_tau = tau
    if lowest_tau < 0:  # monotonic d': no periodicity in range
        state[_F0] = 0.0
        state[_CONF] = 0.0
        state[_VOICED] = 0.0
        return
    # In noise no dip may reach the absolute threshold and the deepest one is as likely at a
    # multiple of the period, so a dip close to the deepest also qualifies; the first
    # (shortest period) dip wins, at its deepest point (in noise a dip is ragged).
    thr = max(state[_THR], lowest * state[_RELTOL] + state[_ABSTOL])
    best = -1
    best_v = np.inf
    for tau in range(tau_min + 1, tau_max):
        if best >= 0 and dn[tau] >= thr:
            break  # climbed out of the chosen dip
        if dn[tau] <= dn[tau - 1] and dn[tau] < dn[tau + 1]:
            v, _ = _vertex(dn[tau - 1], dn[tau], dn[tau + 1])
            if (best < 0 and v < thr) or (best >= 0 and v < best_v):
                best = tau
                best_v = v
    if best < 0:
        best = lowest_tau
    value, shift = _vertex(dn[best - 1], dn[best], dn[best + 1])
    tau_f = best + shift
    state[_F0] = state[_SR] / tau_f
    state[_CONF] = min(max(1.0 - value, 0.0), 1.0)
    state[_VOICED] = 1.0 if value < state[_VTHR] else 0.0


@njit(nogil=True, cache=True)
def process(state: np.ndarray, x: np.ndarray, out: np.ndarray) -> int:
    """Feed a mono block; write one row per completed hop and return the number of rows.

    x: float32 (n_frames,) mono. out: float64 (max_rows, 4), columns COL_POSITION (absolute
    sample index of the analysed buffer's centre), COL_F0_HZ, COL_CONFIDENCE (0 … 1),
    COL_VOICED (1.0 / 0.0). Needs n_frames // hop + 1 rows; further rows are dropped (the
    latest estimate is still kept in the state, see current_f0_hz()).
    """
    length = int(state[_L])
    hop = int(state[_HOP])
    ring = region(state, _O_RING, length)
    wpos = int(state[_WPOS])
    count = int(state[_COUNT])
    total = state[_TOTAL]
    n_out = 0
    for i in range(x.shape[0]):
        ring[wpos] = x[i]
        wpos += 1
        if wpos == length:
            wpos = 0
        count += 1
        total += 1.0
        if count == hop:
            count = 0
            state[_WPOS] = wpos
            _analyse(state)
            if n_out < out.shape[0]:
                out[n_out, COL_POSITION] = total - 1.0 - (length // 2)
                out[n_out, COL_F0_HZ] = state[_F0]
                out[n_out, COL_CONFIDENCE] = state[_CONF]
                out[n_out, COL_VOICED] = state[_VOICED]
                n_out += 1
    state[_WPOS] = wpos
    state[_COUNT] = count
    state[_TOTAL] = total
    return n_out
