import numpy as np
import pytest

from dsp.resample import StreamResampler, resample


def _sine(f_hz, sr, n):
    return np.sin(2 * np.pi * f_hz * np.arange(n) / sr).astype(np.float32)


def _peak_hz(x, sr):
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return np.argmax(spec) * sr / x.size


def test_a_sine_keeps_its_frequency_and_level_across_rates():
    x = _sine(1000.0, 44100, 44100)
    y = resample(x, 44100, 48000)
    assert y.shape[0] == 48000
    assert _peak_hz(y, 48000) == pytest.approx(1000.0, abs=1.0)
    rms_db = 20 * np.log10(np.sqrt(np.mean(y[1000:-1000] ** 2)) / np.sqrt(0.5))
    assert abs(rms_db) < 0.01


def test_streaming_matches_whole_file_conversion():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((48000, 2)).astype(np.float32) * 0.1
    whole = StreamResampler(48000, 44100, 2)
    ref = whole.process(x, last=True)
    stream = StreamResampler(48000, 44100, 2)
    parts = [stream.process(x[i:i + 256]) for i in range(0, x.shape[0], 256)]
    parts.append(stream.process(np.zeros((0, 2), np.float32), last=True))
    out = np.concatenate(parts)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, atol=1e-6)


def test_stream_reports_its_delay():
    r = StreamResampler(44100, 48000, 1)
    assert 0 < r.delay_frames < 2000


def test_bad_rates_are_refused():
    with pytest.raises(ValueError, match="positive"):
        resample(np.zeros(10), 0, 48000)
