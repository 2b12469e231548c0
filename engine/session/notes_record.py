"""``run --record-notes FILE.cont``: the notes the transcriber sent, kept as a Continuo
document of the performance.

Fed the same event rows as the MIDI sender (on the MIDI-out thread), it builds the notes
with their whole pitch curves from the events' input positions (frames since the start,
so times are the performance's own, not the thread's arrival times) and writes the
document when the run ends.
"""

from __future__ import annotations

import math
from pathlib import Path

from dsp import transcriber
from models.continuo.document import Document, Note, Stream, save


class NotesRecorder:
    """Collects transcriber events (``forward``) into a one-stream voice document."""

    def __init__(self, rate_hz: int) -> None:
        self.rate_hz = rate_hz
        self.notes: list[Note] = []
        self._open: Note | None = None
        self._last_s = 0.0

    def forward(self, rows) -> None:
        for row in rows:
            pitch = float(row[transcriber.EV_PITCH])
            t = float(row[transcriber.EV_POSITION]) / self.rate_hz
            self._last_s = max(self._last_s, t)
            kind = row[transcriber.EV_KIND]
            if kind == transcriber.EV_NOTE_ON and math.isfinite(pitch):
                self._close(t)
                velocity = min(max(float(row[transcriber.EV_VELOCITY]), 1e-3), 1.0)
                self._open = Note(t, t, [(t, pitch)], velocity)
            elif kind == transcriber.EV_BEND and self._open is not None and math.isfinite(pitch):
                self._open.pitch.append((max(t, self._open.pitch[-1][0]), pitch))
            elif kind == transcriber.EV_NOTE_OFF:
                self._close(t)

    def _close(self, t_s: float) -> None:
        note, self._open = self._open, None
        if note is not None and t_s > note.onset_s:
            note.offset_s = t_s
            note.pitch = [(min(tp, t_s), p) for tp, p in note.pitch]
            self.notes.append(note)

    def document(self) -> Document:
        """The notes so far; a note still sounding ends at the last event's time."""
        self._close(self._last_s)
        return Document([Stream("voice", "voice", list(self.notes))])

    def save(self, path: Path) -> int:
        """Write the document; returns how many notes it holds."""
        doc = self.document()
        save(doc, path)
        return len(doc.streams[0].notes)
