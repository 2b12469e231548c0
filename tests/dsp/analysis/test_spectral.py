"""Closed-form checks of dsp.analysis.spectral (mel, MFCC, chroma, STFT, flux, RMS)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft

from dsp.analysis import spectral as feat

SR = 44100


def sine(freq_hz: float, seconds: float = 1.0, amp: float = 1.0, sr: int = SR) -> np.ndarray:
    return amp * np.sin(2.0 * np.pi * freq_hz * np.arange(int(seconds * sr)) / sr)


def test_mel_scale_fixed_points_and_inverse():
    assert feat.hz_to_mel(1000.0) == pytest.approx(15.0)
    assert feat.hz_to_mel(500.0) == pytest.approx(7.5)  # linear below 1 kHz, 200/3 Hz per mel
    assert feat.hz_to_mel(6400.0) == pytest.approx(42.0)  # 27 mel per factor 6.4
    f = np.array([0.0, 20.0, 440.0, 999.0, 1000.0, 5000.0, 8000.0, 20000.0])
    assert np.allclose(feat.mel_to_hz(feat.hz_to_mel(f)), f)


def test_mel_filterbank_shape_edges_and_unit_area():
    n_fft = 16384  # 2.7 Hz bins: fine enough that the sampled triangles have their exact area
    fb = feat.mel_filterbank(SR, n_fft, n_mels=128, fmin_hz=20.0, fmax_hz=8000.0)
    assert fb.shape == (128, n_fft // 2 + 1)
    assert np.all(fb >= 0.0)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / SR)
    edges = feat.mel_to_hz(np.linspace(feat.hz_to_mel(20.0), feat.hz_to_mel(8000.0), 130))
    # Nothing outside fmin..fmax; each filter only between its own outer edges.
    assert not fb[:, (freqs < 20.0) | (freqs > 8000.0)].any()
    for i in (0, 40, 127):
        support = freqs[fb[i] > 0]
        assert support.min() >= edges[i] and support.max() <= edges[i + 2]
        assert freqs[np.argmax(fb[i])] == pytest.approx(edges[i + 1], abs=SR / n_fft)
    # Slaney normalisation: every filter has unit area in Hz.
    area = fb.sum(axis=1) * SR / n_fft
    assert np.allclose(area, 1.0, rtol=0.02)


def test_mel_spectrogram_flat_psd_is_flat_across_bands():
    # White noise has a flat power density; unit-area filters see the same level everywhere.
    x = np.random.default_rng(1).standard_normal(SR * 4)
    mel = feat.mel_spectrogram(x, SR, n_fft=4096, n_mels=40).mean(axis=1)
    level_db = 10 * np.log10(mel)
    assert np.ptp(level_db[5:]) < 1.5


def test_stft_shape_and_sine_peak():
    x = sine(SR / 2048 * 100)  # exactly on bin 100
    spec = feat.stft(x, 2048, 512)
    assert spec.shape == (1025, 1 + x.shape[0] // 512)
    mid = np.abs(spec[:, spec.shape[1] // 2])
    assert np.argmax(mid) == 100
    assert mid[100] == pytest.approx(2048 / 4, rel=1e-6)  # Hann sum / 2


def test_dct_matches_scipy_ortho():
    x = np.random.default_rng(2).standard_normal((128, 7))
    expected = scipy.fft.dct(x, type=2, norm="ortho", axis=0)[:20]
    assert np.allclose(feat._dct_ii_ortho(x, 20), expected)


def test_mfcc_of_scaled_signal_differs_only_in_c0():
    x = np.random.default_rng(3).standard_normal(SR) * 0.1
    x[SR // 2 :] *= np.hanning(SR - SR // 2) + 0.1  # some level movement
    a = feat.mfcc(x, SR, n_mfcc=20)
    b = feat.mfcc(0.25 * x, SR, n_mfcc=20)
    assert a.shape == (20, 1 + SR // 512)
    assert np.allclose(b[0] - a[0], 20 * np.log10(0.25) * np.sqrt(128), atol=1e-8)
    assert np.allclose(b[1:], a[1:], atol=1e-8)


@pytest.mark.parametrize(("freq", "pitch"), [(440.0, "A"), (261.6256, "C"), (880.0, "A"),
                                             (329.6276, "E")])
def test_chroma_of_sine_peaks_at_its_pitch_class(freq, pitch):
    c = feat.chroma(sine(freq), SR)
    assert c.shape[0] == 12
    mean = c[:, 4:-4].mean(axis=1)
    assert feat.PITCH_CLASSES[int(np.argmax(mean))] == pitch
    assert mean.max() > 0.9  # the Hann main lobe (±2 bins) leaks a little next door
    assert np.allclose(c[:, 4:-4].sum(axis=0), 1.0)  # each frame normalised to sum 1


def test_chroma_of_silence_is_zero():
    assert not feat.chroma(np.zeros(SR), SR).any()


def test_spectral_centroid_and_rms_of_sine():
    x = sine(1000.0, amp=0.5)
    cent = feat.spectral_centroid(x, SR)
    assert np.median(cent) == pytest.approx(1000.0, rel=0.01)
    r = feat.rms(x)
    assert r.shape == (1 + x.shape[0] // 512,)
    assert np.median(r) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
    assert feat.spectral_centroid_hz(x, SR) == pytest.approx(1000.0, rel=0.02)  # re-exported


def test_onset_envelope_peaks_at_a_click():
    x = np.zeros(SR)
    x[SR // 2 : SR // 2 + 200] = np.random.default_rng(4).standard_normal(200)
    env = feat.onset_envelope(x, SR)
    assert env.shape == (1 + SR // 512,)
    assert abs(int(np.argmax(env)) * 512 - SR // 2) <= 1024


def test_to_mono_and_shape_checks():
    st = np.stack([np.ones(10), -np.ones(10) * 0.5], axis=1)
    assert np.allclose(feat.to_mono(st), 0.25)
    with pytest.raises(ValueError):
        feat.stft(st)
    with pytest.raises(ValueError):
        feat.mel_filterbank(SR, fmin_hz=9000.0, fmax_hz=8000.0)
