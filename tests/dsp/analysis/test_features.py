import numpy as np
import pytest

from dsp.analysis import features

SR = 48000
SINE_DB = 10 * np.log10(0.5)  # -3.0103


def sine(freq_hz, seconds=1.0, amp=1.0, sr=SR):
    return amp * np.sin(2 * np.pi * freq_hz * np.arange(int(seconds * sr)) / sr)


def test_rms_dbfs():
    assert features.rms_dbfs(sine(1000.0)) == pytest.approx(SINE_DB, abs=1e-3)
    assert features.rms_dbfs(sine(1000.0, amp=0.1)) == pytest.approx(SINE_DB - 20, abs=1e-3)
    square = np.sign(sine(50.0))
    assert features.rms_dbfs(square) == pytest.approx(0.0, abs=0.01)
    stereo = np.stack([sine(440.0), sine(440.0)])
    assert features.rms_dbfs(stereo) == pytest.approx(SINE_DB, abs=1e-3)
    assert features.rms_dbfs(np.zeros(100)) == features.FLOOR_DB


def test_crest_factor_db():
    assert features.crest_factor_db(sine(1000.0)) == pytest.approx(-SINE_DB, abs=1e-3)
    assert features.crest_factor_db(np.sign(sine(50.0))) == pytest.approx(0.0, abs=0.01)
    impulse = np.zeros(10000)
    impulse[0] = 1.0
    assert features.crest_factor_db(impulse) == pytest.approx(40.0)  # 10 log10(N)
    assert features.crest_factor_db(np.zeros(10)) == 0.0


@pytest.mark.parametrize("freq", [100.0, 1000.0, 5000.0])
def test_spectral_centroid_of_sine(freq):
    assert features.spectral_centroid_hz(sine(freq), SR) == pytest.approx(freq, rel=0.01)


def test_spectral_centroid_of_two_sines_and_noise():
    # Magnitude weighting: equal amplitudes -> midway. Both on FFT bin centres (2048 points at
    # 48 kHz: 23.4375 Hz bins) so their leakage sums to the same total magnitude.
    x = sine(1500.0) + sine(4500.0)
    assert features.spectral_centroid_hz(x, SR) == pytest.approx(3000.0, rel=0.001)
    x = sine(1500.0) + sine(4500.0, amp=0.5)  # weights 2:1 -> 2500 Hz
    assert features.spectral_centroid_hz(x, SR) == pytest.approx(2500.0, rel=0.001)
    noise = np.random.default_rng(0).standard_normal(4 * SR)
    assert features.spectral_centroid_hz(noise, SR) == pytest.approx(SR / 4, rel=0.02)


def test_band_energies_db():
    x = sine(1000.0)
    bands = features.band_energies_db(x, SR)
    assert bands.shape == (5,)
    assert bands[2] == pytest.approx(SINE_DB, abs=0.01)  # 500-2000 Hz
    assert np.all(np.delete(bands, 2) < SINE_DB - 60)
    two = sine(100.0, amp=0.5) + sine(4000.0, amp=0.25)
    bands = features.band_energies_db(two, SR)
    assert bands[0] == pytest.approx(SINE_DB - 6.0206, abs=0.02)  # 20-150 Hz
    assert bands[3] == pytest.approx(SINE_DB - 12.0412, abs=0.02)  # 2-6 kHz
    # Parseval: white noise band powers add up to its mean square within the band span.
    noise = np.random.default_rng(1).standard_normal(2 * SR) * 0.1
    total = np.sum(10 ** (features.band_energies_db(noise, SR, (0.0, SR / 2 + 1)) / 10))
    assert 10 * np.log10(total) == pytest.approx(features.rms_dbfs(noise), abs=0.05)
    custom = features.band_energies_db(x, SR, (900.0, 1100.0))
    assert custom[0] == pytest.approx(SINE_DB, abs=0.01)


def test_dynamic_range_db():
    loud = sine(440.0, 5.0, amp=0.5)
    quiet = sine(440.0, 5.0, amp=0.05)
    assert features.dynamic_range_db(np.concatenate([loud, quiet]), SR) == pytest.approx(
        20.0, abs=0.01
    )
    assert features.dynamic_range_db(sine(440.0, 5.0), SR) == pytest.approx(0.0, abs=0.01)
    with_silence = np.concatenate([loud, np.zeros(5 * SR)])  # gated silence does not count
    assert features.dynamic_range_db(with_silence, SR) == pytest.approx(0.0, abs=0.01)
    levels = features.short_term_rms_dbfs(loud, SR)
    assert levels.shape == (47,)  # (5 s - 0.4 s) / 0.1 s + 1
    np.testing.assert_allclose(levels, SINE_DB - 6.0206, atol=0.01)


def test_ms_energy_ratio_db():
    rng = np.random.default_rng(2)
    a = rng.standard_normal(SR)
    b = rng.standard_normal(SR)
    assert features.ms_energy_ratio_db(np.stack([a, a])) == -features.FLOOR_DB
    assert features.ms_energy_ratio_db(np.stack([a, -a])) == features.FLOOR_DB
    assert features.ms_energy_ratio_db(np.stack([a, np.zeros(SR)])) == pytest.approx(0.0)
    assert features.ms_energy_ratio_db(np.stack([a, b])) == pytest.approx(0.0, abs=0.1)
    # L = a + 0.5 b, R = a - 0.5 b: M = a, S = 0.5 b -> 6.02 dB.
    assert features.ms_energy_ratio_db(np.stack([a + 0.5 * b, a - 0.5 * b])) == pytest.approx(
        6.02, abs=0.1
    )
    assert features.ms_energy_ratio_db(np.zeros((2, 10))) == 0.0
    with pytest.raises(ValueError):
        features.ms_energy_ratio_db(a)
