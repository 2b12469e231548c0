"""A defensive MIDI byte-stream parser (running status, interleaved real-time, sysex).

``mido.Parser`` is not enough for raw streams (serial, network, files written by other
tools): it has no running status, and a real-time byte arriving inside a channel message
resets it, losing the message. This one follows the MIDI 1.0 rules:

- running status: data bytes after a complete channel message reuse its status;
- real-time bytes (0xF8-0xFF) may appear anywhere, even inside other messages, and are
  emitted at once without disturbing the message around them;
- a status byte in the middle of a message drops the truncated message;
- system common messages (0xF1-0xF6) and sysex cancel running status;
- sysex is kept up to ``max_sysex`` bytes, longer ones are dropped whole;
- undefined status bytes (0xF4, 0xF5, 0xF9, 0xFD) are ignored;
- stray data bytes with no status are ignored.

It never raises on any input: values outside 0..255 and non-integers are skipped.
Messages come out as tuples of ints (cheap, and what midi.dispatcher consumes).
"""

from __future__ import annotations

from collections.abc import Iterable

import mido

# Data bytes after each status (channel messages by high nibble, system common by byte).
_CHANNEL_DATA = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}
_COMMON_DATA = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0}
_REALTIME = frozenset((0xF8, 0xFA, 0xFB, 0xFC, 0xFE, 0xFF))


class MidiParser:
    """Bytes in, complete messages out; state carries across :meth:`feed` calls."""

    def __init__(self, max_sysex: int = 4096) -> None:
        self.max_sysex = max_sysex
        self.dropped = 0  # truncated, overlong or stray input, counted for diagnostics
        self.reset()

    def reset(self) -> None:
        """Forget running status and any partial message."""
        self._status = 0       # status of the message being collected (0: none)
        self._running = False  # whether _status may be reused (channel messages only)
        self._need = 0
        self._data: list[int] = []
        self._sysex: list[int] | None = None
        self._sysex_overflow = False

    def feed(self, data: Iterable[int] | bytes) -> list[tuple[int, ...]]:
        """Parse ``data``; returns the messages it completed, in order."""
        out: list[tuple[int, ...]] = []
        try:
            iterator = iter(data)
        except TypeError:
            return out
        for b in iterator:
            if not isinstance(b, int) or not 0 <= b <= 0xFF:
                self.dropped += 1
                continue
            self._byte(b, out)
        return out

    def _byte(self, b: int, out: list[tuple[int, ...]]) -> None:
        if b >= 0xF8:
            if b in _REALTIME:
                out.append((b,))
            return
        if b < 0x80:
            self._data_byte(b, out)
            return
        if self._sysex is not None:
            if b == 0xF7 and not self._sysex_overflow:
                self._sysex.append(b)
                out.append(tuple(self._sysex))
            elif b != 0xF7 or self._sysex_overflow:
                self.dropped += 1
            self._sysex = None
            if b == 0xF7:
                return
        elif self._status and self._data:
            self.dropped += 1  # a status byte cut the previous message short
        self._status, self._running, self._data = 0, False, []
        if b == 0xF0:
            self._sysex, self._sysex_overflow = [b], False
        elif b < 0xF0:
            self._status, self._running, self._need = b, True, _CHANNEL_DATA[b & 0xF0]
        elif b in _COMMON_DATA:
            if _COMMON_DATA[b] == 0:
                out.append((b,))
            else:
                self._status, self._need = b, _COMMON_DATA[b]
        # 0xF4, 0xF5 (undefined) and a lone 0xF7: ignored, running status already cleared

    def _data_byte(self, b: int, out: list[tuple[int, ...]]) -> None:
        if self._sysex is not None:
            if len(self._sysex) < self.max_sysex - 1:
                self._sysex.append(b)
            else:
                self._sysex_overflow = True
            return
        if not self._status:
            self.dropped += 1
            return
        self._data.append(b)
        if len(self._data) == self._need:
            out.append((self._status, *self._data))
            self._data = []
            if not self._running:
                self._status = 0


def to_message(raw: tuple[int, ...] | list[int]) -> mido.Message | None:
    """The mido message for a complete raw message, or None if mido rejects it."""
    try:
        return mido.Message.from_bytes(list(raw))
    except (ValueError, TypeError, KeyError):
        return None
