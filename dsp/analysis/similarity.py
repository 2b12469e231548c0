"""Compare an original clip with a rendered (processed / generated) one.

:func:`compare_arrays` and :func:`compare_files` return one dict (JSON-ready) with

- ``mfcc_distance`` (dB) and ``mfcc_similarity`` (0..1): timbre. Distance between the
  per-clip mean and standard deviation of MFCC c1..c19 (c0, the level, is left out, so a gain
  change does not count as a timbre change). Clip statistics rather than frame-by-frame
  differences, so a small delay does not read as a timbre change (onsets measure timing).
  similarity = exp(-distance / MFCC_SCALE_DB).
- ``centroid_diff_hz``: long-term spectral centroid, rendered minus original (brightness).
- ``chroma_correlation`` (-1..1): Pearson correlation of the chromagrams averaged over
  CHROMA_BLOCK_S blocks (harmony, and its progression at that resolution).
- ``centroid_rel_error``: ``|centroid_diff_hz|`` / original centroid (0.2 = 20 %); ``None``
  for a silent original.
- ``rms_ratio``: RMS(rendered) / RMS(original), linear amplitude (-6 dB -> 0.501).
- ``rms_envelope_correlation`` (-1..1): Pearson correlation of the two RMS envelopes
  (ENVELOPE_FRAME_S frames every ENVELOPE_HOP_S): do the levels rise and fall together.
- ``onset_f_measure`` (0..1) and ``onset_offset_ms`` {"mean", "median", "matched"}: onsets
  from the causal detector :mod:`dsp.onset` on both, matched by ``mir_eval`` within
  ``onset_window_s`` (50 ms); offsets are rendered minus original (positive = late). Both
  ``None`` when neither clip has onsets (the component then drops out of the overall score).
- ``mrstft_distance``: multi-resolution STFT distance, mean over FFT sizes 512/1024/2048 of
  spectral convergence + mean |ln|S_r| - ln|S_o||. 0 for identical clips; not part of
  ``overall`` (it is not gain-invariant and punishes any delay).
- ``bands``: energy per band in dBFS (:func:`dsp.analysis.features.band_energies_db`) for
  both clips and the difference in dB (rendered minus original).
- ``overall`` (0..1): weighted mean of the component scores (see :data:`DEFAULT_WEIGHTS`).
- ``notes``: what was done to make the clips comparable, and the weights used.

Before measuring, each clip is downmixed to mono (channel mean), the rendered clip is
resampled to the original's rate (soxr, VHQ), and the longer clip is trimmed to the shorter
one's length. Nothing is time-aligned: a delay is a result (onset offset), not corrected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dsp import onset as onset_detector
from dsp.analysis import spectral
from dsp.analysis.features import DEFAULT_BAND_EDGES_HZ, band_energies_db, spectral_centroid_hz
from dsp.analysis.scores import COMPONENTS, DEFAULT_WEIGHTS, ComparisonError, parse_weights
from dsp.io.audio import read_audio
from dsp.io.jsonfile import json_number
from dsp.resample import resample

__all__ = [
    "CHROMA_BLOCK_S",
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "MFCC_SCALE_DB",
    "compare_arrays",
    "compare_files",
    "detect_onsets",
    "mrstft_distance",
    "parse_weights",
]

# dB of MFCC-statistics distance at which the timbre similarity falls to 1/e. Chosen so a
# tonal clip against noise scores near 0 while soxr resampling or a gain change stays near 1.
MFCC_SCALE_DB = 20.0
N_MFCC = 20
CHROMA_BLOCK_S = 0.5
MRSTFT_FFT_SIZES = (512, 1024, 2048)
ONSET_WINDOW_S = 0.05
ENVELOPE_FRAME_S = 0.02  # short enough to follow single drum hits
ENVELOPE_HOP_S = 0.005
MIN_RELIABLE_S = 0.5  # shorter clips get a note: a handful of frames, detector not warmed up
_EPS_MAG = 1e-7  # magnitude floor before the log in the MR-STFT distance (-140 dBFS)


def _as_frames_channels(x: np.ndarray, label: str, notes: list[str]) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    elif x.ndim != 2:
        raise ComparisonError(f"{label}: expected (frames,) or (frames, channels)")
    elif x.shape[0] < x.shape[1] and x.shape[0] <= 8:
        # More channels than frames is implausible: this is planar (channels, frames), the
        # layout dsp.analysis.features uses.
        x = x.T
        notes.append(f"{label}: read as planar (channels, frames)")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ComparisonError(f"{label}: no audio")
    if not np.all(np.isfinite(x)):
        raise ComparisonError(f"{label}: contains NaN or infinity")
    return x


def detect_onsets(x: np.ndarray, sample_rate_hz: float) -> np.ndarray:
    """Onset times in s of mono ``x`` from :mod:`dsp.onset`, run offline.

    Hop 32 with lag 4 instead of the live 128 / 1: the flux still compares spectra 128
    samples apart (so the tuned threshold delta still fits) but peaks are picked on a 4x finer
    grid (0.7 ms at 44.1 kHz), which onset-offset measurement needs. The detector's fixed
    position bias is the same for both clips, so it cancels in the offsets.
    """
    state = onset_detector.prepare(sample_rate_hz, frame_size=512, hop=32, lag=4,
                                   threshold_frames=64)
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    # Flush with silence so an onset near the end still gets its look-ahead frames.
    x32 = np.concatenate((x32, np.zeros(1024, dtype=np.float32)))
    out = np.zeros((x32.shape[0] // 32 + 16, 2))
    n = onset_detector.process(state, x32, out)
    times = out[:n, 0] / sample_rate_hz
    return times[(times >= 0.0) & (times < x.shape[0] / sample_rate_hz)]


def mrstft_distance(a: np.ndarray, b: np.ndarray,
                    fft_sizes: tuple[int, ...] = MRSTFT_FFT_SIZES) -> float:
    """Multi-resolution STFT distance of mono a (reference) and b, same length and rate.

    Per FFT size N (hop N/4, Hann): spectral convergence ||S_b| - |S_a||_F / ||S_a||_F plus
    mean |ln max(|S_b|, eps) - ln max(|S_a|, eps)|; averaged over sizes. Dimensionless, 0 when
    identical; a -6 dB copy gives about 0.5 + 0.69.
    """
    total = 0.0
    for n_fft in fft_sizes:
        sa = np.abs(spectral.stft(a, n_fft, n_fft // 4))
        sb = np.abs(spectral.stft(b, n_fft, n_fft // 4))
        norm = np.linalg.norm(sa)
        diff = np.linalg.norm(sb - sa)
        sc = diff / norm if norm > 0.0 else (0.0 if diff == 0.0 else 1.0)
        mag = np.mean(np.abs(np.log(np.maximum(sb, _EPS_MAG)) - np.log(np.maximum(sa, _EPS_MAG))))
        total += sc + float(mag)
    return float(total / len(fft_sizes))


def _mfcc_stats(x: np.ndarray, sr: float) -> np.ndarray:
    c = spectral.mfcc(x, sr, n_mfcc=N_MFCC)[1:]  # drop c0 (level)
    return np.concatenate((c.mean(axis=1), c.std(axis=1)))


def _block_chroma(x: np.ndarray, sr: float) -> np.ndarray:
    hop = spectral.DEFAULT_HOP
    c = spectral.chroma(x, sr, hop=hop)
    per_block = max(1, int(round(CHROMA_BLOCK_S * sr / hop)))
    n_blocks = -(-c.shape[1] // per_block)
    padded = np.pad(c, ((0, 0), (0, n_blocks * per_block - c.shape[1])))
    return padded.reshape(12, n_blocks, per_block).mean(axis=2)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a.ravel() - a.mean()
    b = b.ravel() - b.mean()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na <= 1e-12 or nb <= 1e-12:
        # A flat chromagram (silence) has no harmony to correlate: equal if both are flat.
        return 1.0 if na <= 1e-12 and nb <= 1e-12 else 0.0
    # Clipped: rounding can push an identical pair to 1 + 2e-16.
    return float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))


def _centroid_score(ca: float, cb: float) -> float:
    # One octave of centroid shift costs the whole score: brightness is heard on a log scale.
    if ca <= 0.0 or cb <= 0.0:
        return 1.0 if ca == cb else 0.0
    return max(0.0, 1.0 - abs(math.log2(cb / ca)))


def _aligned(a: np.ndarray, sr_a: float, b: np.ndarray, sr_b: float, notes: list[str]
             ) -> tuple[np.ndarray, np.ndarray, float]:
    """Both clips mono, at ``sr_a``, trimmed to the shorter; what was done goes in ``notes``."""
    xa = _as_frames_channels(a, "original", notes)
    xb = _as_frames_channels(b, "rendered", notes)
    for label, x in (("original", xa), ("rendered", xb)):
        if x.shape[1] > 1:
            notes.append(f"downmixed {label} {x.shape[1]}->1 channels (mean)")
    ma, mb = spectral.to_mono(xa), spectral.to_mono(xb)
    sr = float(sr_a)
    if sr_b != sr_a:
        mb = resample(mb, float(sr_b), sr).astype(np.float64)
        notes.append(f"resampled rendered {sr_b:g}->{sr:g} Hz (soxr VHQ)")
    n = min(ma.shape[0], mb.shape[0])
    for label, m in (("original", ma), ("rendered", mb)):
        if m.shape[0] > n:
            notes.append(f"trimmed {label} {m.shape[0]}->{n} samples "
                         f"({m.shape[0] / sr:.3f}->{n / sr:.3f} s) to the shorter length")
    if n < MIN_RELIABLE_S * sr:
        notes.append(f"only {n / sr:.3f} s to compare: under {MIN_RELIABLE_S:g} s the scores "
                     "rest on a few frames and no onsets")
    return ma[:n], mb[:n], sr


def _energy(ma: np.ndarray, mb: np.ndarray, sr: float) -> tuple[float, float, float]:
    """RMS ratio (rendered / original), its score and the RMS envelopes' correlation."""
    rms_a, rms_b = float(np.sqrt(np.mean(ma * ma))), float(np.sqrt(np.mean(mb * mb)))
    if rms_a > 0.0:
        ratio = rms_b / rms_a
    else:
        ratio = 1.0 if rms_b == 0.0 else math.inf
    env_frame = max(2, int(round(ENVELOPE_FRAME_S * sr)))
    env_hop = max(1, int(round(ENVELOPE_HOP_S * sr)))
    envelope_corr = _pearson(spectral.rms(ma, env_frame, env_hop),
                             spectral.rms(mb, env_frame, env_hop))
    score = min(ratio, 1.0 / ratio) if 0.0 < ratio < math.inf else (
        1.0 if ratio == 1.0 else 0.0)
    return ratio, score, envelope_corr


def _timing(ma: np.ndarray, mb: np.ndarray, sr: float, window_s: float, notes: list[str]
            ) -> tuple[float | None, dict[str, float | int | None]]:
    """Onset F-measure (None when neither clip has onsets) and the matched offsets in ms."""
    import mir_eval.onset  # deferred: mir_eval's import is slow and only needed here
    import mir_eval.util

    on_a, on_b = detect_onsets(ma, sr), detect_onsets(mb, sr)
    if on_a.size == 0 and on_b.size == 0:
        notes.append("no onsets in either clip: onset score left out of overall")
        return None, {"mean": None, "median": None, "matched": 0}
    both = on_a.size and on_b.size
    onset_f = float(mir_eval.onset.f_measure(on_a, on_b, window=window_s)[0]) if both else 0.0
    pairs = mir_eval.util.match_events(on_a, on_b, window_s) if both else []
    offsets_ms = np.array([(on_b[j] - on_a[i]) * 1e3 for i, j in pairs])
    notes.append(f"onsets: {on_a.size} original, {on_b.size} rendered, "
                 f"{offsets_ms.size} matched within {window_s * 1e3:g} ms")
    return onset_f, {
        "mean": float(offsets_ms.mean()) if offsets_ms.size else None,
        "median": float(np.median(offsets_ms)) if offsets_ms.size else None,
        "matched": int(offsets_ms.size),
    }


def _bands(ma: np.ndarray, mb: np.ndarray, sr: float) -> list[dict[str, float]]:
    bands_a, bands_b = band_energies_db(ma, sr), band_energies_db(mb, sr)
    edges = DEFAULT_BAND_EDGES_HZ
    return [{"low_hz": edges[i], "high_hz": edges[i + 1], "original_db": float(bands_a[i]),
             "rendered_db": float(bands_b[i]), "diff_db": float(bands_b[i] - bands_a[i])}
            for i in range(len(edges) - 1)]


def _overall(scores: dict[str, float | None], w: dict[str, float], notes: list[str]
             ) -> float | None:
    """The weighted mean of the component scores that exist."""
    used = {k: w[k] for k, s in scores.items() if s is not None}
    total_w = sum(used.values())
    overall = (sum(w[k] * scores[k] for k in used) / total_w  # type: ignore[operator]
               if total_w > 0 else None)
    if overall is None:
        notes.append("every component with a score has weight 0: overall is undefined")
    notes.append("weights: " + ", ".join(f"{k}={w[k]:g}" for k in COMPONENTS))
    notes.append("component scores: " + ", ".join(
        f"{k}={'n/a' if s is None else f'{s:.3f}'}" for k, s in scores.items()))
    return overall


def compare_arrays(
    a: np.ndarray,
    sr_a: float,
    b: np.ndarray,
    sr_b: float,
    weights: str | Mapping[str, float] | None = None,
    onset_window_s: float = ONSET_WINDOW_S,
) -> dict[str, Any]:
    """Compare original ``a`` with rendered ``b``; returns the dict described in the module doc.

    a, b: float ``(frames,)`` or ``(frames, channels)`` in full scale (1.0); sr_a, sr_b in Hz.
    weights: None (defaults), a mapping or a ``"name=value,..."`` string over
    :data:`COMPONENTS`. Raises ComparisonError for empty or non-finite input or bad weights.
    """
    w = parse_weights(weights)
    notes: list[str] = []
    ma, mb, sr = _aligned(a, sr_a, b, sr_b, notes)
    mfcc_distance = float(np.linalg.norm(_mfcc_stats(mb, sr) - _mfcc_stats(ma, sr)))
    mfcc_similarity = math.exp(-mfcc_distance / MFCC_SCALE_DB)
    ca, cb = spectral_centroid_hz(ma, sr), spectral_centroid_hz(mb, sr)
    chroma_corr = _pearson(_block_chroma(ma, sr), _block_chroma(mb, sr))
    rms_ratio, rms_score, envelope_corr = _energy(ma, mb, sr)
    onset_f, onset_offset = _timing(ma, mb, sr, onset_window_s, notes)
    scores: dict[str, float | None] = {
        "mfcc": mfcc_similarity,
        "centroid": _centroid_score(ca, cb),
        "chroma": max(0.0, chroma_corr),
        "rms": rms_score,
        "onsets": onset_f,
    }
    overall = _overall(scores, w, notes)
    return {
        "overall": overall,
        "mfcc_similarity": mfcc_similarity,
        "mfcc_distance": mfcc_distance,
        "centroid_diff_hz": cb - ca,
        "centroid_rel_error": abs(cb - ca) / ca if ca > 0.0 else None,
        "chroma_correlation": chroma_corr,
        "rms_ratio": json_number(rms_ratio),
        "rms_envelope_correlation": envelope_corr,
        "onset_f_measure": onset_f,
        "onset_offset_ms": onset_offset,
        "mrstft_distance": mrstft_distance(ma, mb),
        "bands": _bands(ma, mb, sr),
        "notes": notes,
    }


def compare_files(
    path_a: str | Path,
    path_b: str | Path,
    weights: str | Mapping[str, float] | None = None,
    onset_window_s: float = ONSET_WINDOW_S,
    force: bool = False,
) -> dict[str, Any]:
    """:func:`compare_arrays` on two audio files (original, rendered); AudioFileError if
    one is unreadable."""
    a, b = read_audio(path_a, force), read_audio(path_b, force)
    result = compare_arrays(a.samples, a.rate_hz, b.samples, b.rate_hz, weights, onset_window_s)
    result["nonfinite_replaced"] = {"original": a.nonfinite, "rendered": b.nonfinite}
    return result
