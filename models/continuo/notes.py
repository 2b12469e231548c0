"""Continuo's note representation: notes with microtonal pitch and their pitch trajectory.

A :class:`Note` has a start and end in seconds, a float MIDI pitch (60.37 is C4 plus 37
cents), a velocity in (0, 1] and the pitch changes it went through while it sounded
(``bends``: (time_s, pitch) pairs). Notes are monophonic in a transcription of one voice,
but nothing here needs that.

Standard MIDI files carry them as the nearest note plus a pitch bend (scaled to
``bend_range_semitones``, RPN 0 is written so receivers agree) sent before each note-on,
and a bend message per trajectory point; :func:`write_midi` and :func:`read_midi` round
trip exactly up to the file's quantisation (one tick in time, 1/8192 of the bend range in
pitch). Files are written atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np

from dsp.bend import bend_range_rpn, bend_value, split_pitch
from dsp.io.atomic import atomic_path

TICKS_PER_BEAT = 960
TEMPO_US = 500_000  # 120 BPM: one tick is 1/1920 s
DEFAULT_BEND_RANGE_ST = 2.0


@dataclass
class Note:
    """One note: ``start_s`` < ``end_s``, float MIDI ``pitch``, ``velocity`` in (0, 1]."""

    start_s: float
    end_s: float
    pitch: float
    velocity: float = 0.8
    bends: list[tuple[float, float]] = field(default_factory=list)

    @property
    def pitch_hz(self) -> float:
        return 440.0 * 2.0 ** ((self.pitch - 69.0) / 12.0)


def to_intervals(notes: Sequence[Note]) -> tuple[np.ndarray, np.ndarray]:
    """``(intervals (k, 2) s, pitches (k,) Hz)``, the arrays mir_eval's transcription
    metrics take."""
    intervals = np.array([[n.start_s, n.end_s] for n in notes], dtype=np.float64).reshape(-1, 2)
    return intervals, np.array([n.pitch_hz for n in notes], dtype=np.float64)


def _seconds_to_ticks(t_s: float) -> int:
    return round(t_s * TICKS_PER_BEAT * 1e6 / TEMPO_US)


def _bend_message(pitch: float, note: int, channel: int, range_st: float, tick: int):
    return tick, mido.Message("pitchwheel", channel=channel,
                              pitch=bend_value(pitch - note, range_st))


def write_midi(notes: Sequence[Note], path: Path | str, channel: int = 0,
               bend_range_semitones: float = DEFAULT_BEND_RANGE_ST) -> None:
    """Write ``notes`` to a type-0 standard MIDI file at ``path`` (atomically)."""
    if not 0 <= channel <= 15:
        raise ValueError(f"channel {channel} must be 0-15")
    timed: list[tuple[int, int, mido.Message]] = []  # (tick, order, message)
    for order, (cc, v) in enumerate(bend_range_rpn(bend_range_semitones)):
        timed.append((0, order - 100, mido.Message("control_change", channel=channel,
                                                    control=cc, value=v)))
    for k, n in enumerate(sorted(notes, key=lambda n: n.start_s)):
        if not n.end_s > n.start_s >= 0.0:
            raise ValueError(f"note {k}: needs 0 <= start_s < end_s, got "
                             f"{n.start_s}..{n.end_s}")
        number, _ = split_pitch(n.pitch, bend_range_semitones)
        on, off = _seconds_to_ticks(n.start_s), _seconds_to_ticks(n.end_s)
        off = max(off, on + 1)
        velocity = min(max(round(127 * n.velocity), 1), 127)
        # order within a tick: the previous note's off, the bend, the note-on, later bends
        tick, msg = _bend_message(n.pitch, number, channel, bend_range_semitones, on)
        timed.append((tick, 4 * k + 1, msg))
        timed.append((on, 4 * k + 2, mido.Message("note_on", channel=channel, note=number,
                                                  velocity=velocity)))
        for t_s, p in n.bends:
            tick, msg = _bend_message(p, number, channel, bend_range_semitones,
                                      min(max(_seconds_to_ticks(t_s), on), off - 1))
            timed.append((tick, 4 * k + 3, msg))
        timed.append((off, 4 * k, mido.Message("note_off", channel=channel, note=number)))
    timed.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=TEMPO_US, time=0)])
    last = 0
    for tick, _, msg in timed:
        track.append(msg.copy(time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    with atomic_path(path) as tmp:
        mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_BEAT, tracks=[track]).save(tmp)


def read_midi(path: Path | str,
              bend_range_semitones: float = DEFAULT_BEND_RANGE_ST) -> list[Note]:
    """Notes from a MIDI file: each channel's bend applies to its notes; tempo changes are
    honoured. Raises ValueError naming the file when it is not a MIDI file."""
    try:
        mid = mido.MidiFile(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise ValueError(f"{path}: not a readable MIDI file ({exc})") from None
    notes: list[Note] = []
    bend = [0.0] * 16  # semitones per channel
    sounding: dict[tuple[int, int], Note] = {}
    t = 0.0
    for msg in mid:  # merged tracks, msg.time in seconds
        t += msg.time
        if msg.type == "pitchwheel":
            bend[msg.channel] = msg.pitch / 8192.0 * bend_range_semitones
            for (ch, number), n in sounding.items():
                if ch == msg.channel:
                    n.bends.append((t, number + bend[ch]))
        elif msg.type == "note_on" and msg.velocity > 0:
            key = (msg.channel, msg.note)
            if key in sounding:  # a repeated note-on ends the previous one
                sounding.pop(key).end_s = t
            n = Note(t, t, msg.note + bend[msg.channel], msg.velocity / 127.0)
            sounding[key] = n
            notes.append(n)
        elif msg.type in ("note_off", "note_on"):
            n = sounding.pop((msg.channel, msg.note), None)
            if n is not None:
                n.end_s = t
    for n in sounding.values():
        n.end_s = max(t, n.start_s)
    return [n for n in notes if n.end_s > n.start_s]
