"""RaveOnnxProcessor: the RAVE insert on ONNX Runtime, equal to the TorchScript one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from dsp.errors import InputError
from engine.inserts import make_insert
from models.rave.onnx_backend import PosteriorNoise, RaveOnnxProcessor, onnx_graphs
from models.rave.onnx_export import onnx_paths
from models.rave.processor import RaveProcessor
from models.rave.torch_rng import TorchRng
from presets.registry import INDEX, REGISTRY

from .conftest import fixture_path

TOL = 1e-4
RNG_TOL = 4e-6  # TorchRng against torch: float rounding of Box-Muller (its module doc)


@pytest.fixture(scope="module")
def streaming_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return onnx_graphs(fixture_path("rave_v2_tiny_streaming.ts"),
                       cache=tmp_path_factory.mktemp("cache"))


def _noise(frames: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((2, frames)) * 0.1).astype(np.float32)


def _run(proc: RaveProcessor, x: np.ndarray) -> np.ndarray:
    n = proc.block_frames
    return np.concatenate([proc.process(x[:, i:i + n]) for i in range(0, x.shape[1], n)], 1)


def test_posterior_noise_exact_draws_are_per_block_randn() -> None:
    noise = PosteriorNoise(3, TorchRng(5))
    got = noise.draw(2, exact=True)
    torch.manual_seed(5)
    np.testing.assert_array_equal(got, torch.randn(1, 3, 2).numpy())


def test_posterior_noise_pooled_draws_walk_one_randn_then_refill() -> None:
    noise, pool = PosteriorNoise(4, TorchRng(7)), PosteriorNoise.POOL_FRAMES
    got = [noise.draw(1, exact=False) for _ in range(pool + 1)]
    torch.manual_seed(7)
    first, second = torch.randn(1, 4, pool).numpy(), torch.randn(1, 4, pool).numpy()
    assert all(g.shape == (1, 4, 1) for g in got)
    np.testing.assert_allclose(np.concatenate(got[:pool], -1), first, atol=RNG_TOL)
    np.testing.assert_allclose(got[pool], second[..., :1], atol=RNG_TOL)
    big = noise.draw(pool + 3, exact=False)  # more than a pool: one draw of its own
    assert big.shape == (1, 4, pool + 3) and np.isfinite(big).all()


@pytest.mark.parametrize("rate", [44100, 48000])
def test_onnx_equals_torchscript_with_the_same_seed(streaming, streaming_onnx, rate):
    ts = RaveProcessor(streaming, engine_rate_hz=rate, seed=11)
    ort = RaveOnnxProcessor(streaming, streaming_onnx, engine_rate_hz=rate, seed=11)
    assert (ort.block_frames, ort.delay_frames) == (ts.block_frames, ts.delay_frames)
    for p in (ts, ort):  # non-neutral latent controls, same chaos seed
        p.energy, p.texture, p.chaos = 1.4, 0.3, 0.2
    x = _noise(ts.block_frames * 8)
    y_ts = _run(ts, x)
    y_ort = _run(ort, x)
    assert np.abs(y_ts).max() > 1e-3  # not comparing silence
    np.testing.assert_allclose(y_ort, y_ts, atol=TOL)


def test_mean_mode_matches_and_reset_repeats(streaming, streaming_onnx):
    ts = RaveProcessor(streaming, engine_rate_hz=44100, encode_mode="mean")
    ort = RaveOnnxProcessor(streaming, streaming_onnx, engine_rate_hz=44100, encode_mode="mean")
    x = _noise(ts.block_frames * 4, seed=2)
    first = _run(ort, x)
    np.testing.assert_allclose(first, _run(ts, x), atol=TOL)
    ort.reset()
    np.testing.assert_array_equal(_run(ort, x), first)


def test_bind_drives_the_onnx_processor(streaming, streaming_onnx):
    ort = RaveOnnxProcessor(streaming, streaming_onnx, engine_rate_hz=44100, seed=0)
    values = np.array([p.default for p in REGISTRY])
    values[INDEX["rave_texture"]] = 0.6
    ort.bind(values)
    ort.process(np.zeros((2, ort.block_frames), np.float32))
    assert ort.texture == 0.6


def test_graph_cache_is_reused_and_explicit_paths_checked(tmp_path):
    ts_path = fixture_path("rave_v2_tiny_causal_streaming.ts")
    base = onnx_graphs(ts_path, cache=tmp_path)
    stamps = [p.stat().st_mtime_ns for p in onnx_paths(base)]
    assert onnx_graphs(ts_path, cache=tmp_path) == base
    assert [p.stat().st_mtime_ns for p in onnx_paths(base)] == stamps  # not re-exported
    assert onnx_graphs(ts_path, onnx_path=base) == base
    with pytest.raises(InputError, match="not found"):
        onnx_graphs(ts_path, onnx_path=tmp_path / "missing.onnx")


def test_make_insert_onnx_backend(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    proc = make_insert("rave", 48000, fixture_path("rave_v2_tiny_causal_streaming.ts"),
                       backend="onnx")
    assert isinstance(proc, RaveOnnxProcessor)
    assert any((tmp_path / "musicmill" / "rave-onnx").rglob("model.encode.onnx"))
    out = proc.process(_noise(proc.block_frames))
    assert out.shape == (2, proc.block_frames) and out.dtype == np.float32
    with pytest.raises(InputError, match="unknown RAVE backend"):
        make_insert("rave", 48000, fixture_path("rave_v2_tiny_causal_streaming.ts"),
                    backend="tflite")


@pytest.mark.parametrize("name", ["v1", "stereo", "v2_small"])
def test_every_family_runs_on_onnx_like_torchscript(request, tmp_path, name):
    """v1 (fidelity-cropped latent, noise branch), stereo, v2_small (noise branch): the
    live insert on ONNX equals TorchScript with the same seed, through resampling."""
    model = request.getfixturevalue(name)
    base = onnx_graphs(model.path, cache=tmp_path)
    ts = RaveProcessor(model, engine_rate_hz=48000, seed=5)
    ort = RaveOnnxProcessor(model, base, engine_rate_hz=48000, seed=5)
    # past the model's delay: before it the voice gate keeps both silent
    x = _noise(ts.block_frames * 6 + ts.delay_frames, seed=3)
    x[1] *= 0.5  # distinct channels: a stereo model must keep them apart
    y_ts = _run(ts, x)
    assert np.abs(y_ts).max() > 1e-3
    np.testing.assert_allclose(_run(ort, x), y_ts, atol=TOL)
    if model.channels == 2:
        assert not np.allclose(y_ts[0], y_ts[1])


_PLAY_CACHED = """
import sys
import numpy as np
from engine.inserts import make_insert
proc = make_insert("rave", 48000, sys.argv[1], backend="onnx", seed=3)
x = np.load(sys.argv[2])
out = [proc.process(x[:, i:i + proc.block_frames]) for i in range(0, x.shape[1], proc.block_frames)]
np.save(sys.argv[3], np.concatenate(out, 1))
print("torch" in sys.modules, "onnx" in sys.modules)
"""


def test_a_cached_export_plays_without_torch_or_onnx_and_the_same(tmp_path, monkeypatch):
    """The first use caches the export's facts and its stripped graphs; a new process then
    imports neither torch nor onnx, and with the same seed plays the same samples."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ts_path = fixture_path("rave_v2_tiny_causal_streaming.ts")
    first = make_insert("rave", 48000, ts_path, backend="onnx", seed=3)
    x = _noise(first.block_frames * 6 + first.delay_frames, seed=4)
    expected = _run(first, x)
    assert np.abs(expected).max() > 1e-3
    np.save(tmp_path / "x.npy", x)
    # the Numba cache stays where this process has it (the variable is already set)
    done = subprocess.run([sys.executable, "-c", _PLAY_CACHED, str(ts_path),
                           str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
                          capture_output=True, text=True, cwd=Path(__file__).parents[3])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), expected)


def test_the_graph_cache_drops_the_least_recently_used_model_over_its_budget(tmp_path,
                                                                              monkeypatch):
    """Every model file exported adds an entry; past the budget the oldest unused goes."""
    import dsp.io.user_cache

    monkeypatch.setattr(dsp.io.user_cache, "CACHE_BUDGET_BYTES", 2500)

    def exporter(ts: Path, base: Path) -> None:  # 1000 bytes of graphs a model
        from models.rave.onnx_graphs import onnx_paths

        for p in onnx_paths(base):
            p.write_bytes(b"g" * 500)

    cache = tmp_path / "cache"
    models = []
    for k in range(3):
        models.append(tmp_path / f"m{k}.ts")
        models[-1].write_bytes(f"model {k}".encode())
    first = onnx_graphs(models[0], cache=cache, exporter=exporter)
    onnx_graphs(models[1], cache=cache, exporter=exporter)
    os.utime(first.parent, (time.time() - 100, time.time() - 100))
    second = onnx_graphs(models[1], cache=cache, exporter=exporter)  # used again: newest
    third = onnx_graphs(models[2], cache=cache, exporter=exporter)  # 3000 bytes: over
    assert not first.parent.exists()
    assert second.parent.exists() and third.parent.exists()
