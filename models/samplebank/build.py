"""Cut recordings into one-shot slices at their onsets and analyse each slice.

The rules (thresholds and why) are described in :mod:`models.samplebank`; this module holds the
numbers. Everything works on mono float32 at :data:`SAMPLE_RATE_HZ`, offline.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from dsp import loudness, onset, pitch
from dsp.analysis.features import spectral_centroid_hz
from dsp.io.audio import read_audio
from dsp.io.jsonfile import json_number
from dsp.resample import resample
from dsp.units import db_to_gain, db_to_power, gain_to_db, power_to_db
from models.samplebank.index import (
    CLASSES,
    SAMPLE_RATE_HZ,
    SLICES_DIR,
    BankError,
    BankIndex,
    Slice,
    check_target,
    write_bank,
)

SILENCE_DBFS = -60.0  # slices peaking below this are dropped; also the trim threshold's floor
DECAY_DB = 50.0  # a slice ends once its 10 ms RMS is this far below its loudest 10 ms
FIRST_SOUND_DB = 40.0  # the first sound: the first 10 ms within this of the loudest 10 ms
TRIM_DB = 40.0  # the attack starts at the first sample this far below the slice's peak
RMS_WINDOW_MS = 10.0
RMS_HOP_MS = 1.0
PRE_ROLL_MS = 2.0  # kept before the attack, so trimming never eats into it
SEARCH_BEFORE_MS = 5.0  # how far before a reported onset the attack may begin
FADE_IN_MS = 1.0
FADE_OUT_MS = 5.0
LUFS_MIN_S = 0.4  # one BS.1770 gating block: shorter slices have no integrated loudness
KICK_MAX_HZ = 600.0  # centroid bands of the (heuristic) drum classes
SNARE_MAX_HZ = 3500.0
PITCH_HOP = 256
# Offline there is no latency to save, so the detector gets twice its live frame (21 ms):
# with 512 samples a 110 Hz note (under 1.2 periods per frame) flickers into a train of
# false onsets; 1024/256 keeps the flux per frame (same hop / frame ratio, same delta) and
# still places drum onsets within about 2 ms (measured on the dsp/onset test tracks).
ONSET_FRAME = 1024
ONSET_HOP = 256
# The detector waits this long (ms) between onsets; a first sound closer than this to a
# detected onset is that onset.
_ONSET_GAP_MS = 30.0
# Zeros before the signal warm the detector up (frame, compared spectra and the 16-frame
# median: 21 hops), so it sees an attack at the very start; zeros after flush its delay.
_WARM_UP_SAMPLES = 32 * ONSET_HOP
_FLUSH_SAMPLES = 4 * ONSET_FRAME


def _frames(ms: float) -> int:
    return int(round(ms * 1e-3 * SAMPLE_RATE_HZ))


def load_mono(path: str | Path, allow_long: bool = False) -> tuple[np.ndarray, int]:
    """Read an audio file as mono float32 at :data:`SAMPLE_RATE_HZ` (mean of the channels),
    with how many non-finite samples the read replaced. ``allow_long``: a file over the
    duration limit is read (``samples build --allow-long``: its ``--force`` replaces a
    bank)."""
    decoded = read_audio(path, allow_long, force_option="--allow-long")
    audio, rate = decoded.samples, decoded.rate_hz
    # read_audio replaced NaN and infinity (counted), so the mean is finite
    mono = audio.mean(axis=1, dtype=np.float64).astype(np.float32)
    if rate != SAMPLE_RATE_HZ:
        mono = resample(mono, rate, SAMPLE_RATE_HZ)
    return np.ascontiguousarray(mono, dtype=np.float32), decoded.nonfinite


def detect_onsets(x: np.ndarray) -> np.ndarray:
    """Onset positions (int64 sample indices, ascending) from :mod:`dsp.onset` over ``x``."""
    state = onset.prepare(SAMPLE_RATE_HZ, frame_size=ONSET_FRAME, hop=ONSET_HOP,
                          min_interval_ms=_ONSET_GAP_MS)
    signal = np.concatenate([np.zeros(_WARM_UP_SAMPLES, np.float32), x.astype(np.float32),
                             np.zeros(_FLUSH_SAMPLES, np.float32)])
    # onsets are at least min_interval_ms apart, so this many rows always suffice
    out = np.zeros((signal.shape[0] // _frames(_ONSET_GAP_MS) + 8, 2))
    k = onset.process(state, signal, out)
    pos = np.rint(out[:k, 0]).astype(np.int64) - _WARM_UP_SAMPLES
    return np.unique(np.clip(pos[pos < x.shape[0]], 0, None))


class _Power:
    """Mean square of any range of a signal in O(1), from a cumulative sum."""

    def __init__(self, x: np.ndarray) -> None:
        self.csum = np.concatenate([[0.0], np.cumsum(np.square(x, dtype=np.float64))])

    def windows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """(window starts, mean squares) of RMS_WINDOW_MS windows every RMS_HOP_MS in
        [start, stop); the last windows are cut short at ``stop``."""
        grid = np.arange(start, max(stop - _frames(RMS_WINDOW_MS), start) + 1,
                         _frames(RMS_HOP_MS))
        ends = np.minimum(grid + _frames(RMS_WINDOW_MS), stop)
        power = (self.csum[ends] - self.csum[grid]) / np.maximum(ends - grid, 1)
        return grid, power


def _first_sound(x: np.ndarray, power: _Power) -> int | None:
    """Start of the first 10 ms window louder than -60 dBFS and FIRST_SOUND_DB below the
    loudest one, or None for a silent signal."""
    grid, ms = power.windows(0, x.shape[0])
    if ms.size == 0:
        return None
    threshold = max(db_to_power(SILENCE_DBFS), ms.max() * db_to_power(-FIRST_SOUND_DB))
    above = np.nonzero(ms > threshold)[0]
    return int(grid[above[0]]) if above.size else None


def _trimmed_start(x: np.ndarray, position: int, stop: int) -> int | None:
    """The slice's first sample: PRE_ROLL_MS before the attack, the first sample of
    [position - SEARCH_BEFORE_MS, stop) that is within TRIM_DB of that range's peak, twice
    (+6 dB) the peak of the 10 ms before the range (a previous sound's tail or the noise
    floor), and above -60 dBFS. None when the range's peak is below -60 dBFS."""
    lo = max(position - _frames(SEARCH_BEFORE_MS), 0)
    if stop <= lo:
        return None
    mag = np.abs(x[lo:stop])
    peak = float(mag.max())
    if peak < db_to_gain(SILENCE_DBFS):
        return None
    before = x[max(lo - _frames(RMS_WINDOW_MS), 0):lo]
    background = float(np.abs(before).max()) if before.size else 0.0
    threshold = max(peak * db_to_gain(-TRIM_DB), 2.0 * background, db_to_gain(SILENCE_DBFS))
    # never above half the peak, so the attack is always found
    above = np.nonzero(mag >= min(threshold, 0.5 * peak))[0]
    return max(lo + int(above[0]) - _frames(PRE_ROLL_MS), lo)


def _decay_end(power: _Power, start: int, limit: int) -> int:
    """Where the sound has fallen DECAY_DB below the slice's loudest 10 ms (plus the
    fade-out, which then runs over the quiet part), or ``limit``."""
    grid, ms = power.windows(start, limit)
    peak = int(np.argmax(ms))
    quiet = np.nonzero(ms[peak:] < ms[peak] * db_to_power(-DECAY_DB))[0]
    if not quiet.size:
        return limit
    return min(int(grid[peak + quiet[0]]) + _frames(FADE_OUT_MS), limit)


def _next(positions: list[int], i: int, n: int) -> int:
    return positions[i + 1] if i + 1 < len(positions) else n


def find_slices(x: np.ndarray, min_ms: float = 30.0, max_ms: float = 2000.0,
                ) -> list[tuple[int, int]]:
    """(start, end) sample ranges of the slices of mono ``x`` at :data:`SAMPLE_RATE_HZ`.

    Slices shorter than ``min_ms`` are dropped here; the peak rule applies after the fades
    (see :func:`cut`).
    """
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[0]
    power = _Power(x)
    positions = [int(p) for p in detect_onsets(x)]
    first = _first_sound(x, power)
    if first is not None:
        gap = _frames(_ONSET_GAP_MS)
        # Before the first sound there is only lead-in noise: a recording's noise floor
        # starting after the warm-up zeros reads as an onset.
        positions = [p for p in positions if p >= first - gap]
        # A slow fade-in may give no onset: the first sound starts a slice anyway.
        if not positions or positions[0] > first + gap:
            positions.insert(0, first)
    starts: list[int] = []
    for i, p in enumerate(positions):
        start = _trimmed_start(x, p, _next(positions, i, n))
        if start is not None and (not starts or start > starts[-1]):
            starts.append(start)
    slices = []
    for i, start in enumerate(starts):
        limit = min(starts[i + 1] if i + 1 < len(starts) else n, start + _frames(max_ms))
        end = _decay_end(power, start, limit)
        if end - start >= max(_frames(min_ms), 1):
            slices.append((start, end))
    return slices


def fade(audio: np.ndarray) -> np.ndarray:
    """Raised-cosine fade-in (FADE_IN_MS) and fade-out (FADE_OUT_MS), in place; returns it.

    The first and last samples become exactly 0. Slices shorter than both fades get fades
    shortened in proportion.
    """
    n = audio.shape[0]
    n_in, n_out = _frames(FADE_IN_MS), _frames(FADE_OUT_MS)
    if n_in + n_out > n:
        n_in = n * n_in // (n_in + n_out)
        n_out = n - n_in
    if n_in:
        audio[:n_in] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(n_in) / n_in)
    if n_out:
        audio[n - n_out:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, n_out + 1) / n_out)
    return audio


def cut(x: np.ndarray, start: int, end: int) -> np.ndarray:
    """A faded float32 copy of ``x[start:end]``."""
    return fade(np.array(x[start:end], dtype=np.float32))


def estimate_pitch_hz(audio: np.ndarray) -> float | None:
    """Median f0 (Hz) of the voiced :mod:`dsp.pitch` frames, or None.

    Only frames whose whole analysis window lies inside the slice count (the tracker's
    history starts as zeros); None when fewer than half of them are voiced or there are none.
    """
    state = pitch.prepare(SAMPLE_RATE_HZ, hop=PITCH_HOP)
    x = np.ascontiguousarray(audio, dtype=np.float32)
    out = np.zeros((x.shape[0] // PITCH_HOP + 1, pitch.N_COLS))
    rows = out[: pitch.process(state, x, out)]
    # a frame is stamped at its window's centre, latency_samples after the window's start
    rows = rows[rows[:, pitch.COL_POSITION] >= pitch.latency_samples(state) - 1]
    if not rows.shape[0]:
        return None
    voiced = rows[:, pitch.COL_VOICED] > 0.5
    if 2 * int(voiced.sum()) < rows.shape[0]:
        return None
    return float(np.median(rows[voiced, pitch.COL_F0_HZ]))


def classify(pitch_hz: float | None, centroid_hz: float) -> str:
    """``tonal`` with a pitch, else kick / snare / hat by spectral centroid (a heuristic)."""
    if pitch_hz is not None:
        return "tonal"
    if centroid_hz < KICK_MAX_HZ:
        return "kick"
    if centroid_hz < SNARE_MAX_HZ:
        return "snare"
    return "hat"


def analyse(audio: np.ndarray, file: str, source: str, start: int) -> Slice:
    """Measure one (faded) slice and describe it as an index entry."""
    x = np.asarray(audio, dtype=np.float32)
    f0 = estimate_pitch_hz(x)
    lufs = None
    if x.shape[0] >= LUFS_MIN_S * SAMPLE_RATE_HZ:
        value = loudness.measure(x[None, :], SAMPLE_RATE_HZ)["integrated_lufs"]
        lufs = json_number(value, 2)
    centroid = spectral_centroid_hz(x, SAMPLE_RATE_HZ)
    x64 = x.astype(np.float64)
    return Slice(
        file=file,
        source=source,
        start_s=round(start / SAMPLE_RATE_HZ, 6),
        duration_s=round(x.shape[0] / SAMPLE_RATE_HZ, 6),
        pitch_hz=None if f0 is None else round(f0, 2),
        midi_note=None if f0 is None else round(69.0 + 12.0 * math.log2(f0 / 440.0), 3),
        peak_dbfs=round(gain_to_db(float(np.max(np.abs(x64)))), 2),
        rms_db=round(power_to_db(float(np.mean(x64 * x64))), 2),
        loudness_lufs=lufs,
        centroid_hz=round(centroid, 1),
        class_=classify(f0, centroid),
    )


def slice_file(source: str | Path, min_ms: float = 30.0, max_ms: float = 2000.0,
               allow_long: bool = False) -> tuple[list[tuple[int, np.ndarray]], float, int]:
    """Read and cut one input: ([(start sample, faded audio)], the file's peak in dBFS,
    the non-finite samples replaced when it was read)."""
    x, nonfinite = load_mono(source, allow_long)
    out = []
    for start, end in find_slices(x, min_ms, max_ms):
        audio = cut(x, start, end)
        if gain_to_db(float(np.max(np.abs(audio)))) >= SILENCE_DBFS:
            out.append((start, audio))
    return out, gain_to_db(float(np.max(np.abs(x)))) if x.size else -math.inf, nonfinite


def _why_empty(source: str, peak_dbfs: float, min_ms: float) -> str:
    if peak_dbfs < SILENCE_DBFS:
        return (f"{source}: no slices (silent: peak {peak_dbfs:.1f} dBFS, below "
                f"{SILENCE_DBFS:.0f} dBFS)")
    return (f"{source}: no slices (none at least {min_ms:g} ms long peaking above "
            f"{SILENCE_DBFS:.0f} dBFS)")


def build_bank(inputs: Sequence[str | Path], bank_dir: str | Path, min_ms: float = 30.0,
               max_ms: float = 2000.0, force: bool = False,
               warn: Callable[[str], None] | None = None,
               classes: Sequence[str] | None = None, allow_long: bool = False,
               nonfinite: dict[str, int] | None = None) -> BankIndex:
    """Slice and analyse ``inputs``, write the bank to ``bank_dir``, return its index.

    ``classes``: one class per input, given to every slice of that input instead of the
    estimated one (a drum kit: ``kick``, ``snare``, ``hat``). Raises :class:`BankError`
    (one line) for an unusable input or class list, a BANK_DIR that may not be written, or
    when no input gives a slice; nothing is left behind then. An input without slices
    among others that have some is reported through ``warn`` and skipped. ``allow_long``
    reads inputs over the duration limit; ``nonfinite``, when given, is filled with each
    input's count of non-finite samples replaced with silence.
    """
    if classes is not None:
        if len(classes) != len(inputs):
            raise BankError(f"--classes has {len(classes)} entries for {len(inputs)} inputs; "
                             "give one class per input")
        bad = [c for c in classes if c not in CLASSES]
        if bad:
            raise BankError(f"unknown class {bad[0]!r}; choose from {', '.join(CLASSES)}")
    forced = dict(zip((str(p) for p in inputs), classes or (), strict=False))
    check_target(bank_dir, force)  # before the slow part
    sources: list[str] = []
    seen: set[Path] = set()
    for path in inputs:
        key = Path(path).resolve()
        if key not in seen:  # the same file twice would give every slice twice
            seen.add(key)
            sources.append(str(path))
    found: list[tuple[str, int, np.ndarray]] = []
    empty: list[str] = []
    for source in sources:
        slices, peak_dbfs, replaced = slice_file(source, min_ms, max_ms, allow_long)
        if nonfinite is not None:
            nonfinite[source] = replaced
        if not slices:
            empty.append(_why_empty(source, peak_dbfs, min_ms))
        found += [(source, start, audio) for start, audio in slices]
    if not found:
        raise BankError(empty[0] if len(empty) == 1 else "; ".join(empty))
    for message in empty:
        if warn is not None:
            warn(f"{message}; skipped")
    found.sort(key=lambda item: (item[0], item[1]))
    entries = [analyse(audio, f"{SLICES_DIR}/{i:04d}.wav", source, start)
               for i, (source, start, audio) in enumerate(found)]
    entries = [dataclasses.replace(e, class_=forced[e.source]) if e.source in forced else e
               for e in entries]
    index = BankIndex(slices=tuple(entries))
    write_bank(bank_dir, index, [audio for _, _, audio in found], force)
    return index
