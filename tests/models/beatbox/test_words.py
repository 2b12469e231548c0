"""Spoken beatbox words: the labelling scheme, espeak-ng phoneme timing, the held-out
"boots and cats" test and the shipped classifier's score on it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from engine.cli import main
from models.beatbox import sounds, train, words
from models.beatbox.classifier import load_record, load_weights

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed")
KICK, SNARE, HAT_CLOSED, HAT_OPEN, OTHER = range(5)


@pytest.mark.parametrize("phones, expected", [
    (["b", "u:", "t", "s"], ["kick", "other", "hat", "hat"]),  # boots
    (["k", "a", "t", "s"], ["snare", "other", "hat", "hat"]),  # cats
    (["a", "n", "d"], ["other"] * 3),  # and: no drum, not even on its "d"
    (["p", "f", "_:", "_"], ["snare", "snare", None, None]),  # pf: a snare, not a kick
    (["p", "S"], ["snare", "snare"]),  # psh
    (["t", "s", "s"], ["hat"] * 3),  # tss
    (["b", "U", "k"], ["kick", "other", "snare"]),  # bk
    (["(en)", "b", "u:", "m"], [None, "kick", "other", "other"]),
    (["a", "s"], ["other", "other"]),  # a lone "s" after a vowel is no hat
])
def test_labelling_scheme(phones, expected):
    assert words.word_classes(phones) == expected


@needs_espeak
def test_phrase_renders_match_the_command_line_and_time_each_burst():
    audio, phones = words.espeak_phrase("cats and boots", "en-gb-scotland+m5", 50, 175)
    cli = sounds.espeak_render("cats and boots", "en-gb-scotland+m5", 50, 175, 100)
    np.testing.assert_array_equal(audio, cli)  # same synthesis, same samples
    assert words.espeak_phrase("cats and boots", "en-gb-scotland+m5", 50, 175)[0] is audio
    assert [p[0] for p in phones if not p[0].startswith("_")] == list("katsand") + ["b", "u:",
                                                                                    "t", "s"]
    assert [p[2] for p in phones if p[0] in ("k", "a", "b")] == [1, 1, 2, 3]
    x = audio.astype(np.float64)
    first = np.flatnonzero(np.abs(x) > np.max(np.abs(x)) * 0.01)[0]  # -40 dB re peak
    assert abs(first - phones[0][1]) <= 0.001 * words.ESPEAK_RATE_HZ
    n = int(0.005 * words.ESPEAK_RATE_HZ)
    for name, start, _ in phones:
        if name in ("k", "t", "b"):  # after silence or a stop's closure: a burst
            jump = np.sum(x[start: start + n] ** 2) / (np.sum(x[start - n: start] ** 2) + 1e-12)
            assert 10 * np.log10(jump) > 10, (name, start)


@needs_espeak
def test_renders_do_not_depend_on_what_was_rendered_before():
    key = ("boots", "en-us+m1", 50, 175)
    a = words.espeak_phrase(*key)[0].copy()
    words.espeak_phrase("cats", "en-029+f4", 80, 240)
    words._RENDERS.clear()
    np.testing.assert_array_equal(words.espeak_phrase(*key)[0], a)


@pytest.fixture(scope="module")
def test_words():
    """The held-out "boots and cats" test the shipped record scores (clean)."""
    return words.make_phrases(words.test_utterances(load_record()["seed"] + 1),
                              load_record()["seed"] + 1, augment=False)


@needs_espeak
def test_held_out_test_is_16_drum_words_per_held_out_voice(test_words):
    ph = test_words
    assert ph.word_texts == ("boots", "and", "cats") * 8 * len(words.TEST_VOICES)
    assert list(ph.word_labels) == [KICK, OTHER, SNARE] * 8 * len(words.TEST_VOICES)
    for voice in words.TEST_VOICES:
        assert ph.word_voices.count(voice) == 24
        assert voice.split("+")[0] in words.WORD_SPLITS["heldout"].voices
        assert voice.split("+")[0] not in words.WORD_SPLITS["train"].voices
        assert voice.split("+")[1] not in words.WORD_SPLITS["train"].variants
    # every word ends in its own "ts": a hat, closed or open by its length
    hats = np.isin(ph.seg_labels, [HAT_CLOSED, HAT_OPEN])
    assert hats.sum() == 2 * 2 * 8 * len(words.TEST_VOICES)  # "t" and "s" of boots and cats
    assert np.all(np.diff(ph.seg_starts) >= 0)
    assert np.all(ph.word_ends > ph.word_onsets)
    assert np.max(np.abs(ph.audio)) == pytest.approx(0.9, abs=1e-6)
    t, h = words.WORD_SPLITS["train"], words.WORD_SPLITS["heldout"]
    for lo, hi in h.speed_wpm:  # held-out speeds lie between, never inside, trained ones
        assert all(hi < tlo or lo > thi for tlo, thi in t.speed_wpm)


@needs_espeak
def test_phrases_are_deterministic():
    utts = words.train_utterances(3, seed=7)
    a, b = words.make_phrases(utts, 7), words.make_phrases(utts, 7)
    np.testing.assert_array_equal(a.audio, b.audio)
    np.testing.assert_array_equal(a.seg_starts, b.seg_starts)
    assert utts == words.train_utterances(3, seed=7) != words.train_utterances(3, seed=8)


@needs_espeak
def test_shipped_weights_play_boots_and_cats_on_held_out_voices(test_words):
    """Target: "boots" plays a kick and "cats" a snare for 13 of 16 drum words per voice.

    Met by every voice, 16 of 16 each (with the corpus' augmentation 89 of 96, chanted 91).
    Before the detector's slow envelope fell faster than it rises (20 ms against 40 ms), one
    voice (en-029+f4, fast "and cats") stayed at 10 with the same weights: its
    "k" did not rise the detector's 9 dB over the slow envelope still full of "and", so
    nothing fired on it (87 of 96 in all; the hits-only classifier before the words, 59).
    Lowering the rise instead found those words (7 dB: 94 of 96) but fired inside long
    sounds and cost the held-out corpus its targets (see test_classifier.py). Scored at the
    registry's default rise, which the weights were trained at.
    """
    scores = train.score_words(load_weights(), test_words)
    assert scores.words == 16 * len(words.TEST_VOICES)
    assert min(r for r, _ in scores.per_voice.values()) >= 13, scores
    assert scores.and_drums <= 3, scores
    assert scores.lag_ms_median <= 5.0, scores  # most drums fire on the consonant itself
    assert scores.as_dict() == load_record()["heldout_words"]["words"]  # what info reports
    assert load_record()["rise_db"] == train.default_rise_db()


def test_info_reports_the_word_scores(capsys):
    assert main(["beatbox", "info"]) == 0
    out = capsys.readouterr().out
    record = load_record()
    words_score = record["heldout_words"]["words"]
    assert f"{words_score['right']} of {words_score['words']} drum words" in out
    for voice in words.TEST_VOICES:
        assert voice in out
    assert record["command"] in out and record["phrases"] > 0
    assert f"detector rise: {record['rise_db']:g} dB" in out
