"""The whole-file loudness measurement (numpy) against the streaming meter, scipy's filter
and pyebur128."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal

from dsp import loudness
from dsp.analysis import loudness_file
from dsp.bs1770 import k_weighting_coefficients


def _material(rate_hz: int, seconds: float, seed: int = 0) -> np.ndarray:
    """A swelling tone, decaying noise on the other channel and a quiet first 3 s: every
    gate and window has work to do."""
    rng = np.random.default_rng(seed)
    n = int(rate_hz * seconds)
    t = np.arange(n) / rate_hz
    x = np.stack([0.3 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 0.1 * t)),
                  0.1 * rng.standard_normal(n) * np.exp(-t / 10)]).astype(np.float32)
    x[:, : 3 * rate_hz] *= 0.001
    return x


def test_the_block_filter_is_the_recursion_and_carries_its_state() -> None:
    x = np.random.default_rng(1).standard_normal((2, 5000))
    b, a = k_weighting_coefficients(44100)
    reference = scipy.signal.lfilter(b[1], a[1], scipy.signal.lfilter(b[0], a[0], x))
    whole = x
    for k in range(2):
        whole, _ = loudness_file.block_biquad(whole, b[k], a[k])
    np.testing.assert_allclose(whole, reference, rtol=0, atol=1e-12 * np.abs(reference).max())
    # in two parts (the first a whole number of blocks), the state handed on
    cut = 3 * loudness_file.BLOCK_FRAMES
    first, state = loudness_file.block_biquad(x[:, :cut], b[0], a[0])
    second, _ = loudness_file.block_biquad(x[:, cut:], b[0], a[0], state)
    np.testing.assert_allclose(np.concatenate([first, second], 1),
                               scipy.signal.lfilter(b[0], a[0], x), atol=1e-12)


@pytest.mark.parametrize("rate_hz", [48000, 44100])
def test_readings_equal_the_streaming_meter(rate_hz: int) -> None:
    x = _material(rate_hz, 37.3)
    ours, meter = loudness_file.measure(x, rate_hz), loudness.measure(x, rate_hz)
    for key, value in meter.items():
        # the meter's loudness range reads its percentiles from 0.01 LU bins
        assert ours[key] == pytest.approx(value, abs=0.01 if key == "lra_lu" else 1e-9), key
    assert ours["lra_lu"] > 10.0  # the quiet start and the swell: a range worth checking


def test_chunks_do_not_change_the_readings(monkeypatch) -> None:
    x = _material(48000, 12.0, seed=2)
    whole = loudness_file.measure(x, 48000)
    # a chunk of one hop and a bit: windows, hops, filter and true-peak history all cross
    monkeypatch.setattr(loudness_file._Meter, "chunk", lambda self: math.lcm(256, 4800))
    chunked = loudness_file.measure(x, 48000)
    for key, value in whole.items():
        assert chunked[key] == pytest.approx(value, abs=1e-9), key


def test_silence_nothing_and_non_finite_samples() -> None:
    silent = loudness_file.measure(np.zeros((2, 48000), np.float32), 48000)
    assert all(v == -math.inf for k, v in silent.items() if k != "lra_lu")
    assert silent["lra_lu"] == 0.0
    empty = loudness_file.measure(np.zeros((2, 0), np.float32), 48000)
    assert empty["integrated_lufs"] == -math.inf and empty["sample_peak_dbfs"] == -math.inf
    x = _material(48000, 5.0)
    bad = x.copy()
    bad[0, 1000] = np.nan
    bad[1, 2000] = np.inf
    clean = x.copy()
    clean[0, 1000] = clean[1, 2000] = 0.0
    assert loudness_file.measure(bad, 48000) == loudness_file.measure(clean, 48000)


def test_integrated_loudness_equals_pyebur128() -> None:
    pyebur128 = pytest.importorskip("pyebur128")
    x = _material(48000, 20.0, seed=3)
    meter = pyebur128.R128State(2, 48000, pyebur128.MeasurementMode.MODE_I
                                | pyebur128.MeasurementMode.MODE_TRUE_PEAK)
    meter.add_frames(np.ascontiguousarray(x.T).reshape(-1), x.shape[1])
    ours = loudness_file.measure(x, 48000)
    assert ours["integrated_lufs"] == pytest.approx(pyebur128.get_loudness_global(meter),
                                                    abs=0.01)
