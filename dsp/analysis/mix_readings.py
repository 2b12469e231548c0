"""What the auto-mix hears in a whole clip: its loudness, brightness and width, gated as
live, averaged over the whole signal (a style measured from a reference, a mix report)."""

from __future__ import annotations

import numpy as np

from dsp import automix

WHOLE_FILE_S = 1e7  # a time constant longer than any file: the averages become plain means


def as_stereo(audio: np.ndarray) -> np.ndarray:
    """``(frames, channels)`` mono or stereo as float32 ``(2, frames)``; mono is doubled.
    ValueError for more channels."""
    if audio.shape[1] == 1:
        return np.repeat(audio.T, 2, axis=0).astype(np.float32)
    if audio.shape[1] == 2:
        return np.ascontiguousarray(audio.T, dtype=np.float32)
    raise ValueError(f"{audio.shape[1]} channels: mono or stereo only")


def whole_readings(x: np.ndarray, rate_hz: int) -> dict[str, float]:
    """The auto-mix's readings (``dsp.automix.READINGS``) of ``x (2, n)`` over all of it."""
    state = automix.prepare(rate_hz, time_constant_s=WHOLE_FILE_S)
    automix.process(state, np.array(x, dtype=np.float32))
    return automix.readings(state)
