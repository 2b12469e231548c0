"""A bank directory, ready for the sampler voice: one buffer at the engine rate, one table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soxr

from dsp import sampler
from models.samplebank.index import BankError

MAX_BANK_SECONDS = 600.0  # the buffer is resident memory: keep a live bank bounded


def load_for_engine(bank_dir: Path | str, sample_rate_hz: int) -> tuple[np.ndarray,
                                                                       np.ndarray]:
    """``(audio (1, frames) float32, table (slices, 3))`` for ``Engine(bank=...)``.

    Slices are resampled to ``sample_rate_hz`` (soxr, high quality) and laid end to end;
    the table keeps each slice's start, length and MIDI note (``NO_PITCH`` if none).
    A missing or broken bank, or one over ``MAX_BANK_SECONDS``, is a ``BankError``.
    """
    from models.samplebank.index import load_slices

    try:
        index, slices = load_slices(Path(bank_dir))
    except (OSError, ValueError) as exc:
        raise BankError(f"sample bank {bank_dir}: {exc}") from None
    if not slices:
        raise BankError(f"sample bank {bank_dir}: it has no slices")
    if index.sample_rate_hz != sample_rate_hz:
        slices = [soxr.resample(s, index.sample_rate_hz, sample_rate_hz, quality="HQ")
                  .astype(np.float32) for s in slices]
    total_s = sum(s.size for s in slices) / sample_rate_hz
    if total_s > MAX_BANK_SECONDS:
        raise BankError(f"sample bank {bank_dir}: {total_s:.0f} s of audio is over the "
                         f"{MAX_BANK_SECONDS:.0f} s a live bank may hold")
    return sampler.pack_bank(slices, [s.midi_note for s in index.slices])


# Which bank class plays each drum voice (presets.registry.DRUM_VOICES order); toms have no
# class of their own and stay on the synth.
VOICE_CLASSES = ("kick", "snare", "hat", "hat", None, None, None, "snare")


def kit_map(bank_dir: Path | str) -> np.ndarray:
    """Per drum voice, the bank slice its hits play: the first slice of the voice's class
    in index order (so a user picks a kit by the order of the files given to ``samples
    build``), -1 where the bank has none. ``BankError`` for a broken bank."""
    from models.samplebank.index import read_index

    try:
        index = read_index(Path(bank_dir))
    except (OSError, ValueError) as exc:
        raise BankError(f"sample bank {bank_dir}: {exc}") from None
    first: dict[str, int] = {}
    for i, s in enumerate(index.slices):
        first.setdefault(s.class_, i)
    return np.array([first.get(c, -1) if c is not None else -1 for c in VOICE_CLASSES],
                    dtype=np.float64)
