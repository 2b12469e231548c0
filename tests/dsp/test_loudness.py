"""Loudness meter: EBU Tech 3341 / 3342 cases, other rates, pyebur128, block-size invariance."""

import math

import numba
import numpy as np
import pyebur128
import pytest

from dsp import bs1770, loudness

FS = 48000
TOL_LU = 0.1


def sine_segments(segments, fs=FS, freq_hz=1000.0):
    """1 kHz sine with a continuous phase and piecewise levels.

    segments: [(seconds, level_dbfs or per-channel list)], level = peak per channel.
    Returns float32 (n_channels, n_frames).
    """
    lengths = [int(round(sec * fs)) for sec, _ in segments]
    n_ch = max(len(np.atleast_1d(level)) for _, level in segments)
    if n_ch == 1:
        n_ch = 2  # the EBU cases are stereo unless a channel list is given
    gains = np.empty((n_ch, sum(lengths)))
    start = 0
    for length, (_, level) in zip(lengths, segments, strict=True):
        gains[:, start : start + length] = 10.0 ** (np.broadcast_to(level, (n_ch,)) / 20.0)[:, None]
        start += length
    s = np.sin(2 * np.pi * freq_hz * np.arange(gains.shape[1]) / fs)
    return (gains * s).astype(np.float32)


def metered(x, fs=FS, **kwargs):
    state = loudness.prepare(x.shape[0], fs, **kwargs)
    loudness.process(state, x)
    return state


# ---------------------------------------------------------------- EBU Tech 3341


@pytest.mark.parametrize("level", [-23.0, -33.0])
def test_ebu_3341_cases_1_2_steady_sine(level):
    state = metered(sine_segments([(20.0, level)]))
    assert abs(loudness.momentary_lufs(state) - level) <= TOL_LU
    assert abs(loudness.short_term_lufs(state) - level) <= TOL_LU
    assert abs(loudness.integrated_lufs(state) - level) <= TOL_LU
    assert abs(loudness.momentary_max_lufs(state) - level) <= TOL_LU
    assert abs(loudness.short_term_max_lufs(state) - level) <= TOL_LU


@pytest.mark.parametrize(
    "case,segments",
    [
        ("3", [(10, -36), (60, -23), (10, -36)]),
        ("4", [(10, -72), (10, -36), (60, -23), (10, -36), (10, -72)]),
        ("5", [(20, -26), (20.1, -20), (20, -26)]),
        ("6 (5.0)", [(20, [-28, -28, -24, -30, -30])]),
    ],
)
def test_ebu_3341_integrated_cases(case, segments):
    state = metered(sine_segments(segments))
    assert abs(loudness.integrated_lufs(state) + 23.0) <= TOL_LU, case


def readings_every(x, step, from_frame, reader):
    """Meter x, reading ``reader(state)`` every ``step`` frames from ``from_frame``."""
    state = loudness.prepare(x.shape[0], FS)
    loudness.process(state, x[:, :from_frame])
    out = [reader(state)]
    for i in range(from_frame, x.shape[1], step):
        loudness.process(state, np.ascontiguousarray(x[:, i : i + step]))
        out.append(reader(state))
    return np.array(out)


def test_ebu_3341_case_9_short_term_constant():
    x = sine_segments([(1.34, -20), (1.66, -30)] * 5)
    readings = readings_every(x, 480, 3 * FS, loudness.short_term_lufs)
    assert np.max(np.abs(readings + 23.0)) <= TOL_LU


def test_ebu_3341_case_12_momentary_constant():
    x = sine_segments([(0.18, -20), (0.22, -30)] * 25)
    readings = readings_every(x, 480, FS, loudness.momentary_lufs)
    assert np.max(np.abs(readings + 23.0)) <= TOL_LU


@pytest.mark.parametrize("fs", [44100, 96000])
def test_k_weighting_at_other_rates(fs):
    state = metered(sine_segments([(20.0, -23.0)], fs=fs), fs)
    assert abs(loudness.integrated_lufs(state) + 23.0) <= TOL_LU
    assert abs(loudness.momentary_lufs(state) + 23.0) <= TOL_LU
    assert abs(loudness.short_term_lufs(state) + 23.0) <= TOL_LU


def test_k_weighting_reproduces_bs1770_table_at_48k():
    b, a = bs1770.k_weighting_coefficients(48000)
    np.testing.assert_allclose(
        b[0], [1.53512485958697, -2.69169618940638, 1.19839281085285], atol=1e-6
    )
    np.testing.assert_allclose(a[0], [1.0, -1.69065929318241, 0.73248077421585], atol=1e-6)
    np.testing.assert_allclose(b[1], [1.0, -2.0, 1.0])
    np.testing.assert_allclose(a[1], [1.0, -1.99004745483398, 0.99007225036621], atol=1e-6)


# ---------------------------------------------------------------- EBU Tech 3342 (LRA)


@pytest.mark.parametrize(
    "levels,expected",
    [
        ([-20, -30], 10.0),
        ([-20, -15], 5.0),
        ([-40, -20], 20.0),
        ([-50, -35, -20, -35, -50], 15.0),
    ],
)
def test_ebu_3342_loudness_range(levels, expected):
    state = metered(sine_segments([(20, level) for level in levels]))
    assert abs(loudness.loudness_range_lu(state) - expected) <= 1.0


# ---------------------------------------------------------------- layouts, edge cases


def test_channel_weights_and_lfe_exclusion():
    np.testing.assert_allclose(bs1770.default_channel_weights(6), [1, 1, 1, 0, 1.41, 1.41])
    np.testing.assert_allclose(bs1770.default_channel_weights(5), [1, 1, 1, 1.41, 1.41])
    x = np.zeros((6, FS * 2), np.float32)
    x[3] = sine_segments([(2.0, -10.0)])[0]
    assert loudness.integrated_lufs(metered(x)) == -math.inf
    # A surround channel is 1.5 dB louder than a front channel with the same signal.
    front = np.zeros((5, FS * 2), np.float32)
    front[0] = x[3]
    surround = np.zeros_like(front)
    surround[3] = x[3]
    diff = loudness.integrated_lufs(metered(surround)) - loudness.integrated_lufs(metered(front))
    assert abs(diff - 10 * math.log10(1.41)) < 1e-6


def test_mono_is_half_the_stereo_energy():
    stereo = sine_segments([(5.0, -20.0)])
    mono = metered(stereo[:1])
    assert (
        abs(
            loudness.integrated_lufs(metered(stereo))
            - loudness.integrated_lufs(mono)
            - 10 * math.log10(2)
        )
        < 1e-6
    )


def test_silence_and_short_input():
    r = loudness.measure(np.zeros((2, FS), np.float32), FS)
    assert r["integrated_lufs"] == -math.inf and r["true_peak_dbtp"] == -math.inf
    assert r["lra_lu"] == 0.0
    # Shorter than one gating block: no integrated value, but momentary max exists.
    r = loudness.measure(sine_segments([(0.3, -20.0)]), FS)
    assert r["integrated_lufs"] == -math.inf
    assert math.isfinite(r["momentary_max_lufs"])


def test_measure_keys_and_peaks():
    x = sine_segments([(4.0, -12.0)])
    r = loudness.measure(x, FS)
    assert list(r) == [
        "integrated_lufs",
        "momentary_max_lufs",
        "short_term_max_lufs",
        "lra_lu",
        "true_peak_dbtp",
        "sample_peak_dbfs",
    ]
    assert abs(r["sample_peak_dbfs"] + 12.0) < 0.01
    assert abs(r["true_peak_dbtp"] + 12.0) < 0.1


def test_reset_starts_a_new_measurement():
    state = metered(sine_segments([(5.0, -10.0)]))
    loudness.reset(state)
    loudness.process(state, sine_segments([(5.0, -30.0)]))
    fresh = metered(sine_segments([(5.0, -30.0)]))
    assert loudness.integrated_lufs(state) == loudness.integrated_lufs(fresh)
    assert loudness.true_peak_dbtp(state) == loudness.true_peak_dbtp(fresh)
    assert loudness.momentary_max_lufs(state) == loudness.momentary_max_lufs(fresh)


# ---------------------------------------------------------------- pyebur128 cross-check


def shaped_material(rng, n_channels, seconds, fs):
    """Pink-ish noise, band-limited bursts and quiet/silent stretches (exercises the gates)."""
    n = int(seconds * fs)
    spectrum = np.fft.rfft(rng.standard_normal((n_channels, n)), axis=1)
    f = np.maximum(np.arange(spectrum.shape[1]) * fs / n, 20.0)
    spectrum *= f ** rng.uniform(-0.8, -0.2) * (1 + 3 * np.exp(-(((f - 3000) / 2000) ** 2)))
    x = np.fft.irfft(spectrum, n, axis=1)
    x /= np.abs(x).max()
    segment = int(0.7 * fs)
    for start in range(0, n, segment):
        x[:, start : start + segment] *= 10 ** (rng.uniform(-45, 0) / 20)
    x[:, n // 3 : n // 3 + fs] = 0.0
    return (x * 0.9).astype(np.float32)


def pyebur128_reference(x, fs):
    mode = pyebur128.MeasurementMode
    ref = pyebur128.R128State(x.shape[0], fs, mode.MODE_I | mode.MODE_TRUE_PEAK)
    ref.add_frames(np.ascontiguousarray(x.T).reshape(-1), x.shape[1])
    tp = max(pyebur128.get_true_peak(ref, c) for c in range(x.shape[0]))
    return pyebur128.get_loudness_global(ref), 20 * math.log10(tp)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_channels,fs", [(1, 48000), (2, 48000), (2, 44100)])
def test_matches_pyebur128(seed, n_channels, fs):
    x = shaped_material(np.random.default_rng(seed), n_channels, 8.0, fs)
    r = loudness.measure(x, fs)
    integrated, tp = pyebur128_reference(x, fs)
    assert abs(r["integrated_lufs"] - integrated) <= 0.05
    assert abs(r["true_peak_dbtp"] - tp) <= 0.2


# ---------------------------------------------------------------- streaming


def all_readings(state):
    return np.array(
        [
            loudness.momentary_lufs(state),
            loudness.short_term_lufs(state),
            loudness.momentary_max_lufs(state),
            loudness.short_term_max_lufs(state),
            loudness.integrated_lufs(state),
            loudness.loudness_range_lu(state),
            loudness.true_peak_dbtp(state),
            loudness.sample_peak_dbfs(state),
        ]
    )


def test_block_size_invariance():
    rng = np.random.default_rng(7)
    x = shaped_material(rng, 2, 3.6, FS) * np.float32(4.0)
    whole = all_readings(metered(x))
    assert np.all(np.isfinite(whole))
    sizes = [[1], [7], [64], [128], [4096], list(rng.integers(0, 3000, 50))]
    for pattern in sizes:
        state = loudness.prepare(2, FS)
        i = k = 0
        while i < x.shape[1]:
            block = int(pattern[k % len(pattern)])
            loudness.process(state, np.ascontiguousarray(x[:, i : i + block]))
            i += block
            k += 1
        np.testing.assert_allclose(all_readings(state), whole, rtol=0, atol=1e-6)


def test_process_does_not_allocate():
    state = loudness.prepare(2, FS)
    x = sine_segments([(0.1, -20.0)])
    for fn, args in ((loudness.process, (state, x)), (loudness.reset, (state,))):
        fresh = numba.njit(nogil=True)(fn.py_func)  # cached code cannot be inspected
        fresh(*args)
        assert "NRT_MemInfo_alloc" not in fresh.inspect_llvm(fresh.signatures[0])


def test_non_finite_samples_do_not_poison_the_meter():
    x = sine_segments([(5.0, -23.0)])
    x[:, FS] = np.nan
    x[0, 2 * FS] = np.inf
    state = metered(x)
    assert abs(loudness.integrated_lufs(state) + 23.0) <= TOL_LU
    assert abs(loudness.short_term_lufs(state) + 23.0) <= TOL_LU
