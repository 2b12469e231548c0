"""Continuo notes: MIDI file round trip, pitch-bend encoding, bad files."""

from __future__ import annotations

import mido
import pytest

from models.continuo.notes import Note, read_midi, to_intervals, write_midi

TICK_S = 1 / 1920  # 960 ticks per beat at 120 BPM


def test_midi_file_round_trip_is_exact_to_the_files_resolution(tmp_path):
    notes = [Note(0.25, 0.8, 60.37, 0.5, [(0.4, 60.5), (0.6, 59.9)]),
             Note(0.8, 1.3, 67.0, 1.0),
             Note(1.5, 2.0, 55.81, 0.2, [(1.7, 56.9)])]
    path = tmp_path / "take.mid"
    write_midi(notes, path)
    back = read_midi(path)
    assert len(back) == 3
    for a, b in zip(notes, back, strict=True):
        assert b.start_s == pytest.approx(a.start_s, abs=TICK_S / 2)
        assert b.end_s == pytest.approx(a.end_s, abs=TICK_S / 2)
        assert b.pitch == pytest.approx(a.pitch, abs=2.0 / 8192)
        assert b.velocity == pytest.approx(round(127 * a.velocity) / 127)
        assert len(b.bends) == len(a.bends)
        for (ta, pa), (tb, pb) in zip(a.bends, b.bends, strict=True):
            assert tb == pytest.approx(ta, abs=TICK_S / 2)
            assert pb == pytest.approx(pa, abs=2.0 / 8192)
    # and what a receiver sees: the bend range first, a bend before each note-on
    msgs = [m for m in mido.MidiFile(path) if not m.is_meta]
    assert [(m.control, m.value) for m in msgs[:4]] == [(101, 0), (100, 0), (6, 2), (38, 0)]
    first_on = next(i for i, m in enumerate(msgs) if m.type == "note_on")
    assert msgs[first_on - 1].type == "pitchwheel"
    assert msgs[first_on].note == 60 and msgs[first_on - 1].pitch == round(0.37 / 2 * 8192)


def test_a_wider_bend_range_is_written_and_read_back(tmp_path):
    path = tmp_path / "wide.mid"
    write_midi([Note(0.0, 0.5, 62.0, 0.8, [(0.2, 70.0)])], path, bend_range_semitones=12.0)
    (n,) = read_midi(path, bend_range_semitones=12.0)
    assert n.bends[0][1] == pytest.approx(70.0, abs=12.0 / 8192)


def test_bad_notes_and_bad_files_are_refused_and_leave_nothing(tmp_path):
    path = tmp_path / "bad.mid"
    with pytest.raises(ValueError, match="note 0"):
        write_midi([Note(1.0, 0.5, 60.0)], path)
    assert list(tmp_path.iterdir()) == []
    junk = tmp_path / "junk.mid"
    junk.write_bytes(b"not a midi file at all")
    with pytest.raises(ValueError, match="junk.mid"):
        read_midi(junk)


def test_intervals_for_mir_eval():
    intervals, hz = to_intervals([Note(0.1, 0.4, 69.0), Note(0.5, 0.9, 57.0)])
    assert intervals.tolist() == [[0.1, 0.4], [0.5, 0.9]]
    assert hz.tolist() == pytest.approx([440.0, 220.0])
