"""Basic Pitch, the peer the neural transcriber is measured against.

Basic Pitch (Spotify's ICASSP 2022 model) ships its network as ONNX; with ``pip install
--no-deps basic-pitch`` plus librosa, pretty_midi and resampy it runs on ONNX Runtime,
no TensorFlow. It sees the whole file at once (windows of 2 s with overlap), where our
transcriber streams. Its notes come with pitch bends in thirds of a semitone per frame, but
on a steady note they settle a third of a semitone sharp (+1 bin: 33 cents on a pure
440 Hz tone here; spotify/basic-pitch#87), so a note's pitch here is its MIDI number.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from pathlib import Path

import numpy as np

from models.continuo.notes import Note


class PeerMissingError(RuntimeError):
    """basic-pitch (or what it imports) is not installed."""


def _model():
    try:
        logging.getLogger().setLevel(logging.ERROR)  # it warns about TF/TFLite missing
        from basic_pitch import ICASSP_2022_MODEL_PATH
        from basic_pitch.inference import Model, predict
    except ImportError as exc:
        raise PeerMissingError(f"Basic Pitch is not installed ({exc.name}): pip install --no-deps "
                          "basic-pitch librosa pretty_midi resampy") from None
    if not str(ICASSP_2022_MODEL_PATH).endswith(".onnx"):
        raise PeerMissingError("Basic Pitch would not run its ONNX model (TensorFlow, CoreML or "
                          "TFLite installed take precedence)")
    return Model(ICASSP_2022_MODEL_PATH), predict


class BasicPitch:
    """Load once, transcribe many: ``notes(audio, rate_hz)``."""

    def __init__(self) -> None:
        self.model, self._predict = _model()

    def notes(self, audio: np.ndarray, rate_hz: int) -> list[Note]:
        import soundfile

        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "take.wav"
            soundfile.write(wav, audio, rate_hz, subtype="FLOAT")
            with contextlib.redirect_stdout(io.StringIO()):  # it prints progress
                _, _, events = self._predict(str(wav), self.model)
        out = []
        for start, end, midi, amplitude, _ in events:
            out.append(Note(float(start), float(end), float(midi),
                            float(np.clip(amplitude, 0.0, 1.0))))
        return sorted(out, key=lambda n: (n.start_s, n.pitch))
