"""MIDI out of the transcribed voice: note-on, pitch bend and note-off as they are decided.

The engine's transcriber (``dsp.transcriber``, in the callback) writes its events to the
voice-notes ring; :class:`VoiceToMidi` turns each into messages on a
:class:`midi.output.NoteOutput`: a note-on at the nearest MIDI note with a bend for the
microtonal rest, bends while the voice moves (vibrato, glides, intonation) and a note-off.
The note-on carries the transcriber's velocity. The MIDI-out thread
(:class:`midi.hits_out.HitsToMidi`) polls the ring with the beatbox hits, every 2 ms.
"""

from __future__ import annotations

import math

from dsp import transcriber
from midi.output import NoteOutput, Voice


class VoiceToMidi:
    """Forward transcriber event rows to ``notes`` (see module doc)."""

    def __init__(self, notes: NoteOutput, listener=None) -> None:
        self.notes = notes
        self.listener = listener  # also handed every batch of rows (a notes recorder)
        self.sent = 0  # note-ons sent
        self._voice: Voice | None = None

    def forward(self, rows) -> None:
        """Send the messages for ``rows`` (``(k, dsp.transcriber.EV_SIZE)``)."""
        if self.listener is not None and len(rows):
            self.listener(rows)
        for row in rows:
            kind = row[transcriber.EV_KIND]
            pitch = float(row[transcriber.EV_PITCH])
            if not math.isfinite(pitch):
                continue  # never sent: a NaN pitch has no note
            if kind == transcriber.EV_NOTE_ON:
                self.end()  # monophonic: a new note ends any sounding one
                velocity = round(127 * float(row[transcriber.EV_VELOCITY]))
                self._voice = self.notes.note_on(pitch, velocity)
                self.sent += 1
            elif kind == transcriber.EV_BEND and self._voice is not None:
                self._voice = self.notes.bend(self._voice, pitch)
            elif kind == transcriber.EV_NOTE_OFF:
                self.end()

    def end(self) -> None:
        """Note-off for the sounding note, if any (also at shutdown)."""
        if self._voice is not None:
            self.notes.note_off(self._voice)
            self._voice = None
