"""Beatbox hits to MIDI: the engine's hits ring, and the notes HitsToMidi makes of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from dsp import beatbox, drums
from engine.offline.render import render_array
from midi.hits_out import NOTE_LENGTH_S, HitsToMidi
from models.beatbox.classifier import load_weights

EXAMPLE = Path(__file__).resolve().parents[2] / "docs/examples/beatbox.wav"


class FakePort:
    def __init__(self) -> None:
        self.sent: list[list[int]] = []

    def send(self, message) -> None:
        self.sent.append(list(message))


class FakeOutput:
    def __init__(self) -> None:
        self.port = FakePort()
        self.clock = None


def _row(kind, voice, velocity, label, onset=0.0):
    row = np.zeros(beatbox.EV_SIZE, np.float32)
    row[[beatbox.EV_KIND, beatbox.EV_VOICE, beatbox.EV_VELOCITY, beatbox.EV_LABEL,
         beatbox.EV_ONSET]] = kind, voice, velocity, label, onset
    return row


def test_hits_become_gm_drum_notes_on_channel_10():
    out = FakeOutput()
    fwd = HitsToMidi(engine=None, output=out)
    fwd.forward([_row(beatbox.EV_HIT, drums.KICK, 1.0, beatbox.KICK),
                 _row(beatbox.EV_HIT, -1, 0.0, beatbox.OTHER),
                 _row(beatbox.EV_HIT, drums.HAT_OPEN, 0.5, beatbox.HAT_PENDING, 9.0)], 10.0)
    assert out.port.sent == [[0x99, 36, 127], [0x99, 46, 64]]
    assert fwd._pending_off == [(10.0 + NOTE_LENGTH_S, 36)]  # the hat waits for its release
    fwd.forward([_row(beatbox.EV_RELEASE, drums.HAT_OPEN, 0.0, beatbox.HAT_CLOSED, 9.0)], 10.1)
    assert out.port.sent[-1] == [0x89, 46, 0]
    assert fwd.sent == 2


def test_every_voice_sends_a_gm_note_that_plays_it_back():
    from midi.gm_drums import GM_DRUM_NOTES, VOICE_NOTES

    assert sorted(VOICE_NOTES) == sorted(drums.VOICE_NAMES)
    for name, note in VOICE_NOTES.items():
        assert GM_DRUM_NOTES[note] == name


def test_the_engine_reports_every_trigger_event_of_the_example():
    x, rate = sf.read(EXAMPLE, dtype="float32", always_2d=True)
    _, engine = render_array(x, rate, {"beatbox_trigger": 1.0}, insert="none")
    rows = engine.read_hits()
    ref, _ = beatbox.detect(x, rate, load_weights())
    assert rows.shape[0] == ref.shape[0] >= 16
    np.testing.assert_array_equal(rows[:, beatbox.EV_KIND], ref[:, beatbox.EV_KIND])
    np.testing.assert_array_equal(rows[:, beatbox.EV_VOICE], ref[:, beatbox.EV_VOICE])
    assert engine.read_hits().shape == (0, beatbox.EV_SIZE)  # read once
