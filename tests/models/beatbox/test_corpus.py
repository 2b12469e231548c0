import os
import shutil

import numpy as np
import pytest
import soundfile as sf

from models.beatbox import corpus, sounds
from models.beatbox.corpus import CLASSES, make_corpus, make_hits, write_example

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed")
KICK, SNARE, HAT_CLOSED, HAT_OPEN, OTHER = range(5)


def centroid_hz(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    return float(np.sum(spec * np.fft.rfftfreq(len(x), 1 / sr)) / np.sum(spec))


def attack_centroids(c: corpus.Corpus, label: int) -> np.ndarray:
    """Centroid of the 5 ms after each onset: what the classifier sees."""
    n = int(0.005 * c.sample_rate_hz)
    x = c.audio.astype(np.float64)
    return np.array([centroid_hz(x[o: o + n], c.sample_rate_hz)
                     for o in c.onsets[c.labels == label]])


@pytest.fixture(scope="module")
def train():
    return make_corpus(60, seed=3)


@pytest.fixture(scope="module")
def heldout():
    return make_corpus(60, seed=3, split="heldout")


def test_classes_order():
    assert CLASSES == ("kick", "snare", "hat_closed", "hat_open", "other")


@needs_espeak
def test_same_seed_same_corpus_other_seed_differs():
    a, b, c = make_corpus(8, seed=5), make_corpus(8, seed=5), make_corpus(8, seed=6)
    np.testing.assert_array_equal(a.audio, b.audio)
    np.testing.assert_array_equal(a.onsets, b.onsets)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.durations_s, b.durations_s)
    assert len(a.audio) != len(c.audio) or not np.array_equal(a.audio, c.audio)


@needs_espeak
@pytest.mark.parametrize("split", ["train", "heldout"])
def test_layout_types_and_balance(split, train, heldout):
    c = train if split == "train" else heldout
    sr = c.sample_rate_hz
    assert sr == 48000
    assert c.audio.dtype == np.float32 and c.audio.ndim == 1
    assert c.onsets.dtype == np.int64 and c.labels.dtype == np.int64
    assert c.durations_s.dtype == np.float64
    assert np.max(np.abs(c.audio)) == pytest.approx(0.9, abs=1e-6)
    assert c.onsets[0] >= 0.2 * sr
    gaps = np.diff(c.onsets) / sr
    assert np.all(gaps >= 0.12) and np.all(gaps <= 0.5)
    assert np.all(gaps >= c.durations_s[:-1] + 0.03 - 1 / sr)  # dry hits never overlap
    assert c.onsets[-1] + c.durations_s[-1] * sr < len(c.audio)
    np.testing.assert_array_equal(np.bincount(c.labels, minlength=5), [12] * 5)


@needs_espeak
def test_labels_balanced_within_one():
    labels = make_corpus(13, seed=1).labels
    counts = np.bincount(labels, minlength=5)
    assert counts.sum() == 13 and counts.min() >= 2 and counts.max() <= 3


@needs_espeak
@pytest.mark.parametrize("split", ["train", "heldout"])
def test_onsets_are_attacks(split, train, heldout):
    """The 5 ms after an onset carries far more energy than the 5 ms before it."""
    c = train if split == "train" else heldout
    n = int(0.005 * c.sample_rate_hz)
    x = c.audio.astype(np.float64)
    jump = np.array([10 * np.log10(np.sum(x[o: o + n] ** 2) / np.sum(x[o - n: o] ** 2))
                     for o in c.onsets])
    drums = c.labels != OTHER
    assert np.mean(jump >= 10) >= 0.85
    assert np.mean(jump[drums] >= 10) >= 0.95  # "other" includes slow-attack hums
    assert np.median(jump[drums]) >= 25


@needs_espeak
@pytest.mark.parametrize("split", ["train", "heldout"])
def test_class_statistics_make_the_task_sensible(split, train, heldout):
    c = train if split == "train" else heldout
    kick = np.median(attack_centroids(c, KICK))
    snare = np.median(attack_centroids(c, SNARE))
    hats = np.median(np.concatenate([attack_centroids(c, HAT_CLOSED),
                                     attack_centroids(c, HAT_OPEN)]))
    # Medians over seeds 0-7 of both splits: kick 230-410 Hz, snare 1.7-3.1 kHz, hats 4.2-11 kHz.
    assert kick < 600 and 3 * kick < snare and 1.2 * snare < hats
    assert np.all(c.durations_s[c.labels == HAT_OPEN] > 0.12)
    assert np.all(c.durations_s[c.labels == HAT_CLOSED] < 0.08)
    assert np.all(c.durations_s[c.labels == KICK] < 0.25)
    assert np.all(c.durations_s > 0) and np.all(c.durations_s < 0.46)


@needs_espeak
def test_train_and_heldout_differ(train, heldout):
    assert not np.array_equal(train.labels, heldout.labels)
    assert not np.array_equal(train.onsets, heldout.onsets)
    t, h = sounds.SPLITS["train"], sounds.SPLITS["heldout"]
    assert not set(t.voiced_voices) & set(h.voiced_voices)
    assert not set(t.unvoiced_voices) & set(h.unvoiced_voices)
    assert not set(t.variants) & set(h.variants)
    for lo, hi in h.speed_wpm:
        assert all(hi < tlo or lo > thi for tlo, thi in t.speed_wpm)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="split"):
        make_corpus(5, seed=0, split="test")
    with pytest.raises(ValueError, match="n_hits"):
        make_corpus(0, seed=0)
    with pytest.raises(ValueError, match="n_hits"):
        make_hits(-3, seed=0)
    with pytest.raises(ValueError, match="split"):
        make_hits(5, seed=0, split="validation")


@needs_espeak
def test_make_hits_are_isolated_with_the_onset_after_the_preroll():
    hits = make_hits(10, seed=2, split="heldout", sample_rate_hz=44100)
    pre = round(corpus.HIT_PREROLL_S * 44100)
    assert sorted(label for _, label in hits) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    for audio, label in hits:
        assert audio.dtype == np.float32 and len(audio) > pre
        before = np.mean(audio[:pre].astype(np.float64) ** 2)
        after = np.mean(audio[pre: pre + 220].astype(np.float64) ** 2)
        assert after > before * (1.0 if label == OTHER else 10.0)


def test_synthetic_hits_are_trimmed_and_normalised():
    rng = np.random.default_rng(0)
    for split in ("train", "heldout"):
        for cls in CLASSES:
            x = sounds.synth_hit(cls, rng, sounds.SPLITS[split], 48000)
            assert np.max(np.abs(x)) == pytest.approx(1.0)
            assert abs(x[0]) > 0.01 and abs(x[-1]) > 0.01


@needs_espeak
def test_espeak_renders_are_cached_per_exact_arguments():
    a = sounds.espeak_render("[[ts]]", "en", 50, 170, 100)
    assert sounds.espeak_render("[[ts]]", "en", 50, 170, 100) is a
    assert sounds.espeak_render("[[ts]]", "en", 50, 180, 100) is not a
    assert not a.flags.writeable and a.dtype == np.float32 and np.max(np.abs(a)) > 0


@needs_espeak
def test_write_example_writes_a_two_bar_loop_atomically(tmp_path):
    path = tmp_path / "beatbox.wav"
    path.write_bytes(b"old")
    onsets, labels = write_example(path, seconds=6.0, seed=1)
    audio, sr = sf.read(path, dtype="float32")
    assert sr == 48000 and len(audio) == 6 * 48000
    assert os.listdir(tmp_path) == ["beatbox.wav"]  # no temporary file left behind
    assert 0.85 < np.max(np.abs(audio)) <= 0.9 + 1e-3
    assert [CLASSES[i] for i in labels] == list(corpus.EXAMPLE_PATTERN)
    np.testing.assert_allclose(np.diff(onsets), 0.3 * sr, atol=1)  # 8th notes at 100 BPM
    assert onsets.dtype == np.int64 and labels.dtype == np.int64
    with pytest.raises(ValueError):
        write_example(tmp_path / "short.wav", seconds=1.0)
