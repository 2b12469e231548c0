"""Basic Pitch, the peer: it runs here on ONNX Runtime and hears a plain tone as one note."""

from __future__ import annotations

import numpy as np

from models.continuo.peer import BasicPitch


def test_basic_pitch_hears_a_held_a4_as_one_a4():
    sr = 22050
    t = np.arange(2 * sr) / sr
    x = (0.3 * np.sin(2 * np.pi * 440.0 * t) * (t < 1.5)).astype(np.float32)
    (note,) = BasicPitch().notes(x, sr)
    assert note.pitch == 69.0
    assert note.start_s < 0.1 and abs(note.end_s - 1.5) < 0.1
