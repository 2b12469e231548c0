"""Slicing and analysis (models.samplebank.build) on synthesized notes and noise-burst drums."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, sosfilt

from dsp.errors import InputError
from models.samplebank import build
from models.samplebank.index import load_slices, read_index

SR = 48000
F0S_HZ = (110.0, 196.0, 261.63, 440.0, 659.25, 987.77)
NOTE_S = 0.3
STEP_S = 0.5  # note + 200 ms of silence
LEAD_S = 0.25
KINDS = ("kick", "snare", "hat", "kick", "hat", "snare", "hat", "kick")
DRUM_STEP_S = 0.25


def notes(f0s_hz=F0S_HZ, sr=SR, note_s=NOTE_S, step_s=STEP_S, lead_s=LEAD_S, seed=0):
    """Harmonic tones (up to 10 partials, 1/k amplitudes, random phases, -18 … -3 dBFS peak,
    3 ms attack, 20 ms release) at lead_s + i * step_s. Returns (float32, onset times s)."""
    rng = np.random.default_rng(seed)
    x = np.zeros(int((lead_s + len(f0s_hz) * step_s) * sr))
    t = np.arange(int(note_s * sr)) / sr
    env = np.minimum(1.0, np.minimum(t / 0.003, (note_s - t) / 0.02))
    onsets = []
    for i, f0 in enumerate(f0s_hz):
        n_harm = max(1, min(10, int(0.45 * sr / f0)))
        y = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6.3)) / k
                for k in range(1, n_harm + 1))
        y *= 10 ** (rng.uniform(-18, -3) / 20) / np.max(np.abs(y)) * env
        i0 = int(round((lead_s + i * step_s) * sr))
        x[i0:i0 + y.size] += y
        onsets.append(i0 / sr)
    return x.astype(np.float32), np.array(onsets)


def drums(kinds=KINDS, sr=SR, step_s=DRUM_STEP_S, seed=1):
    """Noise bursts every step_s from t = 0 (so the file starts with sound): low-passed
    (kick), band-passed 500-2000 Hz (snare), high-passed 8 kHz (hat), exponential decays,
    -6 dBFS peak. Returns (float32, onset times s)."""
    rng = np.random.default_rng(seed)
    shape = {"kick": (butter(2, 150, "lowpass", fs=sr, output="sos"), 0.05),
             "snare": (butter(2, [500, 2000], "bandpass", fs=sr, output="sos"), 0.04),
             "hat": (butter(4, 8000, "highpass", fs=sr, output="sos"), 0.02)}
    x = np.zeros(int((len(kinds) * step_s + 0.6) * sr))
    onsets = []
    for i, kind in enumerate(kinds):
        sos, decay_s = shape[kind]
        tt = np.arange(int(10 * decay_s * sr)) / sr  # to -87 dB: no truncation click
        y = sosfilt(sos, rng.standard_normal(tt.size)) * np.exp(-tt / decay_s)
        i0 = int(round(i * step_s * sr))
        x[i0:i0 + y.size] += 0.5 * y / np.max(np.abs(y))
        onsets.append(i0 / sr)
    return x.astype(np.float32), np.array(onsets)


def midi(f0_hz):
    return 69 + 12 * math.log2(f0_hz / 440.0)


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    """One bank built from notes.wav and drums.flac: (bank dir, index, tone onsets, drum onsets)."""
    d = tmp_path_factory.mktemp("inputs")
    tones, tone_onsets = notes()
    hits, hit_onsets = drums()
    sf.write(d / "notes.wav", tones, SR, subtype="FLOAT")
    sf.write(d / "drums.flac", hits, SR)
    out = d / "Test Bank"
    index = build.build_bank([str(d / "notes.wav"), str(d / "drums.flac")], out)
    return out, index, tone_onsets, hit_onsets


def by_source(index, name):
    return [s for s in index.slices if s.source.endswith(name)]


def test_tonal_slices_start_at_the_notes_and_carry_their_pitch(bank):
    _, index, onsets, _ = bank
    tonal = by_source(index, "notes.wav")
    assert len(tonal) == len(F0S_HZ)
    for s, onset_s, f0 in zip(tonal, onsets, F0S_HZ, strict=True):
        assert abs(s.start_s - onset_s) < 0.010
        # the slice holds the note and at most its release and fade-out, not the gap
        assert NOTE_S - 0.01 < s.duration_s < NOTE_S + 0.03
        assert s.class_ == "tonal"
        assert abs(s.midi_note - midi(f0)) < 0.5
        assert abs(s.midi_note - midi(s.pitch_hz)) < 0.01
        assert s.loudness_lufs is None  # shorter than one 400 ms gating block


def test_drum_slices_and_classes(bank):
    _, index, _, onsets = bank
    hits = by_source(index, "drums.flac")
    assert [s.class_ for s in hits] == list(KINDS)
    for s, onset_s in zip(hits, onsets, strict=True):
        assert abs(s.start_s - onset_s) < 0.010
        assert s.pitch_hz is None and s.midi_note is None
    assert hits[0].start_s == 0.0  # the file starts with sound: no onset needed
    centroid = {k: [s.centroid_hz for s in hits if s.class_ == k] for k in set(KINDS)}
    assert max(centroid["kick"]) < min(centroid["snare"]) < min(centroid["hat"])


def test_index_is_sorted_and_numbered(bank):
    _, index, _, _ = bank
    keys = [(s.source, s.start_s) for s in index.slices]
    assert keys == sorted(keys)
    assert [s.file for s in index.slices] == [f"slices/{i:04d}.wav" for i in range(len(keys))]
    assert index.slices[0].source.endswith("drums.flac")  # "…/drums.flac" < "…/notes.wav"


def test_slice_files_are_faded_and_measured(bank):
    out, index, _, _ = bank
    for s in index.slices:
        x, rate = sf.read(out / s.file, dtype="float64")
        info = sf.info(out / s.file)
        assert (rate, info.channels, info.subtype) == (SR, 1, "FLOAT")
        assert x.shape[0] == round(s.duration_s * SR)
        assert x[0] == 0.0 and x[-1] == 0.0
        # 1 ms fade-in and 5 ms fade-out: the ends stay far below the peak
        peak = np.max(np.abs(x))
        assert np.max(np.abs(x[:5])) < 0.05 * peak
        assert np.max(np.abs(x[-24:])) < 0.05 * peak
        assert s.peak_dbfs == pytest.approx(20 * np.log10(peak), abs=0.006)
        assert s.rms_db == pytest.approx(10 * np.log10(np.mean(x * x)), abs=0.006)
        assert s.peak_dbfs >= build.SILENCE_DBFS


def test_index_round_trip(bank):
    out, index, _, _ = bank
    assert read_index(out) == index
    loaded, audio = load_slices(out)
    assert loaded == index
    for s, x in zip(index.slices, audio, strict=True):
        assert x.dtype == np.float32 and x.ndim == 1
        np.testing.assert_array_equal(x, sf.read(out / s.file, dtype="float32")[0])


def test_strudel_map_names_exactly_the_slice_files(bank):
    out, index, _, _ = bank
    data = json.loads((out / "strudel.json").read_text())
    assert data.pop("_base") == "./"
    assert set(data) == {"test_bank_tonal", "test_bank_kick", "test_bank_snare", "test_bank_hat"}
    listed = [f for files in data.values() for f in files]
    assert sorted(listed) == [s.file for s in index.slices]
    on_disk = sorted(f"slices/{p.name}" for p in (out / "slices").iterdir())
    assert sorted(listed) == on_disk
    assert data["test_bank_kick"] == [s.file for s in index.slices if s.class_ == "kick"]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_min_and_max_ms(tmp_path):
    tones, _ = notes()
    sf.write(tmp_path / "notes.wav", tones, SR)
    short = build.build_bank([tmp_path / "notes.wav"], tmp_path / "short", max_ms=100)
    assert len(short.slices) == len(F0S_HZ)
    assert all(abs(s.duration_s - 0.1) < 1e-6 for s in short.slices)
    # every note lasts about 300 ms: a 320 ms minimum drops them all
    with pytest.raises(InputError, match="notes.wav: no slices"):
        build.build_bank([tmp_path / "notes.wav"], tmp_path / "none", min_ms=320)
    assert not (tmp_path / "none").exists()
    kept = build.build_bank([tmp_path / "notes.wav"], tmp_path / "kept", min_ms=280)
    assert len(kept.slices) == len(F0S_HZ)


def test_resampled_stereo_input_keeps_times_in_seconds(tmp_path):
    rate = 44100
    tones, onsets = notes(F0S_HZ[:3], sr=rate)
    sf.write(tmp_path / "stereo.wav", np.stack([tones, 0.5 * tones], axis=1), rate)
    index = build.build_bank([tmp_path / "stereo.wav"], tmp_path / "b")
    assert [round(s.midi_note) for s in index.slices] == [round(midi(f)) for f in F0S_HZ[:3]]
    for s, onset_s in zip(index.slices, onsets, strict=True):
        assert abs(s.start_s - onset_s) < 0.010
    assert sf.info(tmp_path / "b" / index.slices[0].file).samplerate == SR
    # mono is the mean of the channels: 0.75 of the left channel
    assert index.slices[0].peak_dbfs < 20 * np.log10(np.max(np.abs(tones[:rate // 2]))) - 2


def test_long_slice_has_integrated_loudness(tmp_path):
    tones, _ = notes((220.0,), note_s=0.8, step_s=1.0)
    sf.write(tmp_path / "long.wav", tones, SR)
    (s,) = build.build_bank([tmp_path / "long.wav"], tmp_path / "b").slices
    assert s.duration_s >= 0.4
    assert s.loudness_lufs is not None and s.rms_db - 6 < s.loudness_lufs < s.rms_db + 3


def test_fade_shape():
    x = build.fade(np.ones(SR // 10, dtype=np.float32))
    n_in, n_out = SR // 1000, 5 * SR // 1000
    assert x[0] == 0.0 and x[-1] == 0.0
    np.testing.assert_allclose(x[n_in // 2], 0.5, atol=1e-6)  # raised cosine: half way at half
    np.testing.assert_allclose(x[-n_out // 2 - 1], 0.5, atol=0.01)
    assert np.all(x[n_in:-n_out] == 1.0)
    assert np.all(np.diff(x[:n_in + 1]) > 0) and np.all(np.diff(x[-n_out - 1:]) < 0)
    tiny = build.fade(np.ones(100, dtype=np.float32))  # shorter than both fades
    assert tiny[0] == 0.0 and tiny[-1] == 0.0 and tiny.max() > 0.9


def test_noise_has_no_pitch_and_a_tone_has_one():
    rng = np.random.default_rng(3)
    assert build.estimate_pitch_hz(rng.standard_normal(SR // 4).astype(np.float32) * 0.1) is None
    t = np.arange(SR // 4) / SR
    f0 = build.estimate_pitch_hz((0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32))
    assert f0 == pytest.approx(330, rel=0.01)
    assert build.estimate_pitch_hz(np.zeros(100, np.float32)) is None  # shorter than a window


@pytest.mark.parametrize(("pitch_hz", "centroid_hz", "expected"), [
    (220.0, 5000.0, "tonal"), (None, 300.0, "kick"), (None, 1500.0, "snare"),
    (None, 9000.0, "hat")])
def test_classify(pitch_hz, centroid_hz, expected):
    assert build.classify(pitch_hz, centroid_hz) == expected


def test_quiet_sound_below_minus_60_dbfs_gives_no_slice(tmp_path):
    tones, _ = notes()
    quiet = tones / np.max(np.abs(tones)) * 10 ** (-65 / 20)
    sf.write(tmp_path / "quiet.wav", quiet, SR, subtype="FLOAT")
    with pytest.raises(InputError, match=r"quiet.wav: no slices \(silent: peak -65.0 dBFS"):
        build.build_bank([tmp_path / "quiet.wav"], tmp_path / "b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quiet.wav"]


def test_classes_given_per_input_replace_the_estimate(tmp_path):
    tones, _ = notes()
    sf.write(tmp_path / "a.wav", tones, SR, subtype="FLOAT")
    sf.write(tmp_path / "b.wav", drums()[0], SR, subtype="FLOAT")
    index = build.build_bank([tmp_path / "a.wav", tmp_path / "b.wav"], tmp_path / "k",
                             classes=["kick", "hat"])
    by = {s.source: s.class_ for s in index.slices}
    assert set(by.values()) == {"kick", "hat"}
    assert {s.class_ for s in index.slices if s.source.endswith("a.wav")} == {"kick"}
    assert {s.class_ for s in index.slices if s.source.endswith("b.wav")} == {"hat"}
    with pytest.raises(InputError, match="one class per input"):
        build.build_bank([tmp_path / "a.wav"], tmp_path / "x", classes=["kick", "hat"])
    with pytest.raises(InputError, match="unknown class 'boom'"):
        build.build_bank([tmp_path / "a.wav"], tmp_path / "x", classes=["boom"])
    assert not (tmp_path / "x").exists()
