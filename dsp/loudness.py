"""Streaming loudness meter per ITU-R BS.1770-5 / EBU R128 (Tech 3341, Tech 3342).

Measures momentary (400 ms), short-term (3 s), integrated (gated) loudness, loudness range,
sample peak and true peak at any sample rate. ``process`` is jitted, allocation-free and
block-size invariant (every reading is the same whatever the block sizes were).

Design notes:

- K-weighting is derived for the actual rate from the analog prototype of the two BS.1770
  stages (the f0/Q/gain parametrisation used by libebur128 and pyloudnorm); at 48 kHz it
  reproduces the coefficients printed in the standard.
- Momentary and short-term windows slide per sample over a ring of weighted energies, with
  running sums recomputed exactly once per ring cycle so rounding cannot accumulate.
- Gating blocks (400 ms every 100 ms) and short-term values for LRA (3 s every 100 ms) go
  into histograms of 0.01 LU bins that also keep each bin's exact energy sum, so memory
  is fixed for any duration, the gated means are exact, and only blocks within 0.01 LU of
  a gate threshold can be classified by their bin mean instead of individually.

State is one float64 vector (layout in the ``_H_*`` constants).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from dsp import true_peak
from dsp.bs1770 import (
    ABS_GATE_ENERGY,
    ABS_GATE_LUFS,
    LOUDNESS_OFFSET_DB,
    LRA_HIGH_PERCENTILE,
    LRA_LOW_PERCENTILE,
    REL_GATE_INTEGRATED_LU,
    REL_GATE_LRA_LU,
    default_channel_weights,
    energy_to_lufs,
    k_weighting_coefficients,
)
from dsp.units import db_to_power, gain_to_db

# Histogram of block loudness: 0.01 LU bins from the absolute gate up to +50 LUFS; louder
# blocks go into the last bin (their energy is still summed exactly).
_HIST_MIN_LUFS = ABS_GATE_LUFS
_HIST_BINS_PER_LU = 100.0
_HIST_BINS = 12000
# Adding and subtracting this flushes filter states that decay below ~1e-20 to exactly 0,
# so silence never drives the recursions into slow denormal arithmetic.
_ANTI_DENORMAL = 1e-20

# Header layout of the state vector.
_H_NCH = 0
_H_RATE = 1
_H_HOP = 2  # samples per 100 ms
_H_NM = 3  # momentary window, samples (4 hops)
_H_NS = 4  # short-term window, samples (30 hops)
_H_POS = 5  # ring write position
_H_HOP_POS = 6  # samples into the current hop
_H_HOPS = 7  # completed hops
_H_SUM_M = 8
_H_SUM_S = 9
_H_MAX_M = 10
_H_MAX_S = 11
_H_OFF_COEF = 12
_H_OFF_Z = 13
_H_OFF_W = 14
_H_OFF_SP = 15
_H_OFF_RING = 16
_H_OFF_HIST_I = 17
_H_OFF_HIST_S = 18
_H_OFF_TP = 19
_H_TP_LEN = 20
_H_FRAMES = 21
_HEADER = 24
_N_COEF = 10


def prepare(
    n_channels: int,
    sample_rate_hz: float,
    channel_weights: np.ndarray | None = None,
) -> np.ndarray:
    """Allocate a meter for ``n_channels`` at ``sample_rate_hz`` (Hz).

    ``channel_weights`` (n_channels,) overrides ``default_channel_weights`` (0 excludes a
    channel, e.g. LFE). No duration limit: gating uses fixed-size histograms. Returns the
    float64 state vector.
    """
    if n_channels < 1:
        raise ValueError(f"n_channels must be >= 1, got {n_channels}")
    if not sample_rate_hz > 0:
        raise ValueError(f"sample_rate_hz must be positive, got {sample_rate_hz}")
    if channel_weights is None:
        weights = default_channel_weights(n_channels)
    else:
        weights = np.asarray(channel_weights, dtype=np.float64).reshape(-1)
        if weights.shape[0] != n_channels:
            raise ValueError(f"need {n_channels} channel weights, got {weights.shape[0]}")
    hop = max(1, int(round(sample_rate_hz / 10.0)))
    n_m = 4 * hop
    n_s = 30 * hop
    tp_state = true_peak.prepare(n_channels, sample_rate_hz)

    off_coef = _HEADER
    off_z = off_coef + _N_COEF
    off_w = off_z + 4 * n_channels
    off_sp = off_w + n_channels
    off_ring = off_sp + n_channels
    off_hist_i = off_ring + n_s
    off_hist_s = off_hist_i + 2 * _HIST_BINS
    off_tp = off_hist_s + 2 * _HIST_BINS
    state = np.zeros(off_tp + tp_state.shape[0], dtype=np.float64)

    state[_H_NCH] = n_channels
    state[_H_RATE] = sample_rate_hz
    state[_H_HOP] = hop
    state[_H_NM] = n_m
    state[_H_NS] = n_s
    state[_H_OFF_COEF] = off_coef
    state[_H_OFF_Z] = off_z
    state[_H_OFF_W] = off_w
    state[_H_OFF_SP] = off_sp
    state[_H_OFF_RING] = off_ring
    state[_H_OFF_HIST_I] = off_hist_i
    state[_H_OFF_HIST_S] = off_hist_s
    state[_H_OFF_TP] = off_tp
    state[_H_TP_LEN] = tp_state.shape[0]
    b, a = k_weighting_coefficients(sample_rate_hz)
    state[off_coef : off_coef + 5] = [b[0, 0], b[0, 1], b[0, 2], a[0, 1], a[0, 2]]
    state[off_coef + 5 : off_coef + 10] = [b[1, 0], b[1, 1], b[1, 2], a[1, 1], a[1, 2]]
    state[off_w : off_w + n_channels] = weights
    state[off_tp:] = tp_state
    return state


@numba.njit(nogil=True, cache=True)
def _hist_add(state: np.ndarray, off: int, energy: float) -> None:
    """Count a block of mean weighted energy ``energy`` into the histogram at ``off``."""
    if not energy > ABS_GATE_ENERGY:
        return
    lufs = LOUDNESS_OFFSET_DB + 10.0 * math.log10(energy)
    b = int((lufs - _HIST_MIN_LUFS) * _HIST_BINS_PER_LU)
    if b < 0:
        b = 0
    elif b >= _HIST_BINS:
        b = _HIST_BINS - 1
    state[off + b] += 1.0
    state[off + _HIST_BINS + b] += energy


# long: the K-weighting filters, 100 ms block sums and true-peak FIRs share one pass over
# each sample; the kernel is the BS.1770 measurement written out.
@numba.njit(nogil=True, cache=True)
def process(state: np.ndarray, x: np.ndarray) -> None:
    """Meter a block: x is float32 (n_channels, n_frames), any n_frames >= 0.

    Channels beyond the prepared count are ignored; NaN/inf samples count as 0 (the true
    peak meter still sees them). Never allocates.
    """
    n_state_ch = int(state[_H_NCH])
    n_ch = min(n_state_ch, x.shape[0])
    n = x.shape[1]
    hop = int(state[_H_HOP])
    n_m = int(state[_H_NM])
    n_s = int(state[_H_NS])
    oc = int(state[_H_OFF_COEF])
    oz = int(state[_H_OFF_Z])
    ow = int(state[_H_OFF_W])
    osp = int(state[_H_OFF_SP])
    ring = int(state[_H_OFF_RING])
    ohi = int(state[_H_OFF_HIST_I])
    ohs = int(state[_H_OFF_HIST_S])
    pb0 = state[oc]
    pb1 = state[oc + 1]
    pb2 = state[oc + 2]
    pa1 = state[oc + 3]
    pa2 = state[oc + 4]
    rb0 = state[oc + 5]
    rb1 = state[oc + 6]
    rb2 = state[oc + 7]
    ra1 = state[oc + 8]
    ra2 = state[oc + 9]

    pos = int(state[_H_POS])
    hop_pos = int(state[_H_HOP_POS])
    hops = int(state[_H_HOPS])
    sum_m = state[_H_SUM_M]
    sum_s = state[_H_SUM_S]
    max_m = state[_H_MAX_M]
    max_s = state[_H_MAX_S]

    for i in range(n):
        e = 0.0
        for c in range(n_ch):
            v = np.float64(x[c, i])
            if not math.isfinite(v):
                # One NaN would otherwise poison the recursive filters until reset.
                v = 0.0
            a = abs(v)
            if a > state[osp + c]:
                state[osp + c] = a
            z = oz + 4 * c
            # Transposed direct form II, float64 states.
            y1 = pb0 * v + state[z]
            state[z] = ((pb1 * v - pa1 * y1 + state[z + 1]) + _ANTI_DENORMAL) - _ANTI_DENORMAL
            state[z + 1] = ((pb2 * v - pa2 * y1) + _ANTI_DENORMAL) - _ANTI_DENORMAL
            y2 = rb0 * y1 + state[z + 2]
            state[z + 2] = ((rb1 * y1 - ra1 * y2 + state[z + 3]) + _ANTI_DENORMAL) - _ANTI_DENORMAL
            state[z + 3] = ((rb2 * y1 - ra2 * y2) + _ANTI_DENORMAL) - _ANTI_DENORMAL
            e += state[ow + c] * y2 * y2

        old_s = state[ring + pos]
        mpos = pos - n_m
        if mpos < 0:
            mpos += n_s
        old_m = state[ring + mpos]
        state[ring + pos] = e
        sum_s += e - old_s
        sum_m += e - old_m
        pos += 1
        if pos == n_s:
            # Once per ring cycle: recompute the sums exactly so rounding never accumulates
            # (and silence after loud material reads as true silence).
            pos = 0
            acc = 0.0
            for k in range(n_s - n_m, n_s):
                acc += state[ring + k]
            sum_m = acc
            for k in range(n_s - n_m):
                acc += state[ring + k]
            sum_s = acc
        if sum_m < 0.0:
            sum_m = 0.0
        if sum_s < 0.0:
            sum_s = 0.0
        if sum_m > max_m:
            max_m = sum_m
        if sum_s > max_s:
            max_s = sum_s

        hop_pos += 1
        if hop_pos == hop:
            hop_pos = 0
            hops += 1
            if hops >= 4:
                _hist_add(state, ohi, sum_m / n_m)
            if hops >= 30:
                _hist_add(state, ohs, sum_s / n_s)

    state[_H_POS] = pos
    state[_H_HOP_POS] = hop_pos
    state[_H_HOPS] = hops
    state[_H_SUM_M] = sum_m
    state[_H_SUM_S] = sum_s
    state[_H_MAX_M] = max_m
    state[_H_MAX_S] = max_s
    state[_H_FRAMES] += n

    otp = int(state[_H_OFF_TP])
    true_peak.process(state[otp : otp + int(state[_H_TP_LEN])], x)


@numba.njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Start a new measurement: clear filters, windows, histograms and peaks."""
    for k in range(_H_POS, _H_OFF_COEF):
        state[k] = 0.0
    state[_H_FRAMES] = 0.0
    n_ch = int(state[_H_NCH])
    oz = int(state[_H_OFF_Z])
    for k in range(oz, oz + 4 * n_ch):
        state[k] = 0.0
    osp = int(state[_H_OFF_SP])
    otp = int(state[_H_OFF_TP])
    for k in range(osp, osp + n_ch):
        state[k] = 0.0
    for k in range(int(state[_H_OFF_RING]), otp):
        state[k] = 0.0
    true_peak.reset(state[otp : otp + int(state[_H_TP_LEN])])


def momentary_lufs(state: np.ndarray) -> float:
    """Loudness of the last 400 ms (LUFS); time before the first sample counts as silence."""
    return energy_to_lufs(state[_H_SUM_M] / state[_H_NM])


def short_term_lufs(state: np.ndarray) -> float:
    """Loudness of the last 3 s (LUFS); time before the first sample counts as silence."""
    return energy_to_lufs(state[_H_SUM_S] / state[_H_NS])


def momentary_max_lufs(state: np.ndarray) -> float:
    """Maximum momentary loudness so far (LUFS), evaluated at every sample."""
    return energy_to_lufs(state[_H_MAX_M] / state[_H_NM])


def short_term_max_lufs(state: np.ndarray) -> float:
    """Maximum short-term loudness so far (LUFS), evaluated at every sample."""
    return energy_to_lufs(state[_H_MAX_S] / state[_H_NS])


def _histogram(state: np.ndarray, header: int) -> tuple[np.ndarray, np.ndarray]:
    off = int(state[header])
    return state[off : off + _HIST_BINS], state[off + _HIST_BINS : off + 2 * _HIST_BINS]


def _relative_gate(
    counts: np.ndarray, energies: np.ndarray, gate_lu: float
) -> tuple[np.ndarray, np.ndarray]:
    """Bins (counts, energy sums) of blocks above ``gate_lu`` relative to the abs-gated mean."""
    total = counts.sum()
    threshold = energies.sum() / total * db_to_power(gate_lu)
    used = counts > 0
    mean = np.zeros_like(energies)
    mean[used] = energies[used] / counts[used]
    keep = used & (mean > threshold)
    return counts[keep], energies[keep]


def integrated_lufs(state: np.ndarray) -> float:
    """Gated integrated loudness so far (LUFS): -70 LUFS absolute, -10 LU relative gate.

    -inf until a 400 ms gating block above the absolute gate has been seen.
    """
    counts, energies = _histogram(state, _H_OFF_HIST_I)
    if counts.sum() == 0:
        return -math.inf
    kept_counts, kept_energies = _relative_gate(counts, energies, REL_GATE_INTEGRATED_LU)
    if kept_counts.sum() == 0:
        return -math.inf
    return energy_to_lufs(kept_energies.sum() / kept_counts.sum())


def loudness_range_lu(state: np.ndarray) -> float:
    """Loudness range so far per EBU Tech 3342 (LU); 0.0 until 3 s have been measured.

    Short-term values every 100 ms, -70 LUFS absolute and -20 LU relative gate, difference
    of the 95th and 10th percentiles (nearest-rank on the sorted values).
    """
    counts, energies = _histogram(state, _H_OFF_HIST_S)
    if counts.sum() == 0:
        return 0.0
    kept_counts, kept_energies = _relative_gate(counts, energies, REL_GATE_LRA_LU)
    n = kept_counts.sum()
    if n == 0:
        return 0.0
    cumulative = np.cumsum(kept_counts)

    def percentile_lufs(fraction: float) -> float:
        rank = math.floor((n - 1) * fraction + 0.5)
        b = int(np.searchsorted(cumulative, rank, side="right"))
        return energy_to_lufs(kept_energies[b] / kept_counts[b])

    return percentile_lufs(LRA_HIGH_PERCENTILE) - percentile_lufs(LRA_LOW_PERCENTILE)


def true_peak_per_channel_dbtp(state: np.ndarray) -> np.ndarray:
    """Maximum true peak so far per channel (dBTP), shape (n_channels,)."""
    otp = int(state[_H_OFF_TP])
    return true_peak.peak_dbtp(state[otp : otp + int(state[_H_TP_LEN])])


def true_peak_dbtp(state: np.ndarray) -> float:
    """Maximum true peak so far over all channels (dBTP); -inf for silence."""
    return float(np.max(true_peak_per_channel_dbtp(state)))


def sample_peak_per_channel_dbfs(state: np.ndarray) -> np.ndarray:
    """Maximum absolute sample value so far per channel (dBFS), shape (n_channels,)."""
    n_ch = int(state[_H_NCH])
    osp = int(state[_H_OFF_SP])
    return np.array([gain_to_db(v) for v in state[osp : osp + n_ch]])


def sample_peak_dbfs(state: np.ndarray) -> float:
    """Maximum absolute sample value so far over all channels (dBFS); -inf for silence."""
    return float(np.max(sample_peak_per_channel_dbfs(state)))


def frames_processed(state: np.ndarray) -> int:
    """Number of frames metered since prepare/reset."""
    return int(state[_H_FRAMES])


def measure(
    x: np.ndarray, sample_rate_hz: float, channel_weights: np.ndarray | None = None
) -> dict[str, float]:
    """Measure a whole signal x, float (n_channels, n_frames), at ``sample_rate_hz`` (Hz).

    Returns a dict with keys integrated_lufs, momentary_max_lufs, short_term_max_lufs,
    lra_lu, true_peak_dbtp, sample_peak_dbfs (floats; -inf for silence).
    """
    x = np.ascontiguousarray(np.atleast_2d(x), dtype=np.float32)
    state = prepare(x.shape[0], sample_rate_hz, channel_weights)
    process(state, x)
    return {
        "integrated_lufs": integrated_lufs(state),
        "momentary_max_lufs": momentary_max_lufs(state),
        "short_term_max_lufs": short_term_max_lufs(state),
        "lra_lu": loudness_range_lu(state),
        "true_peak_dbtp": true_peak_dbtp(state),
        "sample_peak_dbfs": sample_peak_dbfs(state),
    }
