"""The streaming decoder on hand-made head frames: starts, follows, slides, re-strikes
and ends notes exactly where the probabilities say."""

from __future__ import annotations

import numpy as np
import pytest

from models.continuo.decoder import HOP_S, LOW_KEY, MonoDecoder, StreamingDecoder, decoder_for

N = 88


def frame(onset=(), active=(), offset=None, velocity=0.7) -> np.ndarray:
    out = np.zeros((4, N), np.float32)
    for k in onset:
        out[0, k - LOW_KEY] = 0.9
    for k in active:
        out[1, k - LOW_KEY] = 0.9
    if offset is not None:
        out[2] = offset
    out[3] = velocity
    return out.reshape(-1)


def test_a_held_note_starts_on_its_onset_and_ends_after_two_quiet_frames():
    d = StreamingDecoder(frame_threshold=1.1)  # onsets alone start notes
    events = [d.step(frame(active=[60]))]  # activity without an onset starts nothing
    events.append(d.step(frame(onset=[60], active=[60])))
    events += [d.step(frame(active=[60])) for _ in range(10)]
    events += [d.step(frame()) for _ in range(3)]
    kinds = [(i, e.kind) for i, ev in enumerate(events) for e in ev]
    assert kinds == [(1, "on"), (13, "off")]
    (note,), decided = d.notes()
    assert note.start_s == pytest.approx(1.5 * HOP_S)
    assert note.end_s == pytest.approx(12.5 * HOP_S)  # the first quiet frame's middle
    assert note.pitch == 60.0 and note.velocity == pytest.approx(0.7)
    assert decided == [pytest.approx(2 * HOP_S)]


def test_a_chord_gives_one_note_per_key_and_fine_offsets_become_bends():
    d = StreamingDecoder()
    d.step(frame(onset=[48, 52, 55], active=[48, 52, 55]))
    offset = np.zeros(N, np.float32)
    offset[55 - LOW_KEY] = 0.25  # the top note bends 25 cents
    for _ in range(3):
        d.step(frame(active=[48, 52, 55], offset=offset))
    d.flush()
    notes, _ = d.notes()
    assert [n.pitch for n in notes] == [48.0, 52.0, 55.25]  # the median of 55 and 3 x 55.25
    assert notes[2].bends == [(pytest.approx(2 * HOP_S), pytest.approx(55.25))]


def test_a_slide_moves_the_note_instead_of_starting_another():
    d = StreamingDecoder()
    d.step(frame(onset=[60], active=[60]))
    d.step(frame(active=[60]))
    d.step(frame(active=[61]))  # the neighbour takes over without an onset
    d.step(frame(active=[62]))
    d.step(frame(active=[62]))
    d.flush()
    (note,), _ = d.notes()
    assert [p for _, p in note.bends] == [61.0, 62.0]


def test_a_flicker_shorter_than_three_frames_is_sent_but_not_kept():
    d = StreamingDecoder()
    events = d.step(frame(onset=[60], active=[60])) + d.step(frame()) + d.step(frame())
    assert [e.kind for e in events] == ["on", "off"]
    assert d.notes() == ([], [])


def test_a_re_strike_ends_the_sounding_note_and_starts_a_new_one():
    d = StreamingDecoder(restrike_threshold=0.8)
    d.step(frame(onset=[64], active=[64]))
    for _ in range(3):
        d.step(frame(active=[64]))  # the onset falls: armed again
    d.step(frame(onset=[64], active=[64]))  # 0.9: over the re-strike threshold
    for _ in range(3):
        d.step(frame(active=[64]))
    d.flush()
    notes, _ = d.notes()
    assert len(notes) == 2 and notes[0].end_s == pytest.approx(notes[1].start_s)


def test_one_attack_seen_on_two_neighbouring_keys_is_one_note():
    d = StreamingDecoder()
    d.step(frame(onset=[60], active=[60]))
    d.step(frame(onset=[60, 61], active=[60]))
    for _ in range(3):
        d.step(frame(active=[60]))
    d.flush()
    assert len(d.notes()[0]) == 1


def test_a_soft_attack_starts_from_rising_activity_and_never_doubles_a_sounding_note():
    d = StreamingDecoder()
    d.step(frame(active=[67]))  # no onset seen: the activity rising starts it
    d.step(frame(active=[67, 68]))  # a neighbour lighting up beside it starts nothing
    d.step(frame(active=[67]))
    d.step(frame(active=[67, 72]))  # an unrelated key rising does
    for _ in range(3):
        d.step(frame(active=[67, 72]))
    d.flush()
    notes, _ = d.notes()
    assert [(n.pitch, round(n.start_s / HOP_S, 1)) for n in notes] == [(67.0, 0.5), (72.0, 3.5)]


def test_one_note_at_a_time_follows_the_leading_key_and_settles_its_attack():
    d = MonoDecoder()
    for _ in range(2):
        d.step(frame(active=[62]))  # the attack's transient reads a tone high
    for _ in range(10):
        d.step(frame(active=[60]))  # settles: the same note, its start kept
    for _ in range(10):
        d.step(frame(active=[64]))  # legato to a third above: a new note where it led
    for _ in range(3):
        d.step(frame())
    notes, _ = d.notes()
    assert [(n.pitch, round(n.start_s / HOP_S, 1)) for n in notes] == [(60.0, 0.5),
                                                                      (64.0, 12.5)]
    assert notes[0].end_s == pytest.approx(notes[1].start_s)


@pytest.mark.parametrize("cls", [StreamingDecoder, MonoDecoder])
def test_an_onset_where_the_level_falls_is_a_note_end_and_starts_nothing(cls):
    """The onset head fires now and then as a tone stops: 12 dB down on the loudest of the
    last three frames, it starts no note; the same onset on a rising level does."""
    d = cls(frame_threshold=1.1)
    events = [d.step(frame(), db) for db in (-20.0, -20.0, -20.0)]
    events.append(d.step(frame(onset=[64], active=[64]), -20.0 - 12.5))
    assert [e for ev in events for e in ev] == []
    for _ in range(3):
        d.step(frame(), -60.0)
    events = [d.step(frame(onset=[64], active=[64]), -45.0)]  # rising again: an attack
    assert [(e.kind, e.pitch) for ev in events for e in ev] == [("on", 64.0)]
    d = cls(frame_threshold=1.1)  # 11.5 dB down is still an attack (and no level at all)
    assert [len(d.step(f, db)) for f, db in ((frame(), -20.0),
                                              (frame(onset=[64], active=[64]), -31.5))] == [0, 1]
    assert len(cls(frame_threshold=1.1).step(frame(onset=[64], active=[64]))) == 1


def test_the_profile_picks_the_decoder():
    assert isinstance(decoder_for("violin"), MonoDecoder)
    assert type(decoder_for("piano")) is StreamingDecoder
    assert type(decoder_for("auto")) is StreamingDecoder
