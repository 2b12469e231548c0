"""Channel messages -> control events: 14-bit CC pairs and NRPN/RPN state machines.

A MIDI controller value is not always one message: a 14-bit CC is an MSB on CC n and an
LSB on CC n + 32, an NRPN is a parameter selection (CC 99/98) followed by data entry
(CC 6/38) or increment/decrement (CC 96/97). This module keeps that per-channel state
and turns each message into zero or more :class:`midi.mapping.ControlEvent`.

Following the MIDI 1.0 spec, a new MSB resets the LSB to 0 (so an MSB alone is a valid
coarse value). Bank select (CC 0/32) and channel-mode messages (CC 120-127) produce no
control events: the dispatcher handles bank select itself.
"""

from __future__ import annotations

from midi.mapping import ControlEvent

_NONE, _NRPN, _RPN = 0, 1, 2


class ControlDecoder:
    """Per-channel decoding state; one instance per input stream, used by one thread."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every selection and pending MSB (e.g. after a port reconnects)."""
        self._cc14_msb = [[-1] * 32 for _ in range(16)]
        self._select = [_NONE] * 16
        self._param_msb = [0] * 16
        self._param_lsb = [0] * 16
        self._data_msb = [0] * 16

    def feed(self, status: int, d1: int, d2: int, defer_msb: bool = False) -> list[ControlEvent]:
        """Events for one channel message (``status`` 0x80-0xEF, data bytes 0-127).

        ``defer_msb``: the caller saw this CC's LSB queued right behind it; the 14-bit
        value is then emitted once, complete, on the LSB instead of twice.
        """
        kind, ch = status & 0xF0, status & 0x0F
        if kind == 0xB0:
            return self._control_change(ch, d1, d2, defer_msb)
        if kind == 0x90 or kind == 0x80:
            part = "on" if kind == 0x90 and d2 > 0 else "off"
            return [ControlEvent("note_gate", ch, d1, d2, part),
                    ControlEvent("note_velocity", ch, d1, d2, part)]
        if kind == 0xE0:
            return [ControlEvent("pitch_bend", ch, None, (d2 << 7) | d1, "abs")]
        if kind == 0xD0:
            return [ControlEvent("aftertouch", ch, None, d1, "abs")]
        if kind == 0xA0:
            return [ControlEvent("poly_aftertouch", ch, d1, d2, "abs")]
        return []  # program change: handled by the dispatcher

    def _control_change(self, ch: int, c: int, v: int, defer_msb: bool) -> list[ControlEvent]:
        if c == 0 or c == 32 or c >= 120:
            return []
        if c in (99, 98, 101, 100):
            self._select_parameter(ch, c, v)
            return []
        selected = self._select[ch]
        if selected != _NONE and c in (6, 38, 96, 97):
            if selected == _RPN:
                return []  # RPNs (bend range, tuning) are not mappable controls
            number = (self._param_msb[ch] << 7) | self._param_lsb[ch]
            if c == 6:
                self._data_msb[ch] = v
                return [ControlEvent("nrpn", ch, number, v << 7, "msb")]
            if c == 38:
                return [ControlEvent("nrpn", ch, number, (self._data_msb[ch] << 7) | v, "lsb")]
            # increment/decrement: the value byte is often 0 ("one step"), some devices
            # send a step count
            return [ControlEvent("nrpn", ch, number, max(v, 1), "inc" if c == 96 else "dec")]
        events = [ControlEvent("cc", ch, c, v, "abs")]
        if c < 32:
            self._cc14_msb[ch][c] = v
            if not defer_msb:
                events.append(ControlEvent("cc14", ch, c, v << 7, "msb"))
        elif c < 64:
            msb = self._cc14_msb[ch][c - 32]
            if msb >= 0:  # an LSB without an MSB has no value to refine
                events.append(ControlEvent("cc14", ch, c - 32, (msb << 7) | v, "lsb"))
        return events

    def _select_parameter(self, ch: int, c: int, v: int) -> None:
        if c in (99, 98):
            self._select[ch] = _NRPN
        else:
            self._select[ch] = _RPN
        if c in (99, 101):
            self._param_msb[ch] = v
        else:
            self._param_lsb[ch] = v
        self._data_msb[ch] = 0
        if self._select[ch] == _RPN and self._param_msb[ch] == 127 and self._param_lsb[ch] == 127:
            self._select[ch] = _NONE  # RPN null: data entry goes nowhere until reselected
