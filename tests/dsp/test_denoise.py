import numpy as np
import pytest

from dsp import denoise

SR = 48000


def _vowel(n, f0_hz=150.0, vibrato=0.01, sr=SR):
    """A sustained /a/-like vowel: harmonics of f0 (5.5 Hz vibrato) under three formants,
    unit RMS."""
    t = np.arange(n) / sr
    phase = 2 * np.pi * np.cumsum(f0_hz * (1 + vibrato * np.sin(2 * np.pi * 5.5 * t))) / sr
    x = np.zeros(n)
    for h in range(1, int(8000 / f0_hz) + 1):
        f = h * f0_hz
        env = sum(a / (1 + ((f - fc) / bw) ** 2)
                  for fc, bw, a in ((800, 80, 1.0), (1200, 90, 0.5), (2500, 120, 0.2)))
        x += env / np.sqrt(h) * np.sin(h * phase)
    return x / np.sqrt(np.mean(x**2))


def _coloured(rng, n, exponent, sr=SR):
    """Gaussian noise with power falling as 1/f**exponent above 20 Hz, unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sr)
    spec *= np.maximum(f, 20.0) ** (-exponent / 2)
    spec[f < 10.0] = 0.0
    x = np.fft.irfft(spec, n)
    return x / np.sqrt(np.mean(x**2))


def _fan(rng, n, sr=SR):
    """Pink plus brown noise with a 100 Hz blade hum, unit RMS."""
    t = np.arange(n) / sr
    x = _coloured(rng, n, 1.0) + 0.7 * _coloured(rng, n, 2.0)
    x += 0.3 * np.sin(2 * np.pi * 100 * t) * (1 + 0.2 * np.sin(2 * np.pi * 0.3 * t))
    return x / np.sqrt(np.mean(x**2))


def _run(x, amount=1.0, block=128, sr=SR, state=None, at=None):
    """Process mono or planar x in blocks; returns (output with the latency removed, state).
    ``at``: {sample index: callable(state)} run before the block that starts there."""
    state = denoise.prepare(sr) if state is None else state
    x = np.atleast_2d(x).astype(np.float32)
    lat = denoise.latency_samples(state)
    n = x.shape[1]
    buf = np.zeros((x.shape[0], n + lat), dtype=np.float32)
    buf[:, :n] = x
    for i in range(0, buf.shape[1], block):
        if at and i in at:
            at[i](state)
        view = buf[:, i : i + block]
        denoise.process(state, amount, view, view)
    return buf[:, lat:].astype(np.float64), state


def _db(x):
    return 10 * np.log10(np.mean(np.square(x)) + 1e-300)


def _si_sdr_db(estimate, reference):
    alpha = np.dot(estimate, reference) / np.dot(reference, reference)
    target = alpha * reference
    return 10 * np.log10(np.sum(target**2) / np.sum((estimate - target) ** 2))


@pytest.mark.parametrize("sr", [22050, 44100, 48000, 96000, 192000])
def test_latency_at_most_10_ms_and_amount_0_is_the_delayed_input(sr):
    state = denoise.prepare(sr)
    lat = denoise.latency_samples(state)
    assert lat == denoise.window_samples_for(sr) - 1
    assert lat / sr <= 0.010
    rng = np.random.default_rng(1)
    x = (0.3 * rng.standard_normal((2, sr // 2))).astype(np.float32)
    y = np.empty_like(x)
    denoise.process(state, 0.0, x, y)
    np.testing.assert_array_equal(y[:, lat:], x[:, :-lat])  # bit-exact, not just to 1e-6
    assert np.all(y[:, :lat] == 0.0)


def test_latency_at_48_khz_is_383_samples():
    assert denoise.latency_samples(denoise.prepare(SR)) == 383  # 384-sample window, 7.98 ms


def test_windows_overlap_add_to_the_delayed_input_through_the_full_path():
    # A profile captured from a far louder noise holds every gain at the floor, here exactly
    # 1/2 (6.02 dB): the output must then be half the input, delayed by latency_samples, to
    # float rounding. That checks the windows' normalisation through FFT, gain, inverse FFT
    # and overlap-add (amount 0 skips that path).
    rng = np.random.default_rng(2)
    n_loud, n = 4800, 48000
    x = np.concatenate([1e4 * rng.standard_normal((2, n_loud)),
                        0.5 * rng.standard_normal((2, n))], axis=1)
    state = denoise.prepare(SR, max_attenuation_db=20 * np.log10(2.0))
    denoise.capture(state, n_loud / SR)
    y, _ = _run(x, amount=1.0, state=state)
    quiet = slice(n_loud + 400, n_loud + n)
    np.testing.assert_allclose(y[:, quiet], 0.5 * x[:, quiet], rtol=0, atol=1e-6)


@pytest.mark.parametrize("block", [1, 7, 64, 128, 4096])
def test_block_size_invariance(block):
    rng = np.random.default_rng(3)
    n = SR // 2
    x = 0.05 * rng.standard_normal((2, n))
    x[:, n // 3 :] += 0.3 * _vowel(n - n // 3)
    whole, s_whole = _run(x, block=n + 400)
    y, s_block = _run(x, block=block)
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-6)
    assert np.array_equal(s_block, s_whole)


def test_stereo_is_linked_and_matches_mono():
    rng = np.random.default_rng(10)
    n = SR
    mono = 0.3 * _vowel(n) * (np.arange(n) > SR // 3) + 0.05 * rng.standard_normal(n)
    y_mono, _ = _run(mono)
    y_same, _ = _run(np.stack([mono, mono]))
    np.testing.assert_allclose(y_same[0], y_mono[0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(y_same[1], y_mono[0], rtol=0, atol=1e-6)
    # one gain for both channels: a channel at half the level comes out at half the level
    y_half, _ = _run(np.stack([mono, 0.5 * mono]))
    np.testing.assert_allclose(y_half[1], 0.5 * y_half[0], rtol=0, atol=1e-6)


def test_digital_silence_in_gives_exact_zeros_out():
    rng = np.random.default_rng(4)
    x = np.zeros((2, SR))
    x[:, 10000:20000] = 0.5 * rng.standard_normal((2, 10000))
    y, state = _run(x)
    assert np.all(y[:, :10000 - 400] == 0.0)
    # the filters' tails end within a window of the last sample, then exact zeros again
    assert np.all(y[:, 20000 + 400 :] == 0.0)
    assert np.all(np.isfinite(state))


@pytest.mark.parametrize("scale", [1e-38, 1e-3, 1.0, 3e38])
def test_finite_in_finite_out_and_never_louder(scale):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, SR)) * np.where(np.arange(SR) % 9000 < 4500, 1.0, 0.01)
    x = np.clip(x * scale, -3e38, 3e38).astype(np.float32)
    y, state = _run(x)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(state))
    # no bin's gain exceeds 1, so the output carries no more energy than the input
    assert np.sum(y**2) <= np.sum(x.astype(np.float64) ** 2) * (1 + 1e-6)


def test_process_does_not_allocate(assert_no_nrt_alloc):
    state = denoise.prepare(SR)
    x = np.zeros((2, 512), dtype=np.float32)
    y = np.empty_like(x)
    assert_no_nrt_alloc(denoise.process, state, 1.0, x, y)


def test_voice_in_white_noise_improves_si_sdr():
    rng = np.random.default_rng(6)
    n = 4 * SR
    t = np.arange(n) / SR
    # syllables: vowels at changing pitch, 250 ms on, 150 ms off
    clean = _vowel(n, 140) * (np.sin(2 * np.pi * 2.5 * t) > -0.3) * (t > 0.5)
    clean += 0.5 * _vowel(n, 210) * (np.sin(2 * np.pi * 2.5 * t + 2.0) > 0.2) * (t > 0.5)
    noisy = clean + np.sqrt(np.mean(clean**2)) * rng.standard_normal(n)  # 0 dB SNR
    y, _ = _run(0.1 * noisy)
    gain_db = _si_sdr_db(y[0], clean) - _si_sdr_db(noisy, clean)
    assert gain_db > 8.0


def test_capture_learns_a_noise_on_demand():
    rng = np.random.default_rng(7)
    n = 4 * SR
    x = 1e-4 * rng.standard_normal(n)
    x[SR:] += 0.03 * _coloured(rng, n - SR, 1.0)  # pink noise 50 dB louder, from 1 s on
    probe = slice(int(1.6 * SR), int(2.6 * SR))
    captured, _ = _run(x, at={SR: lambda s: denoise.capture(s, 0.5)})
    tracked, _ = _run(x)
    assert _db(x[probe]) - _db(captured[0, probe]) > 18.0
    # the continuous tracker alone has not reached it yet: the capture made the difference
    assert _db(x[probe]) - _db(tracked[0, probe]) < 6.0


def test_fan_is_learned_within_seconds_and_a_sustained_vowel_is_kept():
    rng = np.random.default_rng(8)
    n = 12 * SR
    fan = 10 ** (-30 / 20) * _fan(rng, n)
    x = 1e-4 * rng.standard_normal(n)
    x[SR:] += fan[SR:]  # the fan starts 1 s in, 40 dB over the room noise learned at reset
    vowel = np.zeros(n)
    vowel[6 * SR :] = 10 ** (-20 / 20) * _vowel(6 * SR)  # held 6 s, 10 dB over the fan
    y, _ = _run(x + vowel)
    learned = slice(4 * SR, 6 * SR)  # 3-5 s after the fan started
    assert _db(x[learned]) - _db(y[0, learned]) > 12.0
    for start_s in (7, 9, 11):  # the vowel, 1 to 6 s into it
        seg = slice(start_s * SR, (start_s + 1) * SR)
        g = np.dot(y[0, seg], vowel[seg]) / np.dot(vowel[seg], vowel[seg])
        assert abs(20 * np.log10(g)) < 1.0
        assert abs(_db(y[0, seg]) - _db(vowel[seg])) < 1.0


@pytest.mark.parametrize("amount, expected_db", [(0.5, 12.5), (1.0, 25.0)])
def test_amount_sets_the_attenuation_of_learned_white_noise(amount, expected_db):
    rng = np.random.default_rng(9)
    x = 0.01 * rng.standard_normal(4 * SR)
    y, _ = _run(x, amount=amount)
    steady = slice(2 * SR, 4 * SR)
    assert _db(x[steady]) - _db(y[0, steady]) == pytest.approx(expected_db, abs=4.0)
    assert _db(x[steady]) - _db(y[0, steady]) <= expected_db + 0.1
