import math

import numpy as np
import pytest

from dsp import stereo

SR = 48000.0


def noise(n, seed=0, channels=2):
    return (0.3 * np.random.default_rng(seed).standard_normal((channels, n))).astype(np.float32)


def sine(freq_hz, n, amp=0.5):
    return (amp * np.sin(2 * np.pi * freq_hz * np.arange(n) / SR)).astype(np.float32)


def rms(v):
    return float(np.sqrt(np.mean(np.asarray(v, dtype=np.float64) ** 2)))


def test_ms_round_trip():
    x = noise(10000)
    ms = np.empty_like(x)
    stereo.ms_encode(x, ms)
    np.testing.assert_allclose(ms[0], 0.5 * (x[0] + x[1]), atol=1e-7)
    np.testing.assert_allclose(ms[1], 0.5 * (x[0] - x[1]), atol=1e-7)
    back = np.empty_like(x)
    stereo.ms_decode(ms, back)
    np.testing.assert_allclose(back, x, atol=1e-6)
    y = x.copy()  # in place
    stereo.ms_encode(y, y)
    stereo.ms_decode(y, y)
    np.testing.assert_allclose(y, x, atol=1e-6)


def run_width(width, x, crossover_hz=150.0):
    state = stereo.prepare_width(SR, crossover_hz, width)
    y = np.empty_like(x)
    stereo.process_width(state, x, y)
    return y


def test_width_zero_is_mono():
    y = run_width(0.0, noise(8000))
    np.testing.assert_array_equal(y[0], y[1])


def test_width_one_is_allpass():
    # Impulse responses: L->L and R->R must have unit magnitude at every frequency (the LR4
    # allpass), L->R and R->L none.
    n = 8192
    for ch in (0, 1):
        x = np.zeros((2, n), dtype=np.float32)
        x[ch, 0] = 1.0
        y = run_width(1.0, x)
        np.testing.assert_allclose(np.abs(np.fft.rfft(y[ch])), 1.0, atol=1e-4)
        assert np.max(np.abs(y[1 - ch])) < 1e-6
        assert not np.allclose(y[ch], x[ch], atol=1e-3)  # really an allpass, not a wire


def test_crossover_bands_sum_flat():
    # The LR4 split itself: low + high is an allpass (flat magnitude), each band -6 dB at fc.
    n = 8192
    state = stereo.prepare_width(SR, 150.0, 1.0)
    lows = np.empty(n)
    highs = np.empty(n)
    for i in range(n):
        lows[i], highs[i] = stereo._lr4_split(state, stereo._W_FILT, 1.0 if i == 0 else 0.0,
                                              state[stereo._W_A1], state[stereo._W_A2],
                                              state[stereo._W_A3])
    np.testing.assert_allclose(np.abs(np.fft.rfft(lows + highs)), 1.0, atol=1e-6)
    at_fc = np.exp(-2j * np.pi * 150.0 / SR * np.arange(n))  # DTFT exactly at the crossover
    assert 20 * np.log10(np.abs(lows @ at_fc)) == pytest.approx(-6.02, abs=0.01)
    assert 20 * np.log10(np.abs(highs @ at_fc)) == pytest.approx(-6.02, abs=0.01)


def test_width_two_keeps_bass_mono_and_widens_highs():
    n = 48000
    settle = 4800
    # Fully one-sided bass (maximally stereo) and one-sided treble.
    bass = np.stack([sine(40.0, n), np.zeros(n, np.float32)])
    y = run_width(2.0, bass)[:, settle:]
    side = 0.5 * (y[0] - y[1])
    mid = 0.5 * (y[0] + y[1])
    assert rms(side) < 0.02 * rms(mid)  # LR4 high band at 40 Hz / 150 Hz: about -46 dB x 2
    treble = np.stack([sine(5000.0, n), np.zeros(n, np.float32)])
    y = run_width(2.0, treble)[:, settle:]
    side_in = 0.5 * treble[0, settle:]
    assert rms(0.5 * (y[0] - y[1])) == pytest.approx(2.0 * rms(side_in), rel=1e-3)
    assert rms(0.5 * (y[0] + y[1])) == pytest.approx(rms(side_in), rel=1e-3)  # mid unchanged


def test_width_half_narrows():
    x = np.stack([sine(3000.0, 24000), np.zeros(24000, np.float32)])
    y = run_width(0.5, x)[:, 4800:]
    assert rms(0.5 * (y[0] - y[1])) == pytest.approx(0.5 * rms(0.5 * x[0, 4800:]), rel=1e-3)


def test_pan_law():
    """The mixer's law: unity at the centre, constant power, +3 dB on the hard side."""
    assert stereo.pan_gains(0.0) == pytest.approx((1.0, 1.0), abs=1e-12)
    assert stereo.pan_gains(-1.0) == pytest.approx((math.sqrt(2.0), 0.0), abs=1e-12)
    assert stereo.pan_gains(1.0) == pytest.approx((0.0, math.sqrt(2.0)), abs=1e-12)
    for p in np.linspace(-1, 1, 21):
        gl, gr = stereo.pan_gains(p)
        assert gl * gl + gr * gr == pytest.approx(2.0)  # constant power


def meter(x, tc_ms=100.0):
    state = stereo.prepare_correlation(SR, tc_ms)
    return stereo.process_correlation(state, x)


def test_correlation_meter():
    a = noise(48000, seed=1, channels=1)[0]
    b = noise(48000, seed=2, channels=1)[0]
    assert meter(np.stack([a, a])) == pytest.approx(1.0, abs=1e-9)
    assert meter(np.stack([a, -a])) == pytest.approx(-1.0, abs=1e-9)
    assert abs(meter(np.stack([a, b]))) < 0.1
    assert meter(np.stack([a, 0.5 * a + 0.5 * b])) == pytest.approx(1 / math.sqrt(2), abs=0.1)
    assert meter(np.zeros((2, 1000), np.float32)) == 0.0
    s = sine(440.0, 48000)
    assert meter(np.stack([s, 0.3 * s])) == pytest.approx(1.0, abs=1e-9)  # level-independent


@pytest.mark.parametrize("kind", ["width", "correlation"])
def test_block_size_invariance(kind):
    n = 8192
    x = noise(n, seed=3)
    if kind == "width":
        def make():
            s = stereo.prepare_width(SR, 200.0, 0.2)
            stereo.set_width(s, 1.8)  # exercise the gain smoothing across blocks
            return s

        def run(s, xb, yb):
            stereo.process_width(s, xb, yb)
    else:
        def make():
            return stereo.prepare_correlation(SR, 20.0)

        def run(s, xb, yb):
            yb[0, 0] = stereo.process_correlation(s, xb)

    whole = np.zeros((2, n), np.float32)
    state = make()
    run(state, x, whole)
    final_whole = state.copy()
    for block in (1, 7, 64, 128, 4096):
        state = make()
        out = np.zeros((2, n), np.float32)
        for i in range(0, n, block):
            run(state, x[:, i : i + block], out[:, i : i + block])
        np.testing.assert_array_equal(state, final_whole)
        if kind != "correlation":
            np.testing.assert_array_equal(out, whole)


def test_no_allocation_in_process(assert_no_nrt_alloc):
    x = noise(64)
    y = np.empty_like(x)
    assert_no_nrt_alloc(stereo.ms_encode, x, y)
    assert_no_nrt_alloc(stereo.ms_decode, x, y)
    w = stereo.prepare_width(SR)
    assert_no_nrt_alloc(stereo.process_width, w, x, y)
    assert_no_nrt_alloc(stereo.reset_width, w)
    assert_no_nrt_alloc(stereo.set_crossover, w, 200.0)
    c = stereo.prepare_correlation(SR)
    assert_no_nrt_alloc(stereo.process_correlation, c, x)
    assert_no_nrt_alloc(stereo.reset_correlation, c)
