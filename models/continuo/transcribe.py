"""Offline transcription: the live kernel (``dsp.transcriber``) run over a whole signal.

The file path and the live engine share one kernel, fed block by block exactly as the
callback feeds it, so a file transcribes to the notes a performer would have sent live.
Notes are timed by the positions the kernel stamps (the sound's start), not by when it
decided (``decision_s`` keeps that: the live path's latency); a note's pitch is the one
it held longest (:func:`held_pitch`), its bends keep the whole trajectory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp import transcriber
from models.continuo.notes import Note

BLOCK = 128  # frames per call, as the live callback at its default block


@dataclass
class Transcription:
    """The notes, and for each note the input time its note-on was decided at."""

    notes: list[Note]
    decision_s: list[float]


def held_pitch(note: Note) -> float:
    """The pitch ``note`` held longest: the time-weighted median of its trajectory (its
    note-on pitch, then each bend until the next). The note-on pitch comes from the
    first frames of the attack, which YIN reads a little sharp while its window still
    holds silence; the bends that follow correct it, and so does this."""
    times = [note.start_s] + [t for t, _ in note.bends] + [note.end_s]
    pitches = np.array([note.pitch] + [p for _, p in note.bends])
    weights = np.maximum(np.diff(times), 0.0)
    if weights.sum() <= 0.0:
        return note.pitch
    order = np.argsort(pitches)
    cum = np.cumsum(weights[order])
    return float(pitches[order][np.searchsorted(cum, 0.5 * cum[-1])])


def transcribe(x: np.ndarray, sample_rate_hz: float, block: int = BLOCK,
               **kwargs) -> Transcription:
    """Transcribe ``x`` (``(n,)`` or ``(n, channels)``); ``kwargs`` go to
    ``dsp.transcriber.prepare``. A note still sounding at the end ends there."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim not in (1, 2) or x.shape[0] == 0:
        raise ValueError(f"need a non-empty (frames,) or (frames, channels) signal, got "
                         f"shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("the signal holds NaN or infinite samples")
    planar = np.ascontiguousarray(x.reshape(x.shape[0], -1).T)
    st = transcriber.prepare(sample_rate_hz, **kwargs)
    events = np.zeros((transcriber.MAX_EVENTS, transcriber.EV_SIZE))
    notes: list[Note] = []
    decisions: list[float] = []
    current: Note | None = None

    def take(rows: np.ndarray, block_start: int) -> None:
        nonlocal current
        for r in rows:
            t_s = r[transcriber.EV_POSITION] / sample_rate_hz
            kind = r[transcriber.EV_KIND]
            if kind == transcriber.EV_NOTE_ON:
                current = Note(t_s, t_s, float(r[transcriber.EV_PITCH]),
                               float(r[transcriber.EV_VELOCITY]))
                notes.append(current)
                decisions.append((block_start + r[transcriber.EV_OFFSET] + 1)
                                 / sample_rate_hz)
            elif current is not None and kind == transcriber.EV_BEND:
                current.bends.append((max(t_s, current.start_s),
                                      float(r[transcriber.EV_PITCH])))
            elif current is not None and kind == transcriber.EV_NOTE_OFF:
                current.end_s = max(t_s, current.start_s)
                current.pitch = held_pitch(current)
                current = None

    for start in range(0, planar.shape[1], block):
        chunk = planar[:, start: start + block]
        k = transcriber.process(st, chunk, chunk.shape[1], events)
        take(events[:k], start)
    k = transcriber.flush(st, events)
    take(events[:k], planar.shape[1])
    keep = [i for i, n in enumerate(notes) if n.end_s > n.start_s]
    return Transcription([notes[i] for i in keep], [decisions[i] for i in keep])
