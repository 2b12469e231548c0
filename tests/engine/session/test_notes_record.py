"""``run --record-notes``: transcriber events become a Continuo document with the notes'
pitch curves at the performance's own times."""

from __future__ import annotations

import numpy as np
import pytest

from dsp import transcriber as tr
from engine.cli import main
from engine.session.notes_record import NotesRecorder
from models.continuo.document import load


def _row(kind, pitch, position, velocity=0.5):
    row = np.zeros(tr.EV_SIZE, np.float32)
    row[tr.EV_KIND], row[tr.EV_PITCH], row[tr.EV_VELOCITY] = kind, pitch, velocity
    row[tr.EV_POSITION] = position
    return row


def test_events_become_notes_with_their_pitch_curves(tmp_path):
    rec = NotesRecorder(48000)
    rec.forward(np.stack([_row(tr.EV_NOTE_ON, 60.1, 4800), _row(tr.EV_BEND, 60.4, 9600)]))
    rec.forward(np.stack([_row(tr.EV_NOTE_ON, 62.0, 24000, 0.9),  # legato: ends the first
                          _row(tr.EV_NOTE_OFF, np.nan, 33600), _row(tr.EV_BEND, 70.0, 40000),
                          _row(tr.EV_NOTE_ON, np.nan, 42000)]))  # never a NaN note
    assert rec.save(tmp_path / "n.cont") == 2
    first, second = load(tmp_path / "n.cont").streams[0].notes
    assert (first.onset_s, first.offset_s) == (0.1, 0.5)
    assert first.pitch == [(0.1, pytest.approx(60.1, abs=1e-5)), (0.2, pytest.approx(60.4,
                                                                                    abs=1e-5))]
    assert (second.onset_s, second.offset_s, second.velocity) == (0.5, 0.7, pytest.approx(0.9))


def test_a_note_still_sounding_ends_with_the_last_event(tmp_path):
    rec = NotesRecorder(48000)
    rec.forward(np.stack([_row(tr.EV_NOTE_ON, 57.0, 0), _row(tr.EV_BEND, 57.2, 12000)]))
    doc = rec.document()
    assert [(n.onset_s, n.offset_s) for n in doc.streams[0].notes] == [(0.0, 0.25)]


def test_record_notes_needs_send_notes_and_a_cont_path(tmp_path, capsys):
    assert main(["run", "--headless", "--record-notes", str(tmp_path / "a.cont")]) == 2
    assert "--record-notes needs --send-notes" in capsys.readouterr().err
    assert main(["run", "--headless", "--midi-out", "virtual", "--send-notes",
                 "--record-notes", str(tmp_path / "a.mid")]) == 2
    assert ".cont" in capsys.readouterr().err
