"""The transcriber on generated sung phrases: the corpus' truth, and the scores."""

from __future__ import annotations

import numpy as np

from dsp import pitch
from models.continuo import corpus
from models.continuo.evaluate import evaluate

# measured with `musicmill transcribe --evaluate` (20 held-out phrases): onset F 0.971,
# onset+offset F 0.959, median pitch error 1.1 cents. The bounds leave room for the
# smaller sample here, not for a regression.
ONSET_F_MIN = 0.9
PITCH_CENTS_MAX = 5.0


def test_the_corpus_truth_is_what_the_phrase_sings():
    ph = corpus.phrase(7, "heldout")
    assert len(ph.notes) == 12
    st = pitch.prepare(ph.sample_rate_hz, 60.0, 1400.0, 256)
    out = np.zeros((ph.audio.size // 256 + 1, pitch.N_COLS))
    k = pitch.process(st, ph.audio, out)
    frames = out[:k]
    for n in ph.notes:
        mid = (frames[:, 0] > (0.6 * n.start_s + 0.4 * n.end_s) * ph.sample_rate_hz) & (
            frames[:, 0] < (0.4 * n.start_s + 0.6 * n.end_s) * ph.sample_rate_hz)
        est = 69 + 12 * np.log2(np.median(frames[mid, pitch.COL_F0_HZ]) / 440)
        assert abs(est - n.pitch) < 0.3, (n, est)


def test_held_out_phrases_transcribe_to_their_notes():
    m = evaluate("heldout", phrases=5)
    assert m["reference_notes"] == 60
    assert m["onset_f_measure"] >= ONSET_F_MIN, m
    assert m["onset_offset_f_measure"] >= ONSET_F_MIN - 0.05, m
    assert m["pitch_error_cents_median"] <= PITCH_CENTS_MAX, m
    # a note-on is decided after the note starts, never before, and within ~0.1 s
    assert 5.0 < m["note_on_latency_ms_median"] < 100.0, m


def test_splits_differ_and_phrases_are_deterministic():
    a, b = corpus.phrase(0, "dev"), corpus.phrase(0, "dev")
    np.testing.assert_array_equal(a.audio, b.audio)
    assert a.voice in {"bass", "tenor", "alto"}
    assert corpus.phrase(0, "heldout").voice in {"baritone", "soprano", "hum"}
