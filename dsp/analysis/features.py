"""Offline audio features for analysis (auto-mix, preset matching, metering summaries).

Plain numpy: these run on whole clips outside the audio callback. Input is planar float
``(n_channels, n_frames)`` or a 1-D mono array. Levels are in dB relative to digital full
scale where 0 dBFS is the RMS of a full-scale square wave (so a full-scale sine is -3.01 dBFS;
this is not the AES17 convention, which adds 3.01 dB). Silent input gives ``FLOOR_DB``
instead of -inf.
"""

from __future__ import annotations

import numpy as np

FLOOR_DB = -200.0
DEFAULT_BAND_EDGES_HZ = (20.0, 150.0, 500.0, 2000.0, 6000.0, 20000.0)
SPECTRUM_FFT_SIZE = 2048

_TINY = 10.0 ** (FLOOR_DB / 10.0)


def _planar(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        return x[None, :]
    if x.ndim != 2:
        raise ValueError("expected (n_channels, n_frames) or (n_frames,)")
    return x


def _power_db(power: np.ndarray | float) -> np.ndarray | float:
    return np.maximum(10.0 * np.log10(np.maximum(power, _TINY)), FLOOR_DB)


def rms_dbfs(x: np.ndarray) -> float:
    """RMS level in dBFS: 10*log10(mean of x**2 over all channels and frames).

    Unweighted, no window. Full-scale sine -> -3.01; full-scale square -> 0.
    """
    x = _planar(x)
    return float(_power_db(np.mean(x * x)))


def crest_factor_db(x: np.ndarray) -> float:
    """Crest factor in dB: 20*log10(sample peak / RMS), both over all channels and frames.

    Sample peak (no oversampling / true peak). Sine -> 3.01 dB; square -> 0 dB; 0 for silence.
    """
    x = _planar(x)
    ms = np.mean(x * x)
    if ms <= _TINY:
        return 0.0
    return float(10.0 * np.log10(np.max(x * x) / ms))


def _frames(mono: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    if mono.shape[0] < n_fft:
        mono = np.pad(mono, (0, n_fft - mono.shape[0]))
    n = 1 + (mono.shape[0] - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n)[:, None]
    return mono[idx]


def _hann(n_fft: int) -> np.ndarray:
    # Periodic Hann (the STFT convention).
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)


def power_spectrum(
    x: np.ndarray, sample_rate_hz: float, n_fft: int = SPECTRUM_FFT_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Welch one-sided power spectrum of the mono downmix, scaled so its sum is the mean square.

    Mono downmix = mean of the channels; Hann window of n_fft samples, hop n_fft // 2, frames
    averaged. P_k = c_k |X_k|^2 / (n_fft * sum(w^2)) with c_k = 2 except DC and Nyquist, so
    sum(P) equals the mean square of the downmix (Parseval). Returns (freqs_hz, P), each
    (n_fft // 2 + 1,).
    """
    mono = _planar(x).mean(axis=0)
    window = _hann(n_fft)
    spec = np.fft.rfft(_frames(mono, n_fft, n_fft // 2) * window, axis=1)
    power = np.mean(np.abs(spec) ** 2, axis=0) / (n_fft * np.sum(window * window))
    power[1 : n_fft // 2] *= 2.0
    return np.fft.rfftfreq(n_fft, 1.0 / sample_rate_hz), power


def spectral_centroid_hz(
    x: np.ndarray, sample_rate_hz: float, n_fft: int = SPECTRUM_FFT_SIZE
) -> float:
    """Magnitude-weighted spectral centroid in Hz of the long-term spectrum.

    Mono downmix, Hann window of n_fft (default 2048) samples, hop n_fft // 2; the magnitude
    spectrum |X_k| is averaged over frames, then centroid = sum(f_k * M_k) / sum(M_k) over bins
    0 … n_fft/2. A pure 1 kHz sine -> about 1000 Hz. 0 for silence.
    """
    mono = _planar(x).mean(axis=0)
    spec = np.fft.rfft(_frames(mono, n_fft, n_fft // 2) * _hann(n_fft), axis=1)
    mag = np.mean(np.abs(spec), axis=0)
    total = mag.sum()
    if total <= 0.0:
        return 0.0
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate_hz)
    return float(np.sum(freqs * mag) / total)


def band_energies_db(
    x: np.ndarray,
    sample_rate_hz: float,
    band_edges_hz: tuple[float, ...] = DEFAULT_BAND_EDGES_HZ,
    n_fft: int = SPECTRUM_FFT_SIZE,
) -> np.ndarray:
    """Energy per frequency band in dBFS (mean-square power inside the band).

    Bins of :func:`power_spectrum` with edge_i <= f_k < edge_{i+1} are summed, so the bands add
    up (in power) to the mean square of the mono downmix within the outer edges. A full-scale
    1 kHz sine -> -3.01 dB in the 500-2000 Hz band. Returns float64 (len(band_edges_hz) - 1,).
    """
    edges = np.asarray(band_edges_hz, dtype=np.float64)
    if edges.ndim != 1 or edges.shape[0] < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("band_edges_hz must be increasing, at least two edges")
    freqs, power = power_spectrum(x, sample_rate_hz, n_fft)
    band = np.searchsorted(edges, freqs, side="right") - 1
    out = np.zeros(edges.shape[0] - 1)
    inside = (band >= 0) & (band < out.shape[0])
    np.add.at(out, band[inside], power[inside])
    return _power_db(out)


def short_term_rms_dbfs(
    x: np.ndarray, sample_rate_hz: float, window_ms: float = 400.0, hop_ms: float = 100.0
) -> np.ndarray:
    """RMS in dBFS over sliding rectangular windows (all channels pooled).

    window_ms long, every hop_ms. Returns float64 (n_windows,); a clip shorter than one window
    gives one value over the whole clip.
    """
    x = _planar(x)
    power = np.mean(x * x, axis=0)
    n_win = max(1, int(round(window_ms * 1e-3 * sample_rate_hz)))
    hop = max(1, int(round(hop_ms * 1e-3 * sample_rate_hz)))
    if power.shape[0] <= n_win:
        return np.atleast_1d(_power_db(power.mean()))
    csum = np.concatenate(([0.0], np.cumsum(power)))
    starts = np.arange(0, power.shape[0] - n_win + 1, hop)
    return _power_db((csum[starts + n_win] - csum[starts]) / n_win)


def dynamic_range_db(
    x: np.ndarray,
    sample_rate_hz: float,
    window_ms: float = 400.0,
    hop_ms: float = 100.0,
    gate_dbfs: float = -70.0,
) -> float:
    """Dynamic range in dB: 95th minus 10th percentile of the short-term RMS (dBFS).

    Short-term RMS from :func:`short_term_rms_dbfs` (400 ms rectangular windows, 100 ms hop);
    windows below gate_dbfs (silence) are ignored; linear-interpolated percentiles. 0 when fewer
    than two windows pass the gate.
    """
    levels = short_term_rms_dbfs(x, sample_rate_hz, window_ms, hop_ms)
    levels = levels[levels > gate_dbfs]
    if levels.shape[0] < 2:
        return 0.0
    return float(np.percentile(levels, 95.0) - np.percentile(levels, 10.0))


def ms_energy_ratio_db(x: np.ndarray) -> float:
    """Mid/side energy ratio in dB: 10*log10(sum(M**2) / sum(S**2)).

    M = (L + R) / 2, S = (L - R) / 2 over the whole clip; x (2, n_frames). Positive = more mid;
    0 dB for L only or uncorrelated equal-level channels; clipped to ±(-FLOOR_DB) when one side
    is silent (+200 for mono, -200 for L = -R), 0 for silence.
    """
    x = _planar(x)
    if x.shape[0] != 2:
        raise ValueError("ms_energy_ratio_db needs a stereo (2, n_frames) input")
    mid = 0.5 * (x[0] + x[1])
    side = 0.5 * (x[0] - x[1])
    e_mid = float(np.sum(mid * mid))
    e_side = float(np.sum(side * side))
    if e_mid <= _TINY and e_side <= _TINY:
        return 0.0
    ratio = 10.0 * np.log10(max(e_mid, _TINY) / max(e_side, _TINY))
    return float(np.clip(ratio, FLOOR_DB, -FLOOR_DB))
