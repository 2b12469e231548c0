"""Sanity of compare_arrays / compare_files: identity, delay, gain, noise, rates, shapes."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.analysis.similarity import compare_arrays, compare_files, parse_weights
from dsp.errors import InputError as UsageError
from dsp.resample import resample

SR = 44100
KEYS = {"overall", "mfcc_similarity", "mfcc_distance", "centroid_diff_hz", "chroma_correlation",
        "rms_ratio", "onset_f_measure", "onset_offset_ms", "mrstft_distance", "bands", "notes",
        "centroid_rel_error", "rms_envelope_correlation"}


def percussive(sr: int = SR, seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Decaying noise + tone hits every ~250 ms (jittered), a stand-in for a drum loop."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    x = np.zeros(n)
    grid = np.arange(0.3, seconds - 0.2, 0.25)
    starts = grid + rng.uniform(-0.02, 0.02, grid.shape[0])
    length = int(0.15 * sr)
    t = np.arange(length) / sr
    for i, t0 in enumerate(starts):
        s = int(t0 * sr)
        f = (110.0, 220.0, 330.0, 440.0)[i % 4]
        hit = (0.5 * rng.standard_normal(length) + np.sin(2 * np.pi * f * t)) * np.exp(-t / 0.03)
        x[s : s + length] += 0.4 * hit[: n - s]
    return x


@pytest.fixture(scope="module")
def drums() -> np.ndarray:
    return percussive()


def test_identity_scores_one_with_zero_distances(drums):
    r = compare_arrays(drums, SR, drums, SR)
    assert set(r) == KEYS
    assert r["overall"] == pytest.approx(1.0)
    assert r["mfcc_similarity"] == pytest.approx(1.0)
    assert r["mfcc_distance"] == 0.0
    assert r["centroid_diff_hz"] == 0.0
    assert r["centroid_rel_error"] == 0.0
    assert r["chroma_correlation"] == pytest.approx(1.0)
    assert r["rms_ratio"] == pytest.approx(1.0)
    assert r["rms_envelope_correlation"] == pytest.approx(1.0)
    assert r["onset_f_measure"] == 1.0
    assert r["onset_offset_ms"]["mean"] == 0.0 and r["onset_offset_ms"]["median"] == 0.0
    assert r["onset_offset_ms"]["matched"] >= 10
    assert r["mrstft_distance"] == 0.0
    assert all(b["diff_db"] == 0.0 for b in r["bands"])
    assert any(n.startswith("weights: mfcc=2, centroid=1, chroma=1, rms=1, onsets=2")
               for n in r["notes"])


def test_delayed_copy_shows_the_delay_as_onset_offset(drums):
    d = int(round(0.030 * SR))
    late = np.concatenate((np.zeros(d), drums))[: drums.shape[0]]
    r = compare_arrays(drums, SR, late, SR)
    assert r["onset_f_measure"] == 1.0
    assert r["onset_offset_ms"]["median"] == pytest.approx(30.0, abs=2.0)
    assert r["onset_offset_ms"]["mean"] == pytest.approx(30.0, abs=2.0)
    # Sign: rendered minus original, so an early render reads negative.
    r = compare_arrays(late, SR, drums, SR)
    assert r["onset_offset_ms"]["median"] == pytest.approx(-30.0, abs=2.0)


def test_gain_change_only_moves_rms_ratio(drums):
    r = compare_arrays(drums, SR, drums * 10 ** (-6 / 20), SR)
    assert r["rms_ratio"] == pytest.approx(0.501, rel=0.01)
    assert r["mfcc_similarity"] == pytest.approx(1.0, abs=1e-6)
    assert r["chroma_correlation"] == pytest.approx(1.0, abs=1e-6)
    assert r["onset_f_measure"] == 1.0
    assert r["onset_offset_ms"]["median"] == pytest.approx(0.0, abs=1.0)
    assert r["centroid_diff_hz"] == pytest.approx(0.0, abs=1e-6)
    assert all(b["diff_db"] == pytest.approx(-6.0, abs=0.01) for b in r["bands"])
    assert r["rms_envelope_correlation"] == pytest.approx(1.0)


def test_envelope_correlation_follows_timing_and_centroid_error_is_relative(drums):
    # Hits 30 ms late no longer line up with the 20 ms envelope frames: correlation drops.
    d = int(round(0.030 * SR))
    late = np.concatenate((np.zeros(d), drums))[: drums.shape[0]]
    assert compare_arrays(drums, SR, late, SR)["rms_envelope_correlation"] < 0.5
    # Steady noise has no envelope in common with the hits.
    noise = 0.1 * np.random.default_rng(3).standard_normal(drums.shape[0])
    assert abs(compare_arrays(drums, SR, noise, SR)["rms_envelope_correlation"]) < 0.2
    # A one-pole low-pass darkens the clip: the relative error is |diff| / original.
    from scipy.signal import lfilter
    dark = lfilter([0.2], [1.0, -0.8], drums)
    r = compare_arrays(drums, SR, dark, SR)
    assert r["centroid_diff_hz"] < 0.0
    from dsp.analysis.features import spectral_centroid_hz
    orig = spectral_centroid_hz(drums, SR)
    assert r["centroid_rel_error"] == pytest.approx(-r["centroid_diff_hz"] / orig)
    assert 0.2 < r["centroid_rel_error"] < 1.0


def test_white_noise_against_sine_scores_low():
    t = np.arange(3 * SR) / SR
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    noise = 0.35 * np.random.default_rng(5).standard_normal(t.shape[0])
    r = compare_arrays(tone, SR, noise, SR)
    assert r["overall"] < 0.4
    assert r["mfcc_similarity"] < 0.1


def test_sine_against_itself_has_no_onsets_and_still_scores_one():
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * np.arange(2 * SR) / SR)
    r = compare_arrays(tone, SR, tone, SR)
    assert r["onset_f_measure"] is None
    assert r["onset_offset_ms"] == {"mean": None, "median": None, "matched": 0}
    assert r["overall"] == pytest.approx(1.0)
    assert any("no onsets" in n for n in r["notes"])


def test_same_content_at_44k1_and_48k_scores_high(drums):
    r = compare_arrays(drums, SR, resample(drums, SR, 48000), 48000)
    assert r["overall"] > 0.9
    assert any(n.startswith("resampled rendered 48000->44100 Hz") for n in r["notes"])
    assert abs(r["onset_offset_ms"]["median"]) < 1.0


def test_stereo_longer_render_is_downmixed_and_trimmed(drums):
    stereo = np.stack([drums, drums], axis=1)
    longer = np.concatenate((stereo, np.zeros((SR // 2, 2))))
    r = compare_arrays(drums, SR, longer, SR)
    assert r["overall"] == pytest.approx(1.0)
    assert "downmixed rendered 2->1 channels (mean)" in r["notes"]
    assert any(n.startswith(f"trimmed rendered {longer.shape[0]}->{drums.shape[0]} samples")
               for n in r["notes"])


def test_weights_override_and_validation(drums):
    r = compare_arrays(drums, SR, drums * 0.5, SR, weights="mfcc=0,centroid=0,chroma=0,onsets=0")
    assert r["overall"] == pytest.approx(0.5, rel=1e-3)  # only the RMS score (= min ratio)
    assert parse_weights({"onsets": 3})["onsets"] == 3.0
    for bad in ("tempo=1", "mfcc", "mfcc=x", "mfcc=-1",
                "mfcc=0,centroid=0,chroma=0,rms=0,onsets=0"):
        with pytest.raises(UsageError):
            parse_weights(bad)


def test_compare_files_and_bad_files(tmp_path, drums):
    a = tmp_path / "a.wav"
    b = tmp_path / "b.flac"
    sf.write(a, drums, SR, subtype="FLOAT")
    sf.write(b, np.stack([drums, drums], axis=1), SR, subtype="PCM_24")
    r = compare_files(a, b)
    assert r["overall"] > 0.99
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    for bad, msg in ((tmp_path / "missing.wav", "no such file"), (empty, "empty"),
                     (text, "not a readable audio file")):
        with pytest.raises(UsageError, match=msg):
            compare_files(a, bad)


def test_planar_input_silence_and_short_clips(drums):
    planar = np.stack([drums, drums])  # (channels, frames), the dsp.analysis.features layout
    r = compare_arrays(planar, SR, drums, SR)
    assert r["overall"] == pytest.approx(1.0)
    assert "original: read as planar (channels, frames)" in r["notes"]
    silent = np.zeros_like(drums)
    r = compare_arrays(silent, SR, silent, SR)
    assert r["overall"] == pytest.approx(1.0) and r["rms_ratio"] == 1.0
    r = compare_arrays(silent, SR, drums, SR)
    assert r["rms_ratio"] is None  # infinitely louder: JSON null, not Infinity
    assert r["overall"] < 0.3
    r = compare_arrays(drums[:1000], SR, drums[:1000], SR)
    assert any(n.startswith("only 0.023 s to compare") for n in r["notes"])
    with pytest.raises(ValueError):
        compare_arrays(np.array([np.nan, 0.0]), SR, drums, SR)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 8000),
       gain=st.floats(0.01, 4.0), sr_b=st.sampled_from([22050, 44100, 48000]))
def test_scores_stay_in_range(seed, n, gain, sr_b):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n) * 0.3
    b = gain * rng.standard_normal(n + 100) * 0.3
    r = compare_arrays(a, SR, b, sr_b)
    assert 0.0 <= r["overall"] <= 1.0
    assert 0.0 <= r["mfcc_similarity"] <= 1.0
    assert -1.0 <= r["chroma_correlation"] <= 1.0
    assert r["onset_f_measure"] is None or 0.0 <= r["onset_f_measure"] <= 1.0
    assert r["mrstft_distance"] >= 0.0
