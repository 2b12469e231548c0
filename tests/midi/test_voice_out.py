"""Transcribed voice notes to MIDI: note-on with its bend, bends, note-off, bad rows."""

from __future__ import annotations

import numpy as np

from dsp import transcriber
from engine.offline.render import render_array
from midi.output import NoteOutput
from midi.voice_out import VoiceToMidi
from models.continuo import corpus
from models.continuo.transcribe import transcribe


def _row(kind, pitch, velocity=0.0):
    row = np.zeros(transcriber.EV_SIZE, np.float32)
    row[[transcriber.EV_KIND, transcriber.EV_PITCH, transcriber.EV_VELOCITY]] = (
        kind, pitch, velocity)
    return row


def test_rows_become_a_bent_note_its_bends_and_its_note_off():
    sent = []
    fwd = VoiceToMidi(NoteOutput(sent.append, channels=(2,)))
    fwd.forward([_row(transcriber.EV_NOTE_ON, 60.25, 0.5),
                 _row(transcriber.EV_BEND, 60.75),
                 _row(transcriber.EV_BEND, np.nan),
                 _row(transcriber.EV_NOTE_OFF, 60.75)])
    centre = 8192
    up = centre + round(0.25 / 2 * 8192)
    up3 = centre + round(0.75 / 2 * 8192)
    assert sent == [[0xE2, up & 0x7F, up >> 7], [0x92, 60, 64],
                    [0xE2, up3 & 0x7F, up3 >> 7], [0x82, 60, 0]]
    assert fwd.sent == 1


def test_a_new_note_on_ends_the_sounding_note_first():
    sent = []
    fwd = VoiceToMidi(NoteOutput(sent.append))
    fwd.forward([_row(transcriber.EV_NOTE_ON, 57.0, 1.0), _row(transcriber.EV_NOTE_ON, 59.0, 1.0)])
    assert [m[0] & 0xF0 for m in sent] == [0xE0, 0x90, 0x80, 0xE0, 0x90]
    fwd.end()
    assert sent[-1] == [0x80, 59, 0]


def test_the_engine_sends_the_notes_the_offline_transcriber_finds():
    # 4 notes: their events (a bend every few ms) fit the ring, read once at the end
    ph = corpus.phrase(2, "heldout", n_notes=4)
    x = np.repeat(ph.audio[:, None], 2, axis=1)
    _, engine = render_array(x, ph.sample_rate_hz, insert="none", transcribe=True)
    rows = engine.read_voice_notes()
    ons = rows[rows[:, transcriber.EV_KIND] == transcriber.EV_NOTE_ON]
    offline = transcribe(ph.audio, ph.sample_rate_hz).notes
    assert len(ons) == len(offline) >= 4
    starts = np.array([n.start_s for n in offline]) * ph.sample_rate_hz
    np.testing.assert_allclose(ons[:, transcriber.EV_POSITION], starts, atol=1.0)
    assert engine.read_voice_notes().shape == (0, transcriber.EV_SIZE)  # read once
    # off by default: no transcription costs nothing and sends nothing
    _, quiet = render_array(x, ph.sample_rate_hz, insert="none")
    assert quiet.read_voice_notes().shape[0] == 0
