import time

import numpy as np
import torch

from models.rave.processor import RaveProcessor


def _noise(frames, seed=0):
    return (np.random.default_rng(seed).standard_normal((2, frames)) * 0.1).astype(np.float32)


def _run(proc, x):
    n = proc.block_frames
    return np.concatenate([proc.process(x[:, i:i + n]) for i in range(0, x.shape[1], n)], 1)


def test_blocks_equal_the_models_forward_with_the_same_seeds(streaming):
    proc = RaveProcessor(streaming, engine_rate_hz=44100, seed=7)
    assert proc.block_frames == 2048
    assert proc.delay_frames == streaming.delay_samples  # no resampling, no priming
    x = _noise(2048 * 4)
    out = _run(proc, x)
    streaming.reset()
    mono = x.mean(axis=0)
    ref = []
    with torch.inference_mode():
        for i in range(4):
            torch.manual_seed(7 + i)
            block = torch.from_numpy(mono[None, None, i * 2048:(i + 1) * 2048].copy())
            ref.append(streaming.module.forward(block)[0, 0].numpy())
    ref = np.concatenate(ref)
    # Before its delay the model answers its start state, not the input: the voice gate
    # keeps that silent (models/rave/voice_gate.py); from the delay on it is the model.
    d = proc.delay_frames
    np.testing.assert_allclose(out[0, d:], ref[d:], atol=1e-5)
    np.testing.assert_array_equal(out[0, :d - proc._gate.fade], 0.0)
    np.testing.assert_array_equal(out[0], out[1])  # mono model -> both channels


def test_reset_makes_two_runs_identical(causal):
    proc = RaveProcessor(causal, engine_rate_hz=48000, seed=3)
    x = _noise(proc.block_frames * 6, seed=1)
    first = _run(proc, x)
    assert not np.array_equal(_run(proc, x), first)  # state carried on
    proc.reset()
    np.testing.assert_array_equal(_run(proc, x), first)


def test_resampling_keeps_length_accounting_exact(causal):
    proc = RaveProcessor(causal, engine_rate_hz=48000, seed=0)
    assert proc.block_frames == 2229  # 2048 samples at 44.1 kHz, rounded down at 48 kHz
    model_delay = round(causal.delay_samples * 48000 / 44100)
    assert proc.delay_frames == proc.prime_frames + model_delay
    for i in range(40):
        y = proc.process(_noise(proc.block_frames, seed=i))
        assert y.shape == (2, proc.block_frames) and y.dtype == np.float32
    assert proc.underruns == 0
    # Everything the input side received was decoded except less than one model block.
    assert proc._in.shape[1] < proc.model_block


def test_dry_is_delayed_to_line_up_and_gains_apply(causal):
    proc = RaveProcessor(causal, engine_rate_hz=44100, seed=0)
    proc.dry_wet = 0.0
    proc.output_gain_db = -6.0
    x = _noise(2048 * 4)
    out = _run(proc, x)
    d = proc.delay_frames
    gain = 10 ** (-6 / 20)
    np.testing.assert_allclose(out[:, d:], x[:, :-d] * gain, rtol=1e-6)
    np.testing.assert_array_equal(out[:, :d], 0.0)
    proc.reset()
    proc.align_dry = 0.0  # the performer's choice: dry at once, no added latency
    np.testing.assert_allclose(_run(proc, x), x * gain, rtol=1e-6)


def test_latent_controls_change_the_output_and_neutral_does_not(causal):
    x = _noise(2048 * 3)
    proc = RaveProcessor(causal, engine_rate_hz=44100, seed=5)
    neutral = _run(proc, x)
    proc.reset()
    proc.energy, proc.chaos, proc.texture = 1.5, 0.3, 0.5
    assert not np.allclose(_run(proc, x), neutral)
    proc.reset()
    proc.energy, proc.chaos, proc.texture = 1.0, 0.0, 0.0
    proc.set_match_reference(_noise(2048 * 4, seed=9)[:1])
    proc.match_amount = 0.0
    np.testing.assert_array_equal(_run(proc, x), neutral)  # reference alone changes nothing


def test_decode_is_faster_than_real_time_on_one_thread(streaming):
    z = torch.zeros(1, 16, 1)
    streaming.reset()
    with torch.inference_mode():
        for _ in range(3):
            streaming.module.decode(z)
        t = time.perf_counter()
        for _ in range(10):
            streaming.module.decode(z)
        per_block = (time.perf_counter() - t) / 10
    streaming.reset()
    assert per_block < 2048 / 44100  # one block of audio lasts 46 ms


def test_make_rave_insert_builds_a_worker_processor():
    from models.rave.processor import make_rave_insert

    from .conftest import fixture_path

    proc = make_rave_insert(str(fixture_path("rave_v2_tiny_causal_streaming.ts")), 48000.0)
    y = proc.process(np.zeros((2, proc.block_frames), np.float32))
    assert y.shape == (2, proc.block_frames)


def test_mean_encode_mode_is_deterministic_without_a_seed(streaming):
    x = _noise(2048 * 3, seed=4)
    proc = RaveProcessor(streaming, engine_rate_hz=44100, encode_mode="mean")
    first = _run(proc, x)
    proc.reset()
    torch.manual_seed(12345)  # the global generator plays no part
    np.testing.assert_array_equal(_run(proc, x), first)


def _lag(y, x):
    """Lag (frames) of ``y`` behind ``x`` at the cross-correlation peak."""
    n = 1 << int(np.ceil(np.log2(x.size + y.size)))
    xc = np.fft.irfft(np.fft.rfft(y, n) * np.conj(np.fft.rfft(x, n)), n)
    return int(np.argmax(xc[: n // 2]))


def _tones(frames, sr, channels):
    t = np.arange(frames) / sr
    freqs = [(220.0, 1234.5, 5001.0), (330.0, 2345.6, 7777.0)]
    return np.stack([sum(np.sin(2 * np.pi * f * t + i) for i, f in enumerate(freqs[c]))
                     for c in range(channels)]).astype(np.float32) * 0.2


def test_reported_delay_is_the_real_delay_through_both_resamplers(tmp_path):
    from models.rave.loader import load_rave

    from .fake import save_delay_rave

    model = load_rave(save_delay_rave(tmp_path / "delay.ts", delay=441, channels=2))
    assert model.streaming and model.channels == 2
    assert model.delay_samples == 441 and model.causal is True
    proc = RaveProcessor(model, engine_rate_hz=48000)
    assert proc.model_block == 256 and proc.block_frames == 278
    # 1000 calls: past several calls with no model block at all (one every ~436 calls,
    # 278 frames bring 255.4 model samples), where the primed FIFO must carry on alone.
    x = _tones(proc.block_frames * 1000, 48000, 2)
    y = _run(proc, x)
    assert proc.underruns == 0
    for c in range(2):  # stereo model: each channel comes back on its own
        lag = _lag(y[c], x[c])
        assert lag == proc.delay_frames == proc.prime_frames + 480
        err = y[c, lag + 4000:] - x[c, 4000:-lag]
        # Two soxr passes on tones under 8 kHz: the signal comes back nearly intact.
        assert np.sqrt(np.mean(err ** 2)) < 1e-3 * np.sqrt(np.mean(x[c] ** 2))


def test_warm_up_leaves_the_processor_as_constructed(causal):
    x = _noise(2229 * 4, seed=6)
    cold = RaveProcessor(causal, engine_rate_hz=48000, seed=3)
    y_cold = _run(cold, x)
    warm = RaveProcessor(causal, engine_rate_hz=48000, seed=3)
    warm.warm_up()
    np.testing.assert_array_equal(_run(warm, x), y_cold)
