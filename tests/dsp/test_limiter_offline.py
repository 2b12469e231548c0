"""The whole-signal limiter equals the streaming one bit for bit, on any thread count."""

import numpy as np
import pytest

from dsp import limiter, limiter_offline

from .test_limiter import SIGNALS, music_like


def streamed(x, fs, ceiling_dbtp, release_ms):
    """The streaming limiter over x and a lookahead of silence, the delay dropped."""
    state = limiter.prepare(x.shape[0], fs, ceiling_dbtp, release_ms)
    latency = limiter.latency_samples(state)
    y = np.zeros((x.shape[0], x.shape[1] + latency), np.float32)
    y[:, : x.shape[1]] = x
    limiter.process(state, y, y)
    return y[:, latency:]


@pytest.mark.parametrize("name", ["17 +20 dB", "music +20 dB seed 0", "music +30 dB mono",
                                  "white noise +20 dB"])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_equals_the_streaming_limiter(name, threads):
    x = SIGNALS[name]()
    y = limiter_offline.limit(x, 48000, -1.0, 100.0, threads=threads)
    np.testing.assert_array_equal(y, streamed(x, 48000, -1.0, 100.0))
    assert np.abs(y).max() < 1.0  # it did limit (the inputs reach +20 dB)


@pytest.mark.parametrize("fs,release_ms", [(44100, 25.0), (96000, 100.0), (48000, 10.0)])
def test_equals_streaming_at_other_rates_and_releases(fs, release_ms):
    x = music_like(3, seconds=2.0, gain_db=12.0)
    x[0, 1000] = np.nan
    x[1, 5000] = np.inf
    y = limiter_offline.limit(x, fs, -1.0, release_ms, threads=2)
    assert np.all(np.isfinite(y))
    np.testing.assert_array_equal(y, streamed(x, fs, -1.0, release_ms))


@pytest.mark.parametrize("n", [0, 1, 100, 5000])
def test_short_and_quiet_signals(n):
    x = music_like(4, seconds=0.5, gain_db=-20.0)[:, :n]
    y = limiter_offline.limit(x, 48000, -1.0, 100.0)
    assert y.shape == x.shape
    np.testing.assert_array_equal(y, x)  # under the ceiling: passed unchanged
