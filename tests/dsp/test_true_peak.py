"""True-peak meter: EBU Tech 3341 cases 15-19, rates, block-size invariance, pyebur128."""

import numba
import numpy as np
import pyebur128
import pytest

from dsp import bs1770, true_peak

FS = 48000


def tone(freq_hz, amplitude, phase_deg, fs=FS, seconds=1.0, n_channels=2):
    """Stereo sine with 20 ms raised-cosine fades.

    The fades keep the onset step (whose band-limited reconstruction really overshoots)
    out of a test that is about the steady-state inter-sample peak.
    """
    n = np.arange(int(seconds * fs))
    s = amplitude * np.sin(2 * np.pi * freq_hz * n / fs + np.deg2rad(phase_deg))
    fade = int(0.02 * fs)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
    s[:fade] *= ramp
    s[-fade:] *= ramp[::-1]
    return np.tile(s.astype(np.float32), (n_channels, 1))


def meter(x, fs=FS):
    state = true_peak.prepare(x.shape[0], fs)
    true_peak.process(state, np.ascontiguousarray(x))
    return state


# EBU Tech 3341 cases 15-19: expected dBTP, tolerance +0.2 / -0.4 dB.
EBU_TRUE_PEAK_CASES = [
    ("15: fs/4 0.5 0deg", FS / 4, 0.5, 0.0, -6.0),
    ("16: fs/4 0.5 45deg", FS / 4, 0.5, 45.0, -6.0),
    ("17: fs/6 0.5 60deg", FS / 6, 0.5, 60.0, -6.0),
    ("18: fs/8 0.5 67.5deg", FS / 8, 0.5, 67.5, -6.0),
    ("19: fs/4 1.41 45deg", FS / 4, 1.41, 45.0, 3.0),
]


@pytest.mark.parametrize("name,freq,amp,phase,expected", EBU_TRUE_PEAK_CASES)
def test_ebu_3341_true_peak_cases(name, freq, amp, phase, expected):
    state = meter(tone(freq, amp, phase))
    for reading in true_peak.peak_dbtp(state):
        assert expected - 0.4 <= reading <= expected + 0.2, (name, reading)


@pytest.mark.parametrize("fs", [44100, 96000, 192000])
def test_other_rates_read_sine_peak(fs):
    # A 997 Hz sine's true peak equals its amplitude; every rate's filter must agree.
    x = tone(997.0, 0.5, 10.0, fs=fs)
    assert bs1770.oversampling_factor(fs) == {44100: 4, 96000: 2, 192000: 1}[fs]
    np.testing.assert_allclose(true_peak.peak_dbtp(meter(x, fs)), -6.02, atol=0.1)


def test_designed_filter_is_close_to_the_standard():
    # The scipy design used at other rates has the same shape as the standard's table.
    designed = bs1770.polyphase_filter(48000.0 * (1 + 1e-9))
    assert designed.shape == bs1770.BS1770_PHASES.shape
    assert np.max(np.abs(designed - bs1770.BS1770_PHASES)) < 0.05


def test_reads_at_least_the_sample_peak():
    x = np.zeros((1, 100), np.float32)
    x[0, 50] = -0.8
    assert true_peak.peak_linear(meter(x))[0] >= 0.8


def test_block_size_invariance():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 20000)) * 0.3).astype(np.float32)
    whole = true_peak.peak_linear(meter(x))
    for block in (1, 7, 64, 128, 4096):
        state = true_peak.prepare(2, FS)
        for i in range(0, x.shape[1], block):
            true_peak.process(state, np.ascontiguousarray(x[:, i : i + block]))
        np.testing.assert_allclose(true_peak.peak_linear(state), whole, rtol=0, atol=1e-6)


def test_reset_clears_maxima():
    state = meter(tone(1000.0, 0.9, 0.0))
    true_peak.reset(state)
    assert np.all(true_peak.peak_linear(state) == 0.0)
    true_peak.process(state, tone(1000.0, 0.1, 0.0))
    np.testing.assert_allclose(true_peak.peak_linear(state), 0.1, rtol=0.01)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_pyebur128_on_shaped_noise(seed):
    rng = np.random.default_rng(seed)
    n = FS * 3
    # Pink-ish noise: white noise with a 1/sqrt(f) spectrum.
    spectrum = np.fft.rfft(rng.standard_normal((2, n)), axis=1)
    spectrum /= np.sqrt(np.maximum(np.arange(spectrum.shape[1]), 1))
    x = np.fft.irfft(spectrum, n, axis=1)
    x = (x / np.abs(x).max() * 0.7).astype(np.float32)
    ours = true_peak.peak_dbtp(meter(x))
    ref = pyebur128.R128State(2, FS, pyebur128.MeasurementMode.MODE_TRUE_PEAK)
    ref.add_frames(np.ascontiguousarray(x.T).reshape(-1), n)
    theirs = [20 * np.log10(pyebur128.get_true_peak(ref, c)) for c in range(2)]
    np.testing.assert_allclose(ours, theirs, atol=0.2)


def uncached_llvm(fn, *args):
    """LLVM IR of ``fn`` (callees included) for ``args``.

    Numba cannot inspect code loaded from its cache, so compile an uncached copy.
    """
    fresh = numba.njit(nogil=True)(fn.py_func)
    fresh(*args)
    return fresh.inspect_llvm(fresh.signatures[0])


def test_process_does_not_allocate():
    state = true_peak.prepare(2, FS)
    assert "NRT_MemInfo_alloc" not in uncached_llvm(true_peak.process, state, tone(1e3, 0.5, 0))
    assert "NRT_MemInfo_alloc" not in uncached_llvm(true_peak.reset, state)


@pytest.mark.parametrize("fs", [48000, 44100])
def test_peak_of_a_whole_signal_equals_the_streaming_meter(fs):
    """Intersample peaks above the samples (tones near fs/4 and fs/3), no sample peak to
    hide behind: the bulk reading must be the meter's, to the bit."""
    n = np.arange(fs)
    x = np.stack([0.5 * np.sin(2 * np.pi * (fs / 4 - 7) / fs * n + np.pi / 4),
                  0.3 * np.sin(2 * np.pi * (fs / 3 + 11) / fs * n + 0.3)]).astype(np.float32)
    state = true_peak.prepare(2, fs)
    true_peak.process(state, x)
    expected = float(true_peak.peak_linear(state).max())
    assert expected > 1.002 * np.abs(x).max()
    assert true_peak.peak_of(x, fs) == expected
    assert true_peak.peak_of(np.zeros((2, 0), np.float32), fs) == 0.0
