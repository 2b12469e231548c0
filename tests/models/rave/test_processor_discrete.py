"""RaveProcessor on a discrete export (acids-rave 2.3.1 ``discrete.gin``, 4 quantizers of
32 codes, compression 1024; tests/fixtures/rave/make_fixtures.py): codes stream from
encoder to decoder, energy and chaos act on the quantized latent, the rest stays out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.rave.processor import RaveProcessor
from models.rave.ts_convert import UnsupportedModelError, from_torchscript

RATIO = 1024
# The first input sample is heard 9782 samples later: enough blocks to hear past it.
BLOCKS = 16


def _noise(frames: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((2, frames)) * 0.3).astype(np.float32)


def _run(proc: RaveProcessor, x: np.ndarray) -> np.ndarray:
    n = proc.block_frames
    return np.concatenate([proc.process(x[:, i:i + n]) for i in range(0, x.shape[1], n)], 1)


def _reference(model, x: np.ndarray, seed: int, codes_fn=None) -> np.ndarray:
    """The export's own encode -> (codes_fn) -> decode on the processor's model blocks,
    from the loaded state, torch seeded per block as the processor seeds it."""
    model.reset()
    mono = x.mean(axis=0)
    out = []
    with torch.inference_mode():
        for i in range(0, mono.size, RATIO):
            torch.manual_seed(seed + i // RATIO)
            codes = model.module.encode(torch.from_numpy(mono[None, None, i:i + RATIO].copy()))
            if codes_fn is not None:
                codes = codes_fn(codes)
            out.append(model.module.decode(codes)[0, 0].numpy())
    model.reset()
    return np.concatenate(out)


def test_blocks_equal_the_exports_forward_and_encode_decode(discrete):
    proc = RaveProcessor(discrete, engine_rate_hz=44100, seed=11)
    assert proc.block_frames == RATIO and proc.prime_frames == 0
    x = _noise(RATIO * BLOCKS)
    out = _run(proc, x)
    np.testing.assert_array_equal(out[0], out[1])  # mono model -> both channels
    d = proc.delay_frames  # before it the voice gate hides the start state's answer
    np.testing.assert_allclose(out[0, d:], _reference(discrete, x, 11)[d:], atol=1e-6, rtol=0)
    discrete.reset()
    mono = x.mean(axis=0)
    forward = []
    with torch.inference_mode():
        for i in range(BLOCKS):
            torch.manual_seed(11 + i)
            block = torch.from_numpy(mono[None, None, i * RATIO:(i + 1) * RATIO].copy())
            forward.append(discrete.module.forward(block)[0, 0].numpy())
    discrete.reset()
    np.testing.assert_allclose(out[0, d:], np.concatenate(forward)[d:], atol=1e-6, rtol=0)


def test_decode_noise_is_seeded_and_reset_repeats_a_run(discrete):
    """The noise-augmentation channels make decode random: seeds change the output,
    reset with the same seed repeats it exactly."""
    x = _noise(RATIO * BLOCKS, seed=1)
    proc = RaveProcessor(discrete, engine_rate_hz=48000, seed=3)
    first = _run(proc, x)
    proc.reset()
    np.testing.assert_array_equal(_run(proc, x), first)
    other = RaveProcessor(discrete, engine_rate_hz=48000, seed=4)
    assert not np.array_equal(_run(other, x), first)


def test_mean_encode_mode_is_refused_clearly(discrete):
    with pytest.raises(ValueError, match="discrete export has no posterior mean.*'sample'"):
        RaveProcessor(discrete, engine_rate_hz=44100, encode_mode="mean")


def test_energy_acts_on_the_quantized_latent_and_requantizes(discrete):
    x = _noise(RATIO * BLOCKS, seed=2)
    proc = RaveProcessor(discrete, engine_rate_hz=44100, seed=5)
    proc.energy = 2.0

    def louder(codes: torch.Tensor) -> torch.Tensor:
        return discrete.latent_to_codes(2.0 * discrete.codes_to_latent(codes))

    out = _run(proc, x)
    expected = _reference(discrete, x, 5, louder)
    d = proc.delay_frames  # before it the voice gate hides the start state's answer
    np.testing.assert_allclose(out[0, d:], expected[d:], atol=1e-6, rtol=0)
    assert not np.allclose(out[0], _reference(discrete, x, 5), atol=1e-5)


def test_chaos_picks_other_codes_repeatably(discrete):
    x = _noise(RATIO * BLOCKS, seed=2)
    proc = RaveProcessor(discrete, engine_rate_hz=44100, seed=5)
    proc.chaos = 1.0
    first = _run(proc, x)
    assert not np.allclose(first[0], _reference(discrete, x, 5), atol=1e-5)
    proc.reset()
    np.testing.assert_array_equal(_run(proc, x), first)


def test_index_arithmetic_controls_and_generators_leave_the_codes_alone(discrete):
    """bias/scale, texture, match and the generators would do arithmetic on codebook
    indices (or replace them with continuous values): on a discrete export they are off."""
    x = _noise(RATIO * BLOCKS, seed=3)
    proc = RaveProcessor(discrete, engine_rate_hz=44100, seed=9)
    neutral = _run(proc, x)
    proc.reset()
    proc.bias[:] = 1.5
    proc.scale[:] = 0.5
    proc.texture = 1.0
    proc.set_match_reference(_noise(RATIO * 8, seed=4)[:1])
    proc.match_amount = 1.0
    proc.source = 1.0
    proc.generator = 0.0  # the random walk
    np.testing.assert_array_equal(_run(proc, x), neutral)


def test_onnx_converter_refuses_discrete_exports_by_name(discrete):
    with pytest.raises(UnsupportedModelError) as caught:
        from_torchscript(discrete.module)
    assert str(caught.value) == (
        "discrete exports (DiscreteEncoder: a residual vector quantizer) are not supported "
        "by the ONNX converter; play the .ts itself (--rave-backend torchscript)")
