"""``run --send-notes --instrument NAME``: the neural transcriber fed the worker's blocks,
its events sent as MIDI (a channel per note when notes overlap) and recorded."""

from __future__ import annotations

import numpy as np
import pytest

from engine.inserts import make_insert
from engine.session.neural_notes import NeuralNotes
from engine.session.setup import build_engine
from midi.neural_out import NeuralToMidi
from midi.output import NoteOutput
from models.continuo.decoder import Event
from models.continuo.document import load

SR = 48000


def _tone(seconds: float, hz: float, gap_s: float = 0.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    x = 0.3 * np.sin(2 * np.pi * hz * t) * (t >= gap_s)
    return np.stack([x, x]).astype(np.float32)


def test_the_worker_hands_its_blocks_to_the_transcriber_and_the_notes_are_heard(tmp_path):
    engine = build_engine(SR, 2, 2, make_insert("passthrough", SR, None, "auto"))
    notes = NeuralNotes(SR, "flute")
    engine.worker.listen = notes.feed
    inp, out = np.ascontiguousarray(_tone(1.5, 440.0, gap_s=0.3).T), np.zeros((128, 2), np.float32)
    for k in range(0, inp.shape[0] - 128 + 1, 128):  # the callback's blocks, offline
        engine.process(inp[k: k + 128], out)  # (the worker is stepped inline)
    assert engine.worker.errors == 0 and notes.blocks > 0
    events = notes.drain()
    ons = [e for e in events if e.kind == "on"]
    assert len(ons) == 1 and round(ons[0].pitch) == 69
    assert notes.drain() == []  # handed over once
    assert notes.save(tmp_path / "n.cont") == 1
    (note,) = load(tmp_path / "n.cont").streams[0].notes
    # it starts with the tone (0.3 s in), within the decoder's hop and the engine's path
    assert 0.28 < note.onset_s < 0.36 and all(abs(p - 69.0) < 0.3 for _, p in note.pitch)


def test_a_broken_listener_counts_an_error_and_the_insert_plays_on():
    engine = build_engine(SR, 2, 2, make_insert("passthrough", SR, None, "auto"))

    def broken(block):
        raise RuntimeError("boom")

    engine.worker.listen = broken
    out = np.zeros((128, 2), np.float32)
    for _ in range(8):
        engine.process(np.full((128, 2), 0.1, np.float32), out)
    assert engine.worker.errors > 0 and "boom" in engine.worker.last_error
    assert engine.worker.blocks > 0


def test_overlapping_notes_each_get_their_own_channel_and_bend_alone():
    sent: list[list[int]] = []
    events = [Event("on", 0, 60.0, 0.8), Event("on", 1, 64.0, 0.8), Event("on", 2, 67.0, 0.8),
              Event("bend", 1, 64.25), Event("off", 0, 60.0), Event("off", 1, 64.25),
              Event("off", 2, 67.0), Event("on", 3, float("nan"), 0.5)]
    queue = [events]
    out = NeuralToMidi(NoteOutput(sent.append, channels=tuple(range(1, 16))),
                       lambda: queue.pop() if queue else [])
    out.pump()
    ons = [m for m in sent if m[0] & 0xF0 == 0x90]
    assert [m[1] for m in ons] == [60, 64, 67] and len({m[0] & 0x0F for m in ons}) == 3
    bends = [m for m in sent if m[0] & 0xF0 == 0xE0 and (m[0] & 0x0F) == (ons[1][0] & 0x0F)]
    value = bends[-1][1] | (bends[-1][2] << 7)
    assert (value - 8192) / 4096 == pytest.approx(0.25, abs=1e-3)  # 2-semitone range
    assert len([m for m in sent if m[0] & 0xF0 == 0x80]) == 3 and out.sent == 3


def test_a_note_that_settles_beyond_the_bend_range_is_sent_again_at_its_key():
    """A one-note decoder keeps a note whose attack was misheard (an E4 settling to the A4
    it is) and bends it; a 2-semitone bend cannot reach 5 semitones, so the note is ended
    and sent again at A4 with its velocity, then bends from there."""
    sent: list[list[int]] = []
    queue = [[Event("on", 0, 64.0, 0.5), Event("bend", 0, 65.9), Event("bend", 0, 69.02),
              Event("bend", 0, 69.3), Event("off", 0, 69.3)]]
    out = NeuralToMidi(NoteOutput(sent.append), lambda: queue.pop() if queue else [])
    out.pump()
    kinds = [(m[0] & 0xF0, m[1]) for m in sent if m[0] & 0xF0 in (0x80, 0x90)]
    assert kinds == [(0x90, 64), (0x80, 64), (0x90, 69), (0x80, 69)] and out.sent == 2
    assert [m[2] for m in sent if m[0] & 0xF0 == 0x90] == [64, 64]  # round(127 * 0.5)
    bends = [((m[1] | m[2] << 7) - 8192) / 4096 for m in sent if m[0] & 0xF0 == 0xE0]
    assert bends == pytest.approx([0.0, 1.9, 0.02, 0.3], abs=1e-3)
