"""How well the drum model reconstructs drums, and whether a beatbox keeps its rhythm.

Everything runs the way the engine runs the model: through the worker insert
(``make_drums_insert``), block by block at 48 kHz, from its initial state. Metrics come
from :func:`dsp.analysis.similarity.compare_arrays` (what ``musicmill compare`` prints), with
onsets matched within 20 ms:

* held-out drum loops (:func:`models.drum_ae.corpus.heldout`): onset F-measure, RMS
  envelope correlation, spectral-centroid relative error and multi-resolution STFT
  distance, each the mean over the loops; the STFT distance is set against a trivial
  baseline, white noise low-passed at 5 kHz and shaped by the input's RMS envelope;
* beatbox (the held-out espeak-ng + synthesized vocal-percussion corpus of
  ``models/beatbox``): onset F-measure of the model's output against the input's onsets.

Targets (issue "voice to drums"): loops onset F >= 0.9, envelope correlation >= 0.9,
centroid error <= 20 %, STFT distance below the baseline's; beatbox onset F >= 0.8.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from scipy import signal

from dsp.analysis.similarity import compare_arrays, mrstft_distance
from dsp.analysis.spectral import rms
from models.drum_ae import corpus
from models.drum_ae.shipped import SHIPPED_MODEL, make_drums_insert

SR = 48000
ONSET_WINDOW_S = 0.02
TARGETS = {"onset_f_measure": 0.9, "rms_envelope_correlation": 0.9, "centroid_rel_error": 0.2,
           "beatbox_onset_f_measure": 0.8}


def run_model(audio: np.ndarray, model_path: Path | str | None = None,
              backend: str = "onnx", seed: int = 0) -> np.ndarray:
    """Mono ``(n,)`` at 48 kHz through the worker insert, block by block; same length out."""
    proc = make_drums_insert(SR, model_path, backend, seed=seed)
    b = proc.block_frames
    n = audio.shape[0]
    x = np.zeros((2, -(-n // b) * b), np.float32)
    x[:, :n] = audio
    out = np.concatenate([proc.process(x[:, i:i + b]) for i in range(0, x.shape[1], b)], axis=1)
    return out[0, :n]


def envelope_noise_baseline(audio: np.ndarray, seed: int = 0) -> np.ndarray:
    """White noise low-passed at 5 kHz, scaled to the input's 20 ms RMS envelope."""
    rng = np.random.default_rng(seed)
    sos = signal.butter(4, 5000.0, fs=SR, output="sos")
    noise = signal.sosfilt(sos, rng.standard_normal(audio.shape[0]))
    noise /= np.sqrt(np.mean(noise**2)) + 1e-12
    hop = SR // 200
    env = rms(audio.astype(np.float64), 4 * hop, hop)
    env_t = np.interp(np.arange(audio.shape[0]), np.arange(env.shape[0]) * hop, env)
    return (noise * env_t).astype(np.float32)


def _scores(reference: np.ndarray, rendered: np.ndarray) -> dict[str, float]:
    r = compare_arrays(reference, SR, rendered, SR, onset_window_s=ONSET_WINDOW_S)
    return {k: float(r[k]) if r[k] is not None else float("nan")
            for k in ("onset_f_measure", "rms_envelope_correlation", "centroid_rel_error",
                      "mrstft_distance")}


def evaluate(model_path: Path | str | None = None, loops: int = 8, loop_s: float = 4.0,
             beatbox_hits: int = 48, backend: str = "onnx",
             write_dir: Path | None = None) -> dict[str, Any]:
    """The metrics above as a dict (``per_loop`` holds each loop's numbers).

    ``write_dir``: also write each input and reconstruction as WAV, to check by ear or with
    ``musicmill compare``.
    """
    from models.beatbox.corpus import make_corpus

    per_loop, baseline = [], []
    for i in range(loops):
        x = corpus.heldout(i, loop_s)
        y = run_model(x, model_path, backend, seed=i)
        per_loop.append(_scores(x, y))
        # Only its STFT distance is reported: no need for the rest of the comparison.
        baseline.append(mrstft_distance(x.astype(np.float64),
                                        envelope_noise_baseline(x, seed=i).astype(np.float64)))
        if write_dir is not None:
            write_dir.mkdir(parents=True, exist_ok=True)
            sf.write(write_dir / f"loop{i}_input.wav", x, SR, subtype="FLOAT")
            sf.write(write_dir / f"loop{i}_model.wav", y, SR, subtype="FLOAT")
    beat = make_corpus(beatbox_hits, seed=7, split="heldout", sample_rate_hz=SR)
    y_beat = run_model(beat.audio, model_path, backend, seed=0)
    if write_dir is not None:
        sf.write(write_dir / "beatbox_input.wav", beat.audio, SR, subtype="FLOAT")
        sf.write(write_dir / "beatbox_model.wav", y_beat, SR, subtype="FLOAT")
    beat_scores = _scores(beat.audio, y_beat)
    keys = ("onset_f_measure", "rms_envelope_correlation", "centroid_rel_error",
            "mrstft_distance")
    result: dict[str, Any] = {k: float(np.mean([s[k] for s in per_loop])) for k in keys}
    result["baseline_mrstft_distance"] = float(np.mean(baseline))
    result["beatbox_onset_f_measure"] = beat_scores["onset_f_measure"]
    result["model"] = str(model_path or SHIPPED_MODEL)
    result["loops"], result["loop_s"], result["beatbox_hits"] = loops, loop_s, beatbox_hits
    result["per_loop"] = per_loop
    result["passed"] = {
        "onset_f_measure": result["onset_f_measure"] >= TARGETS["onset_f_measure"],
        "rms_envelope_correlation":
            result["rms_envelope_correlation"] >= TARGETS["rms_envelope_correlation"],
        "centroid_rel_error": result["centroid_rel_error"] <= TARGETS["centroid_rel_error"],
        "mrstft_below_baseline": result["mrstft_distance"] < result["baseline_mrstft_distance"],
        "beatbox_onset_f_measure":
            result["beatbox_onset_f_measure"] >= TARGETS["beatbox_onset_f_measure"],
    }
    return result
