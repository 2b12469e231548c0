"""Pitch-bend arithmetic: a float MIDI pitch as a note plus a 14-bit bend.

A float MIDI pitch such as 60.37 is the nearest note (60) plus a bend for the rest (+37
cents), scaled to the receiver's bend range (RPN 0 sets it). Shared by live MIDI out and
MIDI files of transcribed notes, so both spell a pitch the same way.
"""

from __future__ import annotations

import math

BEND_CENTER = 8192


def split_pitch(pitch: float, bend_range_semitones: float = 2.0) -> tuple[int, int]:
    """``(note, bend)`` for a float MIDI pitch: the nearest note (0-127) and the signed
    14-bit bend (-8192..8191) for the remaining fraction of a semitone.

    Pitches outside 0..127 clamp to the end notes (bend still capped by the range).
    """
    if not math.isfinite(pitch):
        raise ValueError(f"pitch {pitch!r} is not a finite MIDI pitch")
    if not bend_range_semitones > 0:
        raise ValueError(f"bend range {bend_range_semitones!r} must be positive (semitones)")
    note = min(max(int(round(pitch)), 0), 127)
    return note, bend_value(pitch - note, bend_range_semitones)


def bend_value(offset_semitones: float, bend_range_semitones: float = 2.0) -> int:
    """The signed 14-bit bend (-8192..8191) that moves a note by ``offset_semitones``,
    capped at the bend range."""
    bend = round(offset_semitones / bend_range_semitones * 8192.0)
    return min(max(bend, -8192), 8191)


def bend_range_rpn(bend_range_semitones: float) -> list[tuple[int, int]]:
    """The (controller, value) pairs that set a receiver's bend range: RPN 0 (pitch-bend
    sensitivity) to whole semitones and cents, then RPN null so later data entry is
    ignored."""
    semis = int(bend_range_semitones)
    cents = min(int(round((bend_range_semitones - semis) * 100)), 127)
    return [(101, 0), (100, 0), (6, min(semis, 127)), (38, cents), (101, 127), (100, 127)]
