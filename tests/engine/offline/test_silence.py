"""Silence in, silence out: the default engine, its model path included, after start,
reset and a model swap (the model's start state must never reach the speakers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.cli import main
from engine.inserts import make_insert
from engine.session.controls import Controls
from engine.session.setup import build_engine, resolve_preset

SR = 48000
SILENT = 10 ** (-80 / 20)  # -80 dBFS
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures/rave"


def _engine():
    return build_engine(SR, 2, 2, make_insert("drums", SR), resolve_preset("Balanced", []))


def _play_silence(engine, seconds: float) -> np.ndarray:
    x = np.zeros((int(seconds * SR), 2), np.float32)
    y = np.zeros_like(x)
    for i in range(0, x.shape[0], 128):
        engine.process(x[i:i + 128], y[i:i + 128])
    return y


def test_the_default_render_of_digital_silence_stays_silent(tmp_path):
    src, dst = tmp_path / "silence.wav", tmp_path / "out.wav"
    sf.write(src, np.zeros((SR, 2), np.float32), SR, subtype="FLOAT")
    assert main(["render", str(src), str(dst), "--float"]) == 0
    y, _ = sf.read(dst, dtype="float32")
    assert np.abs(y).max() <= SILENT


def test_silent_after_a_reset_and_after_a_model_swap():
    engine = _engine()
    assert np.abs(_play_silence(engine, 0.5)).max() <= SILENT  # from the start
    engine.worker.processor.reset()  # a reset puts the model back in its start state
    assert np.abs(_play_silence(engine, 0.5)).max() <= SILENT
    engine.swap_processor(make_insert("drums", SR, block_frames=engine.worker.processor
                                      .block_frames))
    assert np.abs(_play_silence(engine, 0.5)).max() <= SILENT  # a fresh model


@pytest.mark.parametrize("backend", ["torchscript", "onnx"])
def test_silent_after_a_swap_to_a_users_rave_export(backend):
    """A user's own RAVE export (a genuine one, the tests' fixture) swapped in live: its
    start state never reaches the speakers on either runtime."""
    engine = _engine()
    _play_silence(engine, 0.25)
    rave = make_insert("rave", SR, FIXTURES / "rave_v2_tiny_causal_streaming.ts", backend,
                       block_frames=engine.worker.processor.block_frames)
    engine.swap_processor(rave)
    assert np.abs(_play_silence(engine, 1.0)).max() <= SILENT
    engine.worker.processor.reset()
    assert np.abs(_play_silence(engine, 0.5)).max() <= SILENT


def test_the_voice_still_plays_the_model_after_silence():
    engine = _engine()
    _play_silence(engine, 0.5)
    x = np.zeros((SR, 2), np.float32)
    x[SR // 4: SR // 4 + 2000] = 0.3 * np.sin(np.arange(2000) * 0.05)[:, None]  # a thump
    controls = Controls(engine)
    controls.set("drum_blend", 1.0)  # the neural path alone: no trigger drums, no dry voice
    controls.set("stem_dry_gain_db", -80.0)
    engine.params.jump_to_targets()
    y = np.zeros_like(x)
    for i in range(0, x.shape[0], 128):
        engine.process(x[i:i + 128], y[i:i + 128])
    assert np.abs(y).max() > 0.01
