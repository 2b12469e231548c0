"""MIDI out: microtonal notes (note + pitch bend) and an optional clock.

A float MIDI pitch such as 60.37 is sent as the nearest note (60) plus a pitch bend for
the rest (+37 cents), with the bend scaled to the receiver's bend range (default
+-2 semitones; :meth:`NoteOutput.send_bend_range` sets it on the receiver via RPN 0).
Pitch bend is per channel, so simultaneous notes with different detunings need their
own channels: pass several ``channels`` (e.g. 1-15 for an MPE lower zone) and each
note-on takes the next free one, round robin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dsp.bend import BEND_CENTER, bend_range_rpn, bend_value, split_pitch
from midi.clock import ClockOut
from midi.ports import OutputPort


@dataclass(frozen=True)
class Voice:
    """A sounding note: what :meth:`NoteOutput.note_off` needs to end it."""

    note: int
    channel: int
    pitch: float


class NoteOutput:
    """Sends microtonal notes through ``send`` (raw bytes of one message per call)."""

    def __init__(self, send: Callable[[Sequence[int]], None], *,
                 channels: Sequence[int] = (0,), bend_range_semitones: float = 2.0) -> None:
        if not channels or any(not 0 <= c <= 15 for c in channels):
            raise ValueError(f"channels {channels!r} must be a non-empty list of 0-15")
        if not bend_range_semitones > 0:
            raise ValueError("bend_range_semitones must be positive")
        self._send = send
        self.channels = tuple(channels)
        self.bend_range_semitones = float(bend_range_semitones)
        self._next = 0
        self._sounding: dict[int, Voice] = {}  # channel -> voice

    def note_on(self, pitch: float, velocity: int = 100) -> Voice:
        """Start a note at float MIDI ``pitch``; velocity 1-127. Returns its Voice.

        The bend goes out before the note-on so the note never starts out of tune.
        """
        velocity = min(max(int(velocity), 1), 127)
        note, bend = split_pitch(pitch, self.bend_range_semitones)
        channel = self._take_channel()
        self._send_bend(channel, bend)
        self._send([0x90 | channel, note, velocity])
        voice = Voice(note, channel, float(pitch))
        self._sounding[channel] = voice
        return voice

    def bend(self, voice: Voice, pitch: float) -> Voice:
        """Move sounding ``voice`` to float MIDI ``pitch`` with a pitch bend on its channel
        (capped at the bend range about its note). Returns the voice at its new pitch."""
        self._send_bend(voice.channel, bend_value(pitch - voice.note, self.bend_range_semitones))
        moved = Voice(voice.note, voice.channel, float(pitch))
        if self._sounding.get(voice.channel) == voice:
            self._sounding[voice.channel] = moved
        return moved

    def note_off(self, voice: Voice, velocity: int = 0) -> None:
        """End ``voice`` (release velocity 0-127)."""
        self._send([0x80 | voice.channel, voice.note, min(max(int(velocity), 0), 127)])
        if self._sounding.get(voice.channel) == voice:
            del self._sounding[voice.channel]

    def all_notes_off(self) -> None:
        """Note-off for every sounding voice, then All Notes Off (CC 123) per channel."""
        for voice in list(self._sounding.values()):
            self.note_off(voice)
        for ch in self.channels:
            self._send([0xB0 | ch, 123, 0])

    def send_bend_range(self) -> None:
        """Tell the receiver our bend range (RPN 0 on each channel), then RPN null."""
        for ch in self.channels:
            for cc, v in bend_range_rpn(self.bend_range_semitones):
                self._send([0xB0 | ch, cc, v])

    def _send_bend(self, channel: int, bend: int) -> None:
        value = bend + BEND_CENTER
        self._send([0xE0 | channel, value & 0x7F, value >> 7])

    def _take_channel(self) -> int:
        # round robin, preferring a channel with nothing sounding on it
        n = len(self.channels)
        for k in range(n):
            ch = self.channels[(self._next + k) % n]
            if ch not in self._sounding:
                self._next = (self._next + k + 1) % n
                return ch
        ch = self.channels[self._next]  # all busy: share the oldest channel in turn
        self._next = (self._next + 1) % n
        return ch


class MidiOutput:
    """An output port with microtonal notes and, optionally, MIDI clock out."""

    def __init__(self, port: OutputPort, *, channels: Sequence[int] = (0,),
                 bend_range_semitones: float = 2.0, clock_bpm: float | None = None) -> None:
        self.port = port
        self.notes = NoteOutput(port.send, channels=channels,
                                bend_range_semitones=bend_range_semitones)
        self.clock: ClockOut | None = None
        if clock_bpm is not None:
            self.start_clock(clock_bpm)

    def start_clock(self, bpm: float) -> ClockOut:
        """Start sending clock at ``bpm`` (sends Start); returns the ClockOut."""
        if self.clock is None:
            self.clock = ClockOut(self.port.send, bpm)
        self.clock.bpm = bpm
        self.clock.start()
        return self.clock

    def stop_clock(self) -> None:
        """Send Stop and end the clock thread."""
        if self.clock is not None:
            self.clock.stop()
            self.clock.close()
            self.clock = None

    def close(self) -> None:
        """Release notes, stop the clock, close the port."""
        try:
            self.notes.all_notes_off()
        finally:
            self.stop_clock()
            self.port.close()

    def __enter__(self) -> MidiOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
