"""The input strip's noise reduction (run/render --denoise) as the engine runs it."""

from __future__ import annotations

import numpy as np

from engine.engine import Engine
from engine.offline.render import render_array

SR = 48000
# the dry voice alone, through the strip, no master stages that change with the input
PARAMS = {"stem_worker_gain_db": -80.0, "stem_drums_gain_db": -80.0, "beatbox_trigger": 0.0,
          "bus_comp_ratio": 1.0, "comp_ratio": 1.0, "gate_threshold_db": -90.0}


def _pink(seconds: float, level: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))
    x = np.fft.irfft(spectrum, n)
    return (level * x / np.sqrt(np.mean(x * x)))[:, None].repeat(2, axis=1).astype(np.float32)


def _rms_db(y: np.ndarray) -> float:
    return 10 * np.log10(np.mean(y.astype(np.float64) ** 2))


def test_amount_zero_is_the_plain_strip_delayed_by_the_reported_latency():
    x = _pink(1.0, 0.05)
    off, engine = render_array(x, SR, {**PARAMS, "denoise_amount": 0.0}, insert="none",
                               preset=None, denoise=True)
    d = engine.snapshot()["latency"]["input_denoise_frames"]
    assert d == 383  # 8 ms at 48 kHz
    # the same input arriving d frames later through the strip without it: the same output
    late = np.concatenate([np.zeros((d, 2), np.float32), x])[: x.shape[0]]
    plain, _ = render_array(late, SR, PARAMS, insert="none", preset=None)
    np.testing.assert_allclose(off, plain, atol=1e-6)


def test_a_steady_room_noise_is_pulled_down_and_the_latency_reported():
    x = _pink(6.0, 0.02)
    plain, _ = render_array(x, SR, PARAMS, insert="none", preset=None)
    reduced, engine = render_array(x, SR, {**PARAMS, "denoise_amount": 1.0}, insert="none",
                                   preset=None, denoise=True)
    tail = slice(4 * SR, None)  # after the noise is learned
    assert _rms_db(plain[tail]) - _rms_db(reduced[tail]) > 12.0
    assert engine.snapshot()["latency"]["input_denoise_ms"] == 1e3 * 383 / SR


def test_the_learn_button_takes_the_next_seconds_as_the_noise():
    quiet, loud = _pink(1.0, 0.0005, seed=1), _pink(1.0, 0.05, seed=2)

    def loud_noise_level(press: bool) -> float:
        engine = Engine(SR, 2, 2, None, params={**PARAMS, "denoise_amount": 1.0,
                                                "denoise_learn_s": 0.5}, denoise=True)
        y = np.zeros_like(quiet)
        engine.process(quiet, y)  # the room it learned at the start
        if press:
            engine.params.set("denoise_learn", 1.0)
        out = np.zeros_like(loud)
        for i in range(0, loud.shape[0], 128):
            engine.process(loud[i:i + 128], out[i:i + 128])
            engine.params.set("denoise_learn", 0.0)  # a press lasts one block
        return _rms_db(out[int(0.6 * SR):])  # after the 0.5 s it learned

    assert loud_noise_level(press=False) - loud_noise_level(press=True) > 10.0
