"""Model hot-swap on a running engine (engine/hot_swap.py, Engine.swap_processor)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import layout
from engine.inserts import make_insert
from engine.session.hot_swap import ModelSwapError, swap_model
from engine.session.setup import build_engine

RAVE = Path(__file__).resolve().parents[2] / "fixtures" / "rave"
CAUSAL = RAVE / "rave_v2_tiny_causal_streaming.ts"
STREAMING = RAVE / "rave_v2_tiny_streaming.ts"
SR = 48000


def _engine(insert: str, model: Path | None):
    proc = make_insert(insert, SR, model, "torchscript")
    return build_engine(SR, 2, 2, proc, params={"drum_blend": 1.0})


def _play(engine, seconds: float, seed: int = 0) -> np.ndarray:
    n = int(seconds * SR)
    x = (0.1 * np.random.default_rng(seed).standard_normal((n, 2))).astype(np.float32)
    y = np.zeros_like(x)
    chunk = 128
    for i in range(0, n, chunk):
        engine.process(x[i:i + chunk], y[i:i + chunk])
    return y


def test_a_swap_to_another_export_plays_the_new_model(tmp_path):
    assert CAUSAL.exists(), f"RAVE fixtures missing: {RAVE}"
    engine = _engine("rave", CAUSAL)
    old = engine.worker.processor
    _play(engine, 0.5)
    report = swap_model(engine, "rave", STREAMING, "torchscript")
    assert "playing rave_v2_tiny_streaming.ts" in report
    y = _play(engine, 1.0)
    assert engine.worker.swaps == 1 and engine.worker.processor is not old
    assert engine.worker.processor.model.path == STREAMING
    assert engine.worker.errors == 0 and np.all(np.isfinite(y))
    assert engine.stats[layout.ST_WORKER_UNDERRUNS] == 0


@pytest.mark.parametrize("content", [None, b"RIFF not a model", b"PK\x03\x04broken zip"])
def test_a_bad_file_keeps_the_previous_model_playing(tmp_path, content):
    engine = _engine("rave", CAUSAL)
    old = engine.worker.processor
    _play(engine, 0.3)
    bad = tmp_path / "bad.ts"
    if content is not None:
        bad.write_bytes(content)
    with pytest.raises(ModelSwapError, match="bad.ts: .*still playing the previous model") as e:
        swap_model(engine, "rave", bad, "torchscript")
    assert str(e.value).count(str(bad)) == 1  # named once, whoever named it
    y = _play(engine, 0.5, seed=1)
    assert engine.worker.processor is old and engine.worker.swaps == 0
    assert np.sqrt(np.mean(y ** 2)) > 1e-4  # still sounding


def test_a_model_with_a_longer_block_lengthens_the_worker_path():
    engine = _engine("drums", None)  # the shipped drum model: 256-frame blocks
    w = engine.worker.processor.block_frames
    before = engine.worker_latency_frames
    _play(engine, 0.3)
    swap_model(engine, "drums", CAUSAL, "torchscript")
    _play(engine, 2.0)
    natural = engine.worker.processor.natural_block_frames
    assert natural == 2229 and engine.worker.processor.block_frames == w
    assert engine.worker_latency_frames == w + natural  # room to answer a 2229-frame block
    assert engine.worker_latency_frames > before
    assert engine.worker.errors == 0 and engine.worker.processor.underruns == 0
    assert engine.stats[layout.ST_WORKER_UNDERRUNS] == 0
    assert engine.snapshot()["latency"]["worker_ring_frames"] == w + natural


def test_swap_needs_a_model_insert():
    engine = _engine("passthrough", None)
    with pytest.raises(Exception, match="model swap needs a model insert"):
        swap_model(engine, "passthrough", CAUSAL)


def test_a_swap_the_engine_has_no_room_for_is_refused(monkeypatch):
    import engine.engine as engine_module

    engine = _engine("drums", None)
    old = engine.worker.processor
    latency = engine.worker_latency_frames
    monkeypatch.setattr(engine_module, "SWAP_HEADROOM_FRAMES", 1000)  # the causal needs 1973
    with pytest.raises(ModelSwapError, match="need 1973 more frames.*still playing"):
        swap_model(engine, "drums", CAUSAL, "torchscript")
    _play(engine, 0.2)
    assert engine.worker.processor is old and engine.worker_latency_frames == latency


def test_two_requests_before_the_worker_takes_them_keep_both_paddings():
    engine = _engine("rave", CAUSAL)
    first = make_insert("rave", SR, STREAMING, "torchscript")
    second = make_insert("rave", SR, CAUSAL, "torchscript")
    fill = engine.worker_latency_frames
    engine.worker.request_swap(first, 100)
    engine.worker.request_swap(second, 50)
    assert engine.worker._pending == (second, 150)
    engine.worker.step()
    assert engine.worker.processor is second and engine.worker.swaps == 1
    from engine import ring

    assert ring.readable(*engine.worker.ret) == fill + 150
