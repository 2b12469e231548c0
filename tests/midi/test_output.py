"""MIDI out: float pitch -> note + pitch bend, channel rotation, clock out via a port."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsp.bend import split_pitch
from midi.output import MidiOutput, NoteOutput
from midi.ports import open_input, open_output


def test_split_pitch():
    assert split_pitch(60.37) == (60, round(0.37 / 2 * 8192))
    assert split_pitch(60.7) == (61, round(-0.3 / 2 * 8192))
    assert split_pitch(60.0) == (60, 0)
    assert split_pitch(60.5, bend_range_semitones=12.0) == (60, round(0.5 / 12 * 8192))
    assert split_pitch(-3.0) == (0, -8192) and split_pitch(200.0) == (127, 8191)
    with pytest.raises(ValueError):
        split_pitch(float("nan"))


@given(st.floats(0.0, 127.0), st.sampled_from([1.0, 2.0, 12.0, 48.0]))
def test_split_pitch_reconstructs_the_pitch(pitch, bend_range):
    note, bend = split_pitch(pitch, bend_range)
    assert -8192 <= bend <= 8191
    assert note + bend / 8192 * bend_range == pytest.approx(pitch, abs=bend_range / 8192)


def test_note_output_sends_bend_before_note_and_rotates_channels():
    sent = []
    out = NoteOutput(sent.append, channels=(1, 2))
    a = out.note_on(60.37, 90)
    b = out.note_on(64.0, 80)
    bend = round(0.37 / 2 * 8192) + 8192
    assert sent[:2] == [[0xE1, bend & 0x7F, bend >> 7], [0x91, 60, 90]]
    assert sent[2:4] == [[0xE2, 0x00, 0x40], [0x92, 64, 80]]
    out.note_off(a)
    assert sent[4] == [0x81, 60, 0]
    c = out.note_on(67.0)
    assert c.channel == 1  # the free channel, not the one still sounding
    out.all_notes_off()
    assert [0x82, 64, 0] in sent and [0xB1, 123, 0] in sent and [0xB2, 123, 0] in sent
    del b
    sent.clear()
    out.send_bend_range()
    assert sent[:4] == [[0xB1, 101, 0], [0xB1, 100, 0], [0xB1, 6, 2], [0xB1, 38, 0]]


@pytest.mark.jack
def test_midi_output_over_jack(jack_server):
    with open_input("notes-in", virtual=True, client_name="mm-out-rx") as rx:
        port = open_output(rx.name, client_name="mm-out-tx")
        with MidiOutput(port, clock_bpm=180.0) as out:
            time.sleep(0.1)
            voice = out.notes.note_on(69.25, 100)
            out.notes.note_off(voice)
        got = []
        while (m := rx.receive(timeout_s=0.2)) is not None:
            got.append(m)
    bend = round(0.25 / 2 * 8192) + 8192
    assert got[0] == [0xFA]
    assert [0xE0, bend & 0x7F, bend >> 7] in got and [0x90, 69, 100] in got
    assert got.index([0xE0, bend & 0x7F, bend >> 7]) < got.index([0x90, 69, 100])
    assert [0x80, 69, 0] in got and got[-1] == [0xFC]
    assert got.count([0xF8]) >= 5  # 180 BPM = 72 ticks/s
