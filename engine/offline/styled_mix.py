"""Mix stems to a genre style: predictor → channel strips → master → measured correction.

``mix(stems, style=...)`` is the Python entry (``musicmill mix --style rock_punk`` runs it):
each stem's features (``dsp.analysis.stem_features``) and the style's targets go into the
trained predictor (``models.automix.predictor``, numpy), which sets every stem's channel
strip (``dsp.channel_strip``) and the master's tilt, side gain and gain; the strips run in
parallel threads (the kernels release the GIL), their pans are spread where the style
needs more width than the stems have (``spread``), their sum goes through the style's bus
compressor, and ``correction.correct`` measures and trims tilt, side gain and gain so the
output meets the targets through the true-peak limiter.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

from dsp import channel_strip, mastering
from dsp.analysis.stem_features import FEATURE_RATE_HZ, at_feature_rate, features
from dsp.io.jsonfile import json_number
from dsp.units import db_to_gain, gain_to_db
from engine.errors import UsageError
from engine.offline import heap, spread
from engine.offline.correction import correct, limited_pass
from models.automix.predictor import MASTER_OUTPUTS, MAX_STEMS, Predictor, split, style_vector
from presets import mix_styles
from presets.mix_styles import MixStyle

SILENT_PEAK_DBFS = -90.0  # a stem whose peak stays under this is silent
CENTROID_FEATURE, LOUDNESS_FEATURE = 5, 1  # log2(centroid / 1 kHz) / 3, (LUFS + 20) / 20
_predictor: Predictor | None = None
_controller: ThreadpoolController | None = None


@dataclass
class StyledMix:
    audio: np.ndarray  # float32 (2, n)
    strips: np.ndarray  # (stems, channel_strip.N_PARAMS)
    unplaced: list[np.ndarray]  # each stem after its strip, before width, pan and gain
    report: dict


def _shared_predictor() -> Predictor:
    global _predictor
    if _predictor is None:
        _predictor = Predictor()
    return _predictor


def _blas() -> ThreadpoolController:
    global _controller
    if _controller is None:  # finding the libraries reads the process's maps: once
        _controller = ThreadpoolController()
    return _controller


def check_stems(stems: Sequence[np.ndarray], names: Sequence[str]) -> None:
    """UsageError for no stems, more than ``MAX_STEMS`` or a silent one (named)."""
    if not stems:
        raise UsageError("no stems to mix")
    if len(stems) > MAX_STEMS:
        raise UsageError(f"{len(stems)} stems: the styled mix takes at most {MAX_STEMS}")
    for stem, name in zip(stems, names, strict=True):
        if stem.shape[1] == 0 or max(float(stem.max()), -float(stem.min())) < \
                db_to_gain(SILENT_PEAK_DBFS):
            raise UsageError(f"{name}: the stem is silent; nothing to mix")


def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max(1, min(MAX_STEMS, os.cpu_count() or 1)))


def _pad(stems: Sequence[np.ndarray]) -> list[np.ndarray]:
    n = max(s.shape[1] for s in stems)
    out = []
    for s in stems:
        if s.shape == (2, n) and s.dtype == np.float32 and s.flags.c_contiguous:
            out.append(s)  # read only: no copy needed
            continue
        x = np.zeros((2, n), np.float32)
        x[:, : s.shape[1]] = s
        out.append(x)
    return out


def _figures_row(fig: dict[str, float], style: MixStyle) -> dict:
    r = json_number
    err = style.errors(fig)
    return {"lufs": r(fig["lufs"], 2), "centroid_hz": r(fig["centroid_hz"], 1),
            "ms_ratio": r(fig["ms_ratio"], 3),
            "frequency_balance": {k: round(fig[f"{k}_share"], 3) for k in ("low", "mid", "high")},
            "lufs_error": r(err["lufs_error"], 2),
            "centroid_error_hz": r(err["centroid_error_hz"], 1),
            "ms_ratio_error": r(err["ms_ratio_error"], 3)}


def mix_styled(stems: Sequence[np.ndarray], rate_hz: int, style: MixStyle,
               names: Sequence[str] | None = None, measure_predictor: bool = False
               ) -> StyledMix:
    """Mix ``stems`` (each float32 ``(2, n)`` at ``rate_hz``; shorter ones padded) to
    ``style``. The report has the targets, what the output measures, the errors, every
    stem's strip and the master's settings; with ``measure_predictor`` also what the
    predictor alone reached (one more pass through the limiter)."""
    names = list(names or [f"stem {i + 1}" for i in range(len(stems))])
    check_stems(stems, names)
    heap.keep_freed_memory()  # its arrays come and go by the dozen: no page faults for each
    # BLAS's own threads would only split the few small products here, and after each
    # they spin for a while on the core our threads need (the limiter's detector ran
    # 40 % slower beside them)
    with _blas().limit(limits=1, user_api="blas"):
        return _mix_styled(stems, rate_hz, style, names, measure_predictor)


def _mix_styled(stems: Sequence[np.ndarray], rate_hz: int, style: MixStyle,
                names: list[str], measure_predictor: bool) -> StyledMix:
    stems = _pad(stems)
    style_in = style_vector(style.lufs, style.centroid_hz, style.ms_ratio, style.shares)
    with _pool() as pool:
        # the resampling (soxr), the features' sample sums, loudness and FFTs and the
        # strips (Numba) release the GIL, so the stems share the threads at every step
        feats = np.stack(list(pool.map(
            lambda s: features(at_feature_rate(s, rate_hz), FEATURE_RATE_HZ), stems)))
        strips, master_out = split(_shared_predictor().predict(feats, style_in), len(stems))
        strips = channel_strip.clamp(strips)
        unplaced = list(pool.map(lambda a: channel_strip.process(a[0], rate_hz, a[1], False),
                                 zip(stems, strips, strict=True)))
    way = spread.directions(2.0 ** (3.0 * feats[:, CENTROID_FEATURE]) * 1000.0,
                            20.0 * feats[:, LOUDNESS_FEATURE]
                            + strips[:, channel_strip.INDEX["gain_db"]])
    strips, pan_spread = spread.spread(unplaced, strips, style.ms_ratio, way)
    total = channel_strip.mix_placed(unplaced, strips)
    master = mastering.defaults()
    master[mastering.INDEX["bus_threshold_db"]] = style.bus_threshold_db
    master[mastering.INDEX["bus_ratio"]] = style.bus_ratio
    for name, value in zip(MASTER_OUTPUTS, master_out, strict=True):
        master[mastering.INDEX[name]] = value
    bused = mastering.bus_compress(total, rate_hz, master)
    predicted = None
    if measure_predictor:
        predicted = _figures_row(limited_pass(bused, rate_hz, master)[2], style)
    y, fix = correct(bused, rate_hz, style, master)
    out = _figures_row(fix.figures, style)
    within = style.met(out)  # on the errors as the report rounds them
    report = {"style": style.as_dict(), "output": out, "within_tolerance": within,
              "lufs_error": out["lufs_error"], "centroid_error_hz": out["centroid_error_hz"],
              "ms_ratio_error": out["ms_ratio_error"],
              "true_peak_dbtp": round(float(_true_peak(y, rate_hz)), 2),
              "predictor_alone": predicted,
              "correction_steps": fix.steps, "pan_spread": round(pan_spread, 3),
              "master": mastering.as_dict(fix.params),
              "master_predicted": mastering.as_dict(master),
              "stems": [{"name": n, **channel_strip.as_dict(p)}
                        for n, p in zip(names, strips, strict=True)]}
    return StyledMix(y, strips, unplaced, report)


def _true_peak(y: np.ndarray, rate_hz: int) -> float:
    from dsp import true_peak

    return gain_to_db(true_peak.peak_of(y, rate_hz))


def mix(stems: Sequence[np.ndarray | str | Path], style: str | MixStyle = "rock_punk",
        rate_hz: int | None = None) -> tuple[np.ndarray, dict]:
    """Mix stems to a style; the one Python entry for scripts.

    ``stems``: arrays (``(2, n)`` or ``(n,)`` float, all at ``rate_hz``) or audio file paths
    (resampled to the first one's rate); ``style``: a genre style's name, a YAML file's
    path or a :class:`MixStyle`. Returns the mix as float32 ``(2, n)`` and the report.
    """
    if isinstance(style, MixStyle):
        chosen = style
    elif Path(style).suffix.lower() in (".yaml", ".yml"):
        chosen = mix_styles.load_style_file(Path(style))
    else:
        chosen = mix_styles.load(style)
    if all(isinstance(s, str | Path) for s in stems):
        from engine.offline.mix import load_stems

        arrays, rate, _ = load_stems([Path(s) for s in stems])
        names = [Path(s).name for s in stems]
    else:
        if rate_hz is None:
            raise UsageError("mix: give rate_hz with arrays")
        arrays = [np.ascontiguousarray(np.broadcast_to(np.atleast_2d(s), (2, np.shape(s)[-1])),
                                       dtype=np.float32) for s in stems]
        rate, names = rate_hz, None
    result = mix_styled(arrays, rate, chosen, names)
    return result.audio, result.report
