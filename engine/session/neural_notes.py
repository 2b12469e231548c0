"""``run --send-notes --instrument NAME``: the neural transcriber live, on the worker thread.

The worker reads every block the callback sends it (the input after its strip) and, before
running its model insert, hands it here (:attr:`engine.worker.Worker.listen`): the
:class:`~models.continuo.neural.NeuralStream` (to 12 kHz, the front end, one ONNX
Runtime call per 128-sample hop on this thread, the streaming decoder) turns it into note
events, queued for the MIDI-out thread (:class:`midi.neural_out.NeuralToMidi`). The
callback never sees the model; a deque is the hand-over (append and popleft are atomic).
With ``--record-notes`` the decoder's notes, pitch curves and all, become a Continuo
document of the performance when the run ends.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np

from models.continuo.document import PROFILES, Document, document_of, save


class NeuralNotes:
    """Feeds worker blocks to the neural stream; ``drain`` hands the events on."""

    def __init__(self, sample_rate_hz: float, instrument: str) -> None:
        from models.continuo.neural import NeuralStream

        self.sample_rate_hz = sample_rate_hz
        self.instrument = instrument
        self.stream = NeuralStream(sample_rate_hz, instrument)
        self.polyphonic = PROFILES[instrument].polyphonic
        self._events: deque = deque(maxlen=8192)
        self._pending = None  # a stream for another instrument, taken by the worker
        self._done: list[tuple[str, list]] = []  # (instrument, notes) of replaced streams
        self.blocks = 0

    def feed(self, block: np.ndarray) -> None:
        """On the worker thread: one ``(2, n)`` block of the input."""
        pending, self._pending = self._pending, None
        if pending is not None:  # ends the old stream's notes, then listens anew
            self._events.extend(self.stream.push(np.zeros(0, np.float32), last=True))
            self._done.append((self.stream.instrument, self.stream.decoder.notes()[0]))
            pending.input_frames = self.stream.input_frames
            pending.decoder.clock_s = self.stream.decoder.clock_s
            pending.decoder.frame = self.stream.decoder.frame
            self.stream = pending
        self._events.extend(self.stream.push(block.mean(axis=0)))
        self.blocks += 1

    def choose(self, instrument: str) -> None:
        """Listen for ``instrument`` from the next block on (the stream is built here, off
        the worker; the worker swaps it in between two blocks). The MIDI channels stay
        those the run opened with."""
        from models.continuo.neural import NeuralStream

        self._pending = NeuralStream(self.sample_rate_hz, instrument)
        self.instrument = instrument

    def recent(self, window_s: float) -> tuple[float, list[tuple[float, float | None, float]]]:
        """For the window: the input time now and the notes of the last ``window_s``
        seconds as (start_s, end_s or None while sounding, pitch)."""
        decoder = self.stream.decoder
        now = self.stream.input_frames / self.sample_rate_hz
        notes = [n for _, done in self._done[-1:] for n in done[-32:]] + decoder.finished[-64:]
        rows = [(n.start_s, n.end_s, n.pitch) for n in notes if n.end_s > now - window_s]
        for s in list(decoder.sounding.values()):
            rows.append((s.note.start_s, None, s.pitches[-1]))
        return now, rows

    def drain(self) -> list:
        """On the MIDI-out thread: the events decided since the last call."""
        out = []
        while self._events:
            out.append(self._events.popleft())
        return out

    def save(self, path: Path) -> int:
        """Write the notes heard so far (a sounding note ends now), a stream per instrument
        chosen in turn; returns their count."""
        self.stream.decoder.flush()
        parts = [*self._done, (self.stream.instrument, self.stream.decoder.notes()[0])]
        streams = [document_of(notes, inst, f"{inst} {k + 1}" if len(parts) > 1 else inst
                               ).streams[0] for k, (inst, notes) in enumerate(parts)]
        save(Document(streams), path)
        return sum(len(s.notes) for s in streams)
