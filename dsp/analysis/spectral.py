"""Frame-wise spectral features for offline analysis: mel, MFCC, chroma, flux, centroid, RMS.

Plain numpy on whole clips (never in the audio callback). Input is a mono float array
``(n_samples,)``; downmix first (see :func:`to_mono`). Every frame-wise feature shares one
STFT grid: periodic Hann window of ``n_fft`` samples, hop ``hop`` samples, frames *centred*
(the signal is zero-padded by ``n_fft // 2`` on both sides), so frame ``t`` is centred on
sample ``t * hop`` and there are ``1 + n_samples // hop`` frames.

Whole-clip summaries that already exist live in :mod:`dsp.analysis.features` (long-term centroid,
band energies, RMS in dBFS) and are re-exported here rather than duplicated.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dsp.analysis.features import band_energies_db, rms_dbfs, spectral_centroid_hz

__all__ = [
    "DEFAULT_HOP",
    "DEFAULT_N_FFT",
    "PITCH_CLASSES",
    "band_energies_db",
    "chroma",
    "hz_to_mel",
    "mel_filterbank",
    "mel_spectrogram",
    "mel_to_hz",
    "mfcc",
    "onset_envelope",
    "power_to_db",
    "rms",
    "rms_dbfs",
    "spectral_centroid",
    "spectral_centroid_hz",
    "stft",
    "to_mono",
]

DEFAULT_N_FFT = 2048
DEFAULT_HOP = 512
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# Slaney's mel scale: linear (200/3 Hz per mel) below 1 kHz, logarithmic above.
_F_SP = 200.0 / 3.0
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP  # 15 mel
_LOGSTEP = np.log(6.4) / 27.0  # 27 mel per factor 6.4 in frequency
_TINY = 1e-20  # power floor before log: -200 dB, far below any real signal


def to_mono(x: np.ndarray) -> np.ndarray:
    """Mean over channels of ``(n_frames, n_channels)`` (soundfile layout) or pass ``(n,)``.

    Returns float64 ``(n_frames,)``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        return x
    if x.ndim != 2:
        raise ValueError("expected (n_frames,) or (n_frames, n_channels)")
    return x.mean(axis=1)


def _check_mono(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("expected mono (n_samples,); use to_mono() first")
    return x


def stft(x: np.ndarray, n_fft: int = DEFAULT_N_FFT, hop: int = DEFAULT_HOP) -> np.ndarray:
    """Centred STFT of mono ``x``: complex128 ``(n_fft // 2 + 1, 1 + len(x) // hop)``.

    Periodic Hann window, zero padding of ``n_fft // 2`` at both ends (zeros rather than a
    reflection so a click at the start is not mirrored into a second onset). Unnormalised:
    X_k = sum_n w_n x_n exp(-2 pi i k n / n_fft), so a full-scale sine peaks at n_fft / 4.
    """
    x = _check_mono(x)
    if n_fft < 2 or hop < 1:
        raise ValueError("n_fft must be >= 2 and hop >= 1")
    pad = n_fft // 2
    padded = np.pad(x, (pad, pad + n_fft))  # extra tail so the last centred frame exists
    n_frames = 1 + x.shape[0] // hop
    frames = sliding_window_view(padded, n_fft)[: n_frames * hop : hop]
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)
    return np.fft.rfft(frames * window, axis=1).T


def hz_to_mel(f_hz: np.ndarray | float) -> np.ndarray:
    """Slaney mel scale: f / (200/3) below 1 kHz, 15 + ln(f / 1000) / (ln 6.4 / 27) above."""
    f = np.asarray(f_hz, dtype=np.float64)
    log_part = _MIN_LOG_MEL + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(f >= _MIN_LOG_HZ, log_part, f / _F_SP)


def mel_to_hz(m_mel: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel` (Slaney scale), in Hz."""
    m = np.asarray(m_mel, dtype=np.float64)
    log_part = _MIN_LOG_HZ * np.exp(_LOGSTEP * (np.maximum(m, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(m >= _MIN_LOG_MEL, log_part, m * _F_SP)


def mel_filterbank(
    sample_rate_hz: float,
    n_fft: int = DEFAULT_N_FFT,
    n_mels: int = 128,
    fmin_hz: float = 20.0,
    fmax_hz: float = 8000.0,
) -> np.ndarray:
    """Triangular mel filters, Slaney-normalised: float64 ``(n_mels, n_fft // 2 + 1)``.

    ``n_mels + 2`` edge frequencies are equally spaced on the Slaney mel scale from fmin to
    fmax; filter i rises linearly from edge i to 1 at edge i+1 and falls to 0 at edge i+2
    (evaluated at the FFT bin frequencies k * sr / n_fft). Each filter is scaled by
    2 / (edge_{i+2} - edge_{i}) (Hz), so every filter has unit area in Hz and a flat power
    spectral density gives the same value in every band (same as librosa's ``norm="slaney"``).
    fmax is clipped to Nyquist.
    """
    if n_mels < 1:
        raise ValueError("n_mels must be >= 1")
    fmax_hz = min(fmax_hz, sample_rate_hz / 2.0)
    if not 0.0 <= fmin_hz < fmax_hz:
        raise ValueError("need 0 <= fmin_hz < fmax_hz <= sample_rate_hz / 2")
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin_hz), hz_to_mel(fmax_hz), n_mels + 2))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate_hz)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lower) / (centre - lower)
    falling = (upper - freqs[None, :]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return weights * (2.0 / (upper - lower))


def mel_spectrogram(
    x: np.ndarray,
    sample_rate_hz: float,
    n_fft: int = DEFAULT_N_FFT,
    hop: int = DEFAULT_HOP,
    n_mels: int = 128,
    fmin_hz: float = 20.0,
    fmax_hz: float = 8000.0,
) -> np.ndarray:
    """Mel power spectrogram: float64 ``(n_mels, n_frames)``.

    |STFT|^2 (see :func:`stft`, unnormalised power) times :func:`mel_filterbank`. Units are
    power per Hz of filter bandwidth; only ratios (dB differences) are meaningful.
    """
    power = np.abs(stft(x, n_fft, hop)) ** 2
    return mel_filterbank(sample_rate_hz, n_fft, n_mels, fmin_hz, fmax_hz) @ power


def power_to_db(power: np.ndarray, top_db: float | None = 80.0) -> np.ndarray:
    """10 * log10(power), floored at ``max - top_db`` dB (``None``: only at -200 dB).

    The floor is relative to the loudest element so that scaling the signal by g shifts every
    value by exactly 20 log10(g): features built on it stay gain-invariant, and near-silent
    bins cannot dominate a log-domain distance.
    """
    db = 10.0 * np.log10(np.maximum(power, _TINY))
    if top_db is not None and db.size:
        db = np.maximum(db, db.max() - top_db)
    return db


def _dct_ii_ortho(x: np.ndarray, n_out: int) -> np.ndarray:
    # DCT-II along axis 0 with orthonormal scaling (scipy.fft.dct(type=2, norm="ortho")),
    # written as a matrix so the basis is explicit: c_k = s_k sum_n x_n cos(pi k (2n+1) / 2N).
    n = x.shape[0]
    k = np.arange(n_out)[:, None]
    basis = np.cos(np.pi * k * (2.0 * np.arange(n)[None, :] + 1.0) / (2.0 * n))
    basis *= np.sqrt(2.0 / n)
    basis[0] /= np.sqrt(2.0)
    return basis @ x


def mfcc(
    x: np.ndarray,
    sample_rate_hz: float,
    n_mfcc: int = 20,
    n_fft: int = DEFAULT_N_FFT,
    hop: int = DEFAULT_HOP,
    n_mels: int = 128,
    fmin_hz: float = 20.0,
    fmax_hz: float = 8000.0,
    top_db: float | None = 80.0,
) -> np.ndarray:
    """MFCCs: float64 ``(n_mfcc, n_frames)``, DCT-II (orthonormal) over mel bands of log-mel dB.

    log-mel = :func:`power_to_db` of :func:`mel_spectrogram` (dB, floored top_db below the
    clip's maximum). Units are dB: c0 = sqrt(n_mels) * mean log-mel level, so scaling the signal
    by g adds 20 log10(g) * sqrt(n_mels) to c0 and leaves c1... unchanged. n_mfcc <= n_mels
    (13-20 is usual).
    """
    if not 1 <= n_mfcc <= n_mels:
        raise ValueError("need 1 <= n_mfcc <= n_mels")
    log_mel = power_to_db(
        mel_spectrogram(x, sample_rate_hz, n_fft, hop, n_mels, fmin_hz, fmax_hz), top_db
    )
    return _dct_ii_ortho(log_mel, n_mfcc)


def chroma(
    x: np.ndarray,
    sample_rate_hz: float,
    n_fft: int = 4096,
    hop: int = DEFAULT_HOP,
    fmin_hz: float = 55.0,
    fmax_hz: float = 5000.0,
    tuning_hz: float = 440.0,
) -> np.ndarray:
    """Chromagram: float64 ``(12, n_frames)``, rows C, C#, ... B (A = row 9).

    Every STFT bin with fmin <= f <= fmax adds its power |X_k|^2 to the pitch class nearest to
    f (equal temperament, A4 = tuning_hz). Each frame is then normalised to sum 1 (silent
    frames stay 0), so chroma describes harmony, not level. The default n_fft of 4096 gives
    about 11 Hz bins at 44.1 kHz, finer than a semitone above about 190 Hz; fmin 55 Hz keeps
    the coarse low bins (which straddle several semitones) out.
    """
    power = np.abs(stft(x, n_fft, hop)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate_hz)
    use = (freqs >= fmin_hz) & (freqs <= min(fmax_hz, sample_rate_hz / 2.0)) & (freqs > 0)
    # Semitones above C: A4 is 9 semitones above C4, so 12 log2(f / A4) + 9 = 0 at a C.
    pitch_class = np.mod(np.round(12.0 * np.log2(freqs[use] / tuning_hz) + 9.0), 12).astype(int)
    out = np.zeros((12, power.shape[1]))
    np.add.at(out, pitch_class, power[use])
    total = out.sum(axis=0, keepdims=True)
    return np.divide(out, total, out=np.zeros_like(out), where=total > _TINY)


def onset_envelope(
    x: np.ndarray,
    sample_rate_hz: float,
    n_fft: int = DEFAULT_N_FFT,
    hop: int = DEFAULT_HOP,
    n_mels: int = 128,
) -> np.ndarray:
    """Spectral-flux onset strength: float64 ``(n_frames,)`` in dB per frame.

    Mean over mel bands of the positive frame-to-frame increase of log-mel (dB, floored 80 dB
    below the clip maximum); frame 0 is 0. Offline and centred, unlike the causal detector in
    :mod:`dsp.onset` (which :mod:`dsp.analysis.similarity` uses for onset times).
    """
    log_mel = power_to_db(
        mel_spectrogram(x, sample_rate_hz, n_fft, hop, n_mels, 20.0, sample_rate_hz / 2.0)
    )
    flux = np.maximum(0.0, np.diff(log_mel, axis=1)).mean(axis=0)
    return np.concatenate(([0.0], flux))


def spectral_centroid(
    x: np.ndarray, sample_rate_hz: float, n_fft: int = DEFAULT_N_FFT, hop: int = DEFAULT_HOP
) -> np.ndarray:
    """Frame-wise magnitude-weighted spectral centroid in Hz: float64 ``(n_frames,)``.

    sum_k f_k |X_k| / sum_k |X_k| per frame; 0 for silent frames. For one number per clip use
    :func:`spectral_centroid_hz` (long-term spectrum, from :mod:`dsp.analysis.features`).
    """
    mag = np.abs(stft(x, n_fft, hop))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate_hz)
    total = mag.sum(axis=0)
    return np.divide(freqs @ mag, total, out=np.zeros_like(total), where=total > 0.0)


def rms(x: np.ndarray, frame_length: int = DEFAULT_N_FFT, hop: int = DEFAULT_HOP) -> np.ndarray:
    """Frame-wise RMS (linear, full scale = 1): float64 ``(1 + len(x) // hop,)``.

    Rectangular frames of frame_length samples centred on t * hop (zero-padded at the ends), so
    a full-scale sine reads 1/sqrt(2) away from the edges. For dBFS of a whole clip use
    :func:`rms_dbfs` (from :mod:`dsp.analysis.features`).
    """
    x = _check_mono(x)
    pad = frame_length // 2
    padded = np.pad(x * x, (pad, pad + frame_length))
    csum = np.concatenate(([0.0], np.cumsum(padded)))
    starts = np.arange(1 + x.shape[0] // hop) * hop
    return np.sqrt(np.maximum(csum[starts + frame_length] - csum[starts], 0.0) / frame_length)
