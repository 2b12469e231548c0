"""The 32 numbers the auto-mix predictor reads from each stem.

Levels (integrated loudness, RMS, peak, crest factor, peak-to-loudness ratio), dynamics
(the spread of 100 ms levels: dynamic range as the 95th minus the 10th percentile, their
deviation, the share of active blocks), spectrum (centroid, spread, roll-off, flatness, ten
octave-band shares, low/mid/high shares, zero-crossing rate), stereo (M/S ratio, L/R
balance, correlation, a mono flag) and attack (mean positive spectral flux). Each is scaled
to roughly -1…1 so the network sees comparable inputs; the same code runs in training and
when mixing, at any sample rate.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dsp.analysis import mix_figures
from dsp.units import gain_to_db, power_to_db

N_FEATURES = 32
FEATURE_RATE_HZ = 24000  # the predictor's training rate: features are read there
OCTAVE_EDGES_HZ = tuple(31.25 * 2.0 ** k for k in range(11))  # 31 Hz … 32 kHz, 10 bands
BLOCK_S = 0.1
ACTIVE_DB = -50.0
_TINY = 1e-12


def _db(power: float) -> float:
    return power_to_db(max(power, _TINY))


@njit(nogil=True, cache=True)
def _sample_sums(x: np.ndarray, block: int, blocks: np.ndarray) -> np.ndarray:
    """One pass over ``x (2, n)``: [sum L², sum R², sum LR, sum (L+R)², sum (L-R)², peak
    |x|, sign changes of the mono sum], and ``blocks[b]``: the mean square over both
    channels of samples [b block, (b + 1) block) (a shorter signal's one block: all of
    it). No temporaries (numpy's, fresh pages each, kept threads from running together)
    and the GIL released, so stems are read on several threads."""
    n = x.shape[1]
    ll = rr = lr = mm = ss = peak = 0.0
    changes = 0
    was_negative = False
    for b in range(blocks.size + 1):  # the last pass: samples after the whole blocks
        start = b * block
        end = min(n, start + block) if b < blocks.size else n
        acc = 0.0
        for i in range(start, end):
            left = np.float64(x[0, i])
            right = np.float64(x[1, i])
            acc += left * left + right * right
            lr += left * right
            mid = left + right
            side = left - right
            mm += mid * mid
            ss += side * side
            peak = max(peak, abs(left), abs(right))
            negative = math.copysign(1.0, 0.5 * mid) < 0.0  # numpy's signbit of the mono
            if negative != was_negative and i > 0:
                changes += 1
            was_negative = negative
            ll += left * left
            rr += right * right
        if b < blocks.size:
            blocks[b] = acc / (2.0 * max(1, end - start))
    return np.array([ll, rr, lr, mm, ss, peak, float(changes)])


def features(x: np.ndarray, rate_hz: int) -> np.ndarray:
    """Features of one stem ``x (2, n)`` as float32 ``(N_FEATURES,)``; feature 0 is 1
    (present), so a padded slot (all zeros) is told apart."""
    x = np.ascontiguousarray(x)
    if x.ndim != 2 or x.shape[0] != 2:
        raise ValueError(f"features read a stereo stem (2, n), not {x.shape}")
    n = x.shape[1]
    block = max(1, round(BLOCK_S * rate_hz))
    blocks = np.empty(max(1, n // block))
    ll, rr, lr, mm, ss, peak, changes = _sample_sums(x, block, blocks)
    power = (ll + rr) / max(1, 2 * n)
    rms_db = _db(power)
    peak_db = gain_to_db(max(peak, 1e-6))
    loud = mix_figures.lufs(x, rate_hz)
    loud = loud if math.isfinite(loud) else -70.0
    blocks_db = 10.0 * np.log10(np.maximum(blocks, _TINY))
    active = blocks_db > ACTIVE_DB
    heard = blocks_db[active] if active.any() else blocks_db
    dyn_range = float(np.percentile(heard, 95) - np.percentile(heard, 10))
    mag, freqs = mix_figures.mono_power_spectra(x, rate_hz)
    spec = (mag * mag).sum(axis=0)
    total = float(spec.sum()) + _TINY
    centroid = mix_figures.centroid_from_spectra(mag, freqs)
    centroid = centroid if math.isfinite(centroid) else 1000.0
    spread = math.sqrt(float(((freqs - centroid) ** 2 * spec).sum()) / total)
    cumulative = np.cumsum(spec) / total
    rolloff = float(freqs[min(int(np.searchsorted(cumulative, 0.85)), freqs.size - 1)])
    flatness = float(np.exp(np.mean(np.log(spec + _TINY))) / (np.mean(spec) + _TINY))
    octaves = [float(spec[(freqs >= lo) & (freqs < hi)].sum()) / total
               for lo, hi in zip(OCTAVE_EDGES_HZ[:-1], OCTAVE_EDGES_HZ[1:], strict=True)]
    low, mid_share, high = mix_figures.band_shares(mag, freqs)
    ms = math.sqrt(ss / mm) if mm > mix_figures.TINY else 0.0  # silent mid: as ms_ratio
    balance_db = _db(ll / max(1, n)) - _db(rr / max(1, n))
    denom = math.sqrt(ll * rr)
    corr = lr / denom if denom > _TINY else 1.0
    flux = np.maximum(np.diff(mag, axis=0), 0.0).sum(axis=1)
    attack = float(flux.mean() / (mag.sum(axis=1).mean() + _TINY)) if flux.size else 0.0
    zcr = changes / (n - 1) if n > 1 else 0.0
    f = [1.0, (loud + 20.0) / 20.0, (rms_db + 20.0) / 20.0, (peak_db + 10.0) / 20.0,
         (peak_db - rms_db - 12.0) / 12.0, math.log2(max(centroid, 20.0) / 1000.0) / 3.0,
         (dyn_range - 10.0) / 10.0, float(np.std(heard)) / 10.0, float(active.mean()),
         math.log2(max(spread, 20.0) / 1000.0) / 3.0, math.log2(max(rolloff, 20.0) / 2000.0) / 3.0,
         flatness, ms, float(np.clip(balance_db / 12.0, -2, 2)), corr, attack,
         *(math.log10(o + 1e-6) / 3.0 + 1.0 for o in octaves), low, mid_share, high,
         (peak_db - loud - 15.0) / 10.0, math.log10(max(zcr, 1e-5)) + 2.0, float(ms < 1e-3)]
    return np.asarray(f[:N_FEATURES] + [0.0] * (N_FEATURES - len(f)), np.float32)


def at_feature_rate(x: np.ndarray, rate_hz: int) -> np.ndarray:
    """``x (2, n)`` resampled (soxr, HQ) to ``FEATURE_RATE_HZ``, as in training; soxr
    releases the GIL, so stems can be resampled on several threads."""
    from dsp.resample import resample

    if rate_hz == FEATURE_RATE_HZ:
        return np.asarray(x)
    # channel by channel: soxr's result is the same, and no interleaved copy is made
    return np.stack([resample(np.ascontiguousarray(c), rate_hz, FEATURE_RATE_HZ, "HQ")
                     for c in np.asarray(x)])
