"""The style figures: loudness equal to pyebur128, centroid and M/S ratio on signals whose
values are known."""

from __future__ import annotations

import math

import numpy as np
import pyebur128
import pytest

from dsp.analysis import mix_figures as mf


def _ebur128(x, sr):
    meter = pyebur128.R128State(2, sr, pyebur128.MeasurementMode.MODE_I)
    meter.add_frames(np.ascontiguousarray(x.T, dtype=np.float64).reshape(-1), x.shape[1])
    return pyebur128.get_loudness_global(meter)


@pytest.mark.parametrize("sr", [44100, 48000, 96000])
def test_lufs_equals_pyebur128_with_gates_at_work(sr):
    rng = np.random.default_rng(sr)
    x = 0.1 * rng.standard_normal((2, 6 * sr))
    x[:, : sr] *= 0.001  # below the absolute gate
    x[:, sr: 2 * sr] *= 0.2  # below the relative gate
    x[1] *= 0.5
    x = x.astype(np.float32)
    assert abs(mf.lufs(x, sr) - _ebur128(x, sr)) < 1e-6


def test_silence_reads_minus_infinity_and_nan():
    x = np.zeros((2, 48000), np.float32)
    assert mf.lufs(x, 48000) == -math.inf
    assert math.isnan(mf.centroid_hz(x, 48000)) and math.isnan(mf.ms_ratio(x))


def test_centroid_of_a_sine_is_its_frequency_and_weights_by_energy():
    sr = 48000
    t = np.arange(2 * sr) / sr
    tone = np.sin(2 * np.pi * 1500.0 * t)
    x = np.stack([tone, tone])
    assert abs(mf.centroid_hz(x, sr) - 1500.0) < 5.0
    two = np.concatenate([np.sin(2 * np.pi * 500 * t), 0.1 * np.sin(2 * np.pi * 4000 * t)])
    # energy-weighted: the loud 500 Hz second counts 100 times the quiet 4 kHz one
    expect = (500 * 1 + 4000 * 0.01) / 1.01
    assert abs(mf.centroid_hz(np.stack([two, two]), sr) - expect) < 10.0


def test_ms_ratio_definition():
    rng = np.random.default_rng(1)
    m, s = rng.standard_normal((2, 48000))
    x = np.stack([m + 0.3 * s, m - 0.3 * s])
    def rms(v):
        return np.sqrt(np.mean(v * v))

    assert abs(mf.ms_ratio(x) - 0.3 * rms(s) / rms(m)) < 1e-9
    assert mf.ms_ratio(np.stack([m, m])) == 0.0


def test_band_shares_sum_to_one_and_split_at_the_edges():
    sr = 48000
    t = np.arange(sr) / sr
    x = np.sin(2 * np.pi * 100 * t) + np.sin(2 * np.pi * 1000 * t) + np.sin(2 * np.pi * 8000 * t)
    fig = mf.figures(np.stack([x, x]).astype(np.float32), sr)
    shares = (fig["low_share"], fig["mid_share"], fig["high_share"])
    assert abs(sum(shares) - 1.0) < 1e-9
    assert all(abs(v - 1 / 3) < 0.01 for v in shares)


def test_the_frame_spectra_taken_in_chunks_equal_one_whole_transform():
    """``mono_power_spectra`` windows and transforms ``SPECTRA_CHUNK`` frames at a time (in
    cache); the numbers are exactly those of windowing and transforming every frame at once."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 48000 * 3 + 777)).astype(np.float32)
    mag, freqs = mf.mono_power_spectra(x, 48000)
    n = mf.frame_size(48000)
    mono = 0.5 * (x[0].astype(np.float64) + x[1].astype(np.float64))
    frames = np.lib.stride_tricks.sliding_window_view(mono, n)[:: n // 2]
    whole = np.abs(np.fft.rfft(frames * np.hanning(n + 1)[:n], axis=1))
    assert mag.shape == whole.shape and mag.shape[0] > 2 * mf.SPECTRA_CHUNK
    assert np.array_equal(mag, whole) and freqs[-1] == 24000.0
