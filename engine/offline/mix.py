"""Offline mix of stems through the live master bus.

``musicmill mix`` sums stems (each first brought to the same integrated loudness unless
asked not to) and runs the sum through the live master bus: auto-mix, master fader, bus
compressor, width, true-peak limiter, with a preset's values. The auto-mix is settled by a
first pass over the opening ``SETTLE_S``, so the written file is corrected from its first
sample; the second pass starts from there and keeps riding as the music changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsp import automix
from dsp import loudness as meter
from dsp.analysis.mix_readings import as_stereo, whole_readings
from dsp.io.audio import read_audio
from dsp.io.jsonfile import json_number
from dsp.resample import resample
from dsp.units import db_to_gain
from engine import kernels, strips
from engine.errors import UsageError
from engine.params import ParameterStore
from presets.registry import REGISTRY

SILENT_LUFS = -70.0  # a stem below this (BS.1770's absolute gate) is left as it is
CHUNK_FRAMES = 4096
SETTLE_S = 15.0  # the opening the first pass settles on: five of the auto-mix's 3 s
BALANCE_RANGE_DB = 24.0  # a stem's balancing gain at most (a hiss-only stem is not raised 50 dB)


def load_stems(paths: Sequence[Path], force: bool = False
               ) -> tuple[list[np.ndarray], int, list[int]]:
    """Stems as ``(2, n)`` at the first stem's rate (others resampled with soxr), and how
    many non-finite samples each had replaced with silence."""
    stems, rate, nonfinite = [], None, []
    for path in paths:
        audio = read_audio(path, force)
        rate = audio.rate_hz if rate is None else rate
        try:
            stems.append(as_stereo(resample(audio.samples, audio.rate_hz, rate)))
        except ValueError as exc:
            raise UsageError(f"{path}: {exc}; mix takes mono or stereo stems") from None
        nonfinite.append(audio.nonfinite)
    return stems, rate, nonfinite


def _metered(x: np.ndarray, rate: int) -> np.ndarray:
    state = meter.prepare(2, rate)
    meter.process(state, np.ascontiguousarray(x, dtype=np.float32))
    return state


def integrated_lufs(x: np.ndarray, rate: int) -> float:
    return float(meter.integrated_lufs(_metered(x, rate)))


@dataclass
class MixReport:
    stems: list[dict]
    mix_in: dict
    mix_out: dict
    automix: dict

    def as_dict(self) -> dict:
        return {"stems": self.stems, "sum": self.mix_in, "output": self.mix_out,
                "automix": self.automix}


def balance_gains_db(stems: list[np.ndarray], rate: int) -> list[float]:
    """Per stem, the gain that brings it to the median integrated loudness of the stems that
    are not silent, within ±BALANCE_RANGE_DB (a silent stem gets 0 dB)."""
    levels = [integrated_lufs(s, rate) for s in stems]
    heard = [v for v in levels if v > SILENT_LUFS]
    if not heard:
        return [0.0] * len(stems)
    target = float(np.median(heard))
    return [float(np.clip(target - v, -BALANCE_RANGE_DB, BALANCE_RANGE_DB))
            if v > SILENT_LUFS else 0.0 for v in levels]


def _bus(store: ParameterStore, rate: int, x: np.ndarray, am_state: np.ndarray | None
         ) -> tuple[np.ndarray, np.ndarray]:
    """``x`` through the live master bus (``engine.strips.master``: auto-mix, fader,
    compressor, width, limiter) in chunks; the output and the auto-mix state it ended with.
    ``am_state``: start from it."""
    blob, offsets = kernels.prepare(rate, store.current)
    am = kernels.view(blob, offsets, kernels.K_AUTOMIX)
    if am_state is not None:
        am[:] = am_state
    # the limiter's lookahead delays the output: run that much silence on past the end and
    # drop as much from the start, so the mix lines up with the stems and keeps its tail
    delay = kernels.latency_frames(blob, offsets)
    y = np.concatenate([x, np.zeros((2, delay), np.float32)], axis=1)
    for start in range(0, y.shape[1], CHUNK_FRAMES):
        strips.master(blob, offsets, store.target, store.current, store.step,
                      y[:, start: start + CHUNK_FRAMES], True)
    return y[:, delay:], am.copy()


def mix(stems: list[np.ndarray], rate: int, params: dict[str, float], balance: bool = True
        ) -> tuple[np.ndarray, MixReport]:
    """Sum ``stems`` (each ``(2, n)``; shorter ones padded with silence) and master them."""
    frames = max(s.shape[1] for s in stems)
    gains = balance_gains_db(stems, rate) if balance else [0.0] * len(stems)
    total = np.zeros((2, frames), np.float32)
    for s, g in zip(stems, gains, strict=True):
        total[:, : s.shape[1]] += s * np.float32(db_to_gain(g))
    store = ParameterStore(rate)
    for p in REGISTRY:
        store.set(p.id, params.get(p.id, p.default))
    store.jump_to_targets()  # nothing glides: the values hold from the first sample
    am_state = None
    if store.get("automix_amount") > 0.0:
        # settle the auto-mix on the opening, so the file starts with its corrections
        _, am_state = _bus(store, rate, total[:, : round(SETTLE_S * rate)], None)
        automix.restart(am_state)
    y, am_end = _bus(store, rate, total, am_state)
    stem_rows = [{"loudness_lufs": json_number(integrated_lufs(s, rate), 2),
                  "gain_db": round(g, 2)} for s, g in zip(stems, gains, strict=True)]
    report = MixReport(stem_rows, _describe(total, rate), _describe(y, rate),
                       {k: round(v, 2) for k, v in automix.readings(am_end).items()
                        if k in ("gain_db", "shelf_db", "side_db")})
    return y, report


def _describe(x: np.ndarray, rate: int) -> dict:
    state = _metered(x, rate)
    r = whole_readings(x, rate)
    return {"integrated_lufs": json_number(meter.integrated_lufs(state), 2),
            "true_peak_dbtp": json_number(meter.true_peak_dbtp(state), 2),
            "brightness_db": json_number(r["brightness_db"], 2),
            "width_db": json_number(r["width_db"], 2)}
