"""MIDI out of the neural transcriber's events: one voice per note, continuous pitch kept.

Events (``kind`` "on"/"bend"/"off", ``note_id``, float MIDI ``pitch``, ``velocity``) come
from :class:`engine.session.neural_notes.NeuralNotes`. Each note takes a voice of the
:class:`midi.output.NoteOutput`: a note-on at the nearest key with a bend for the
microtonal rest, bends as it moves, a note-off. Given several channels (an MPE zone) the
notes of a chord each get their own, so one note's bend never moves another. A note that
moves further from its key than the receiver's bend range reaches (a one-note decoder's
attack settling from a misheard first key, a long slide) is sent again at its new key:
a capped bend would hold it at the wrong pitch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from midi.output import NoteOutput, Voice


class NeuralToMidi:
    """Send ``source()``'s events to ``notes`` (see module doc)."""

    def __init__(self, notes: NoteOutput, source: Callable[[], list]) -> None:
        self.notes = notes
        self.source = source
        self.sent = 0
        self._voices: dict[int, Voice] = {}
        self._velocity: dict[int, int] = {}

    def pump(self) -> None:
        for e in self.source():
            if not math.isfinite(e.pitch):
                continue
            if e.kind == "on":
                self._velocity[e.note_id] = max(1, min(127, round(127 * e.velocity)))
                self._start(e.note_id, e.pitch)
            elif e.kind == "bend" and e.note_id in self._voices:
                voice = self._voices[e.note_id]
                if abs(e.pitch - voice.note) <= self.notes.bend_range_semitones:
                    self._voices[e.note_id] = self.notes.bend(voice, e.pitch)
                else:
                    self.notes.note_off(voice)
                    self._start(e.note_id, e.pitch)
            elif e.kind == "off" and e.note_id in self._voices:
                self.notes.note_off(self._voices.pop(e.note_id))
                self._velocity.pop(e.note_id, None)

    def _start(self, note_id: int, pitch: float) -> None:
        self._voices[note_id] = self.notes.note_on(pitch, self._velocity[note_id])
        self.sent += 1

    def end(self) -> None:
        """Note-off for every sounding note (at shutdown)."""
        for voice in self._voices.values():
            self.notes.note_off(voice)
        self._voices.clear()
        self._velocity.clear()
