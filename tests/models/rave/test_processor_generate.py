"""RaveProcessor playing without input: generators, pattern capture, style blend, tempo."""

from __future__ import annotations

import numpy as np
import pytest

from models.rave.processor import RaveProcessor
from presets.registry import RAVE_GENERATORS


def _noise(frames: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((2, frames)) * 0.1).astype(np.float32)


def _tone(frames: int, hz: float = 220.0, sr: float = 44100.0) -> np.ndarray:
    t = np.arange(frames) / sr
    return np.tile(0.3 * np.sin(2 * np.pi * hz * t), (2, 1)).astype(np.float32)


def _run(proc: RaveProcessor, x: np.ndarray) -> np.ndarray:
    n = proc.block_frames
    return np.concatenate([proc.process(x[:, i:i + n]) for i in range(0, x.shape[1], n)], 1)


def _decoded_latents(proc: RaveProcessor) -> list[np.ndarray]:
    """Record what reaches the decoder, block by block."""
    seen: list[np.ndarray] = []
    decode = proc._decode

    def spy(z: np.ndarray) -> np.ndarray:
        seen.append(z.copy())
        return decode(z)

    proc._decode = spy
    return seen


def _mode(name: str) -> float:
    return float(RAVE_GENERATORS.index(name))


@pytest.mark.parametrize("mode", ["walk", "lfo"])
def test_a_generator_plays_on_its_own_whatever_the_input(causal, mode):
    proc = RaveProcessor(causal, engine_rate_hz=44100, seed=2)
    proc.source, proc.generator = 1.0, _mode(mode)
    quiet = _run(proc, np.zeros((2, 2048 * 8), np.float32))
    proc.reset()
    loud = _run(proc, _noise(2048 * 8, seed=5))
    np.testing.assert_array_equal(quiet, loud)  # the encoder is not in the path
    assert np.sqrt(np.mean(quiet ** 2)) > 1e-3 and np.all(np.isfinite(quiet))


def test_a_captured_pattern_loops_the_voices_latents(causal):
    proc = RaveProcessor(causal, engine_rate_hz=44100, seed=2, encode_mode="mean")
    seen = _decoded_latents(proc)
    _run(proc, _noise(2048 * 6, seed=1))
    voice = np.concatenate(seen, axis=1)
    z = proc.capture_pattern(seconds=4 * 2048 / 44100)
    np.testing.assert_array_equal(z, voice[:, -4:])
    seen.clear()
    proc.source, proc.generator = 1.0, _mode("pattern")
    _run(proc, np.zeros((2, 2048 * 6), np.float32))
    played = np.concatenate(seen, axis=1)
    np.testing.assert_array_equal(played, np.concatenate([z, z[:, :2]], axis=1))


def test_pattern_mode_with_nothing_captured_takes_the_recent_voice(causal):
    proc = RaveProcessor(causal, engine_rate_hz=44100, seed=2, encode_mode="mean")
    seen = _decoded_latents(proc)
    _run(proc, _noise(2048 * 3, seed=1))
    voice = np.concatenate(seen, axis=1)
    seen.clear()
    proc.source, proc.generator = 1.0, _mode("pattern")
    _run(proc, np.zeros((2, 2048 * 3), np.float32))
    np.testing.assert_array_equal(np.concatenate(seen, axis=1), voice)  # 3 frames < 4 s


def test_style_blend_and_tempo_drive_the_decoder(causal):
    proc = RaveProcessor(causal, engine_rate_hz=44100, seed=2)
    refs = [_noise(2048 * 8, seed=3)[:1], _tone(2048 * 8)[:1]]
    proc.set_style_references(refs)
    a, b = (proc.encode_reference(r) for r in refs)
    seen = _decoded_latents(proc)
    proc.source, proc.generator, proc.style = 1.0, _mode("style"), 0.5
    _run(proc, np.zeros((2, 2048 * 4), np.float32))
    np.testing.assert_allclose(np.concatenate(seen, 1), 0.5 * (a + b)[:, :4], atol=1e-6)
    seen.clear()
    proc.style, proc.tempo = 1.0, 2.0  # the second reference, twice as fast, in time
    _run(proc, np.zeros((2, 2048 * 2), np.float32))
    np.testing.assert_allclose(np.concatenate(seen, 1), b[:, [4, 6]], atol=1e-6)


def test_source_crossfades_voice_and_generator_latents(causal):
    proc = RaveProcessor(causal, engine_rate_hz=44100, seed=2, encode_mode="mean")
    x = _noise(2048 * 3, seed=4)
    seen = _decoded_latents(proc)
    _run(proc, x)
    voice = np.concatenate(seen, 1)
    proc.reset()
    seen.clear()
    proc.source, proc.generator = 1.0, _mode("lfo")
    _run(proc, x)
    gen = np.concatenate(seen, 1)
    proc.reset()
    seen.clear()
    proc.source = 0.25
    _run(proc, x)
    np.testing.assert_allclose(np.concatenate(seen, 1), 0.75 * voice + 0.25 * gen, atol=1e-5)


def test_style_or_pattern_with_nothing_loaded_decode_the_latent_origin(causal):
    proc = RaveProcessor(causal, engine_rate_hz=44100, seed=2)
    seen = _decoded_latents(proc)
    proc.source, proc.generator = 1.0, _mode("style")
    out = _run(proc, np.zeros((2, 2048 * 2), np.float32))
    assert all(not z.any() for z in seen) and np.all(np.isfinite(out))


def test_bad_references_and_patterns_are_refused(causal):
    proc = RaveProcessor(causal, engine_rate_hz=44100)
    with pytest.raises(ValueError, match="reference must be"):
        proc.set_style_references([np.zeros((1, 100), np.float32)])
    with pytest.raises(ValueError, match="16 latent dims"):
        proc.set_pattern(np.zeros((3, 5), np.float32))
