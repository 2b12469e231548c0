"""Offline mix of stems through the master bus, and style measurement of a reference.

``musicmill mix`` sums stems (each first brought to the same integrated loudness unless
asked not to) and runs the sum through the live master bus: auto-mix, master fader, bus
compressor, width, true-peak limiter, with a preset's values. The auto-mix is settled by a
first pass over the opening ``SETTLE_S``, so the written file is corrected from its first
sample; the second pass starts from there and keeps riding as the music changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsp import automix
from dsp import loudness as meter
from engine.errors import UsageError
from presets.registry import INDEX, REGISTRY
from presets.styles import Style

WHOLE_FILE_S = 1e7  # a time constant longer than any file: the averages become plain means
SILENT_LUFS = -70.0  # a stem below this (BS.1770's absolute gate) is left as it is
CHUNK_FRAMES = 4096
SETTLE_S = 15.0  # the opening the first pass settles on: five of the auto-mix's 3 s
BALANCE_RANGE_DB = 24.0  # a stem's balancing gain at most (a hiss-only stem is not raised 50 dB)


def as_stereo(audio: np.ndarray, path: Path | str) -> np.ndarray:
    """``(frames, channels)`` from read_audio as float32 ``(2, frames)``; mono is doubled."""
    if audio.shape[1] == 1:
        return np.repeat(audio.T, 2, axis=0).astype(np.float32)
    if audio.shape[1] == 2:
        return np.ascontiguousarray(audio.T, dtype=np.float32)
    raise UsageError(f"{path}: {audio.shape[1]} channels; mix takes mono or stereo stems")


def whole_readings(x: np.ndarray, rate: int) -> dict[str, float]:
    """The auto-mix's measurements of ``x (2, n)`` over all of it (its gates, plain means)."""
    state = automix.prepare(rate, time_constant_s=WHOLE_FILE_S)
    automix.process(state, np.array(x, dtype=np.float32))
    return automix.readings(state)


def measure_style(x: np.ndarray, rate: int) -> Style:
    """Loudness, brightness and width of ``x (2, n)`` as the auto-mix measures them
    (gated, over the whole signal)."""
    if rate <= automix.MIN_RATE_HZ:
        raise UsageError(f"{rate} Hz: a style is measured above {automix.MIN_RATE_HZ:g} Hz "
                         "(the auto-mix's 2 kHz split)")
    r = whole_readings(x, rate)
    if not math.isfinite(r["loudness_lufs"]):
        raise UsageError("the reference is silent: no style to measure")
    return Style(r["loudness_lufs"], r["brightness_db"], r["width_db"], "measured")


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


def _bus(values: np.ndarray, rate: int, x: np.ndarray, am_state: np.ndarray | None
         ) -> tuple[np.ndarray, np.ndarray]:
    """``x`` through the master bus (auto-mix, fader, compressor, width, limiter) in chunks;
    the output and the auto-mix state it ended with. ``am_state``: start from it."""
    from engine import chain

    blob, offsets = chain.prepare(rate, values)
    if am_state is not None:
        blob[offsets[chain.K_AUTOMIX]: offsets[chain.K_AUTOMIX + 1]] = am_state
    # the limiter's lookahead delays the output: run that much silence on past the end and
    # drop as much from the start, so the mix lines up with the stems and keeps its tail
    delay = chain.latency_frames(blob, offsets)
    y = np.concatenate([x, np.zeros((2, delay), np.float32)], axis=1)
    gain = np.float32(10.0 ** (values[INDEX["master_gain_db"]] / 20.0))
    for start in range(0, y.shape[1], CHUNK_FRAMES):
        block = y[:, start: start + CHUNK_FRAMES]
        chain.auto_mix(blob, offsets, values, block)
        block *= gain
        chain.master_bus(blob, offsets, values, block)
    return y[:, delay:], blob[offsets[chain.K_AUTOMIX]: offsets[chain.K_AUTOMIX + 1]].copy()


def mix(stems: list[np.ndarray], rate: int, params: dict[str, float], balance: bool = True
        ) -> tuple[np.ndarray, MixReport]:
    """Sum ``stems`` (each ``(2, n)``; shorter ones padded with silence) and master them."""
    frames = max(s.shape[1] for s in stems)
    gains = balance_gains_db(stems, rate) if balance else [0.0] * len(stems)
    total = np.zeros((2, frames), np.float32)
    for s, g in zip(stems, gains, strict=True):
        total[:, : s.shape[1]] += s * np.float32(10.0 ** (g / 20.0))
    values = np.array([params.get(p.id, p.default) for p in REGISTRY], dtype=np.float64)
    am_state = None
    if values[INDEX["automix_amount"]] > 0.0:
        # settle the auto-mix on the opening, so the file starts with its corrections
        _, am_state = _bus(values, rate, total[:, : round(SETTLE_S * rate)], None)
        automix.restart(am_state)
    y, am_end = _bus(values, rate, total, am_state)
    stem_rows = [{"loudness_lufs": _finite(integrated_lufs(s, rate)), "gain_db": round(g, 2)}
                 for s, g in zip(stems, gains, strict=True)]
    report = MixReport(stem_rows, _describe(total, rate), _describe(y, rate),
                       {k: round(v, 2) for k, v in automix.readings(am_end).items()
                        if k in ("gain_db", "shelf_db", "side_db")})
    return y, report


def _finite(v: float, digits: int = 2) -> float | None:
    """A reading for the report: None where there is none (JSON has no -inf)."""
    return round(float(v), digits) if np.isfinite(v) else None


def _describe(x: np.ndarray, rate: int) -> dict:
    state = _metered(x, rate)
    r = whole_readings(x, rate)
    return {"integrated_lufs": _finite(meter.integrated_lufs(state)),
            "true_peak_dbtp": _finite(meter.true_peak_dbtp(state)),
            "brightness_db": _finite(r["brightness_db"]),
            "width_db": _finite(r["width_db"])}
