"""MIDI learn: arm a registry parameter, move a control, get a mapping.

The next suitable control on any channel becomes the mapping's source:

- CC 1-31 followed within ``pair_window_s`` by its LSB (CC n + 32) -> ``cc14``; an MSB
  with no LSB in that window -> 7-bit ``cc``. Other CCs -> ``cc``.
- data entry (CC 6, optionally 38) or increment/decrement (CC 96/97) after an NRPN
  selection (CC 99/98) -> ``nrpn`` (fine if CC 38 followed CC 6 within the window).
- note on -> ``note_gate`` (or ``note_velocity``, chosen when arming), pitch bend,
  channel aftertouch, poly aftertouch.

Bank select (CC 0/32), RPN data entry and channel-mode messages (CC 120-127) are never
learned. While armed, control messages are consumed (they do not also move mapped
parameters); program changes pass through. The new mapping replaces any mapping from
the same control (same kind and number, on this channel or on any channel); other
controls mapped to the target are kept. Arming, cancelling and unlearning may happen on
any thread; feeding and polling on the MIDI thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from midi.mapping import RELATIVE_KINDS, Mapping, MappingTable

log = logging.getLogger(__name__)

# Mapping fields a caller may preset when arming (the source fields come from the MIDI).
TEMPLATE_FIELDS = ("min_frac", "max_frac", "curve", "invert", "relative", "step", "takeover")


@dataclass(frozen=True)
class LearnResult:
    """How a learn ended: ``reason`` is ``learned``, ``timeout`` or ``cancelled``."""

    target: str
    mapping: Mapping | None
    reason: str


@dataclass
class _Pending:
    kind: str      # "cc" (MSB waiting for an LSB) or "nrpn" (data MSB waiting for CC 38)
    channel: int
    number: int
    t_ns: int


class Learner:
    """The learn state machine. ``on_result`` is called on the thread that ends the learn."""

    def __init__(self, table: MappingTable, *, pair_window_s: float = 0.02,
                 on_result: Callable[[LearnResult], None] | None = None) -> None:
        self.table = table
        self.pair_window_ns = int(pair_window_s * 1e9)
        self.on_result = on_result
        self.last_result: LearnResult | None = None
        # re-entrant: an on_result callback may arm the next target
        self._lock = threading.RLock()
        self._target: str | None = None
        self._template: dict[str, Any] = {}
        self._note_kind = "note_gate"
        self._deadline_ns = 0
        self._pending: _Pending | None = None
        # NRPN/RPN selection per channel, tracked even while disarmed: controllers often
        # select once and then send only data entry.
        self._nrpn: list[int | None] = [None] * 16
        self._nrpn_msb = [0] * 16
        self._nrpn_lsb = [0] * 16

    @property
    def armed(self) -> str | None:
        """The target waiting for a control, or None."""
        return self._target

    def arm(self, target: str, timeout_s: float = 10.0, *, note_kind: str = "note_gate",
            **template: Any) -> None:
        """Wait up to ``timeout_s`` seconds for a control for registry id ``target``.

        ``template``: mapping fields to give the new mapping (see TEMPLATE_FIELDS), e.g.
        ``takeover="pickup"`` or ``relative="twos_complement"`` (dropped where the learned
        kind cannot be relative). Raises ValueError for an unknown target or bad field.
        """
        bad = set(template) - set(TEMPLATE_FIELDS)
        if bad:
            raise ValueError(f"cannot preset {sorted(bad)} when learning; allowed: "
                             f"{TEMPLATE_FIELDS}")
        if note_kind not in ("note_gate", "note_velocity"):
            raise ValueError(f"note_kind {note_kind!r} must be note_gate or note_velocity")
        Mapping(target, "cc", 0, **template)  # validates target and fields now, not later
        with self._lock:
            if self._target is not None:
                self._finish(None, "cancelled")
            self._target = target
            self._template = dict(template)
            self._note_kind = note_kind
            self._deadline_ns = time.perf_counter_ns() + int(timeout_s * 1e9)
            self._pending = None

    def cancel(self) -> None:
        """Stop waiting (a learn in progress reports ``cancelled``)."""
        with self._lock:
            if self._target is not None:
                self._finish(None, "cancelled")

    def unlearn(self, target: str) -> int:
        """Remove every mapping to ``target``; returns how many."""
        return self.table.remove_target(target)

    def poll(self, t_ns: int | None = None) -> None:
        """Complete a lone MSB after the pair window, and time out (call regularly)."""
        if self._target is None:
            return
        t_ns = time.perf_counter_ns() if t_ns is None else t_ns
        with self._lock:
            self._expire(t_ns)

    def _expire(self, t_ns: int) -> None:
        if self._target is None:
            return
        p = self._pending
        if p is not None and t_ns - p.t_ns > self.pair_window_ns:
            self._complete_pending(coarse=True)
        elif t_ns > self._deadline_ns:
            self._finish(None, "timeout")

    def feed(self, data: Sequence[int], t_ns: int) -> bool:
        """Look at one complete channel message; True if learn consumed it."""
        status = data[0]
        kind, ch = status & 0xF0, status & 0x0F
        if kind == 0xB0 and data[1] in (99, 98, 101, 100):
            self._track_selection(ch, data[1], data[2])
            return self._target is not None
        if self._target is None:
            return False
        with self._lock:
            self._expire(t_ns)
            if self._target is None:
                return False
            if self._pending is not None:
                return self._pair(kind, ch, data, t_ns)
            return self._candidate(kind, ch, data, t_ns)

    # --- internals (called with the lock held) ---------------------------------------

    def _track_selection(self, ch: int, c: int, v: int) -> None:
        if c in (99, 101):
            self._nrpn_msb[ch] = v
        else:
            self._nrpn_lsb[ch] = v
        is_nrpn = c in (99, 98)
        null = not is_nrpn and self._nrpn_msb[ch] == 127 and self._nrpn_lsb[ch] == 127
        self._nrpn[ch] = None if null else (1 if is_nrpn else 0)

    def _pair(self, kind: int, ch: int, data: Sequence[int], t_ns: int) -> bool:
        p = self._pending
        assert p is not None
        if kind == 0xB0 and ch == p.channel and t_ns - p.t_ns <= self.pair_window_ns:
            c = data[1]
            if p.kind == "cc" and c == p.number + 32:
                self._pending = None
                self._learn("cc14", ch, p.number)
                return True
            if p.kind == "nrpn" and c == 38:
                self._complete_pending(coarse=False)
                return True
        # anything else: the MSB was a 7-bit control after all; this message is routed
        self._complete_pending(coarse=True)
        return False

    def _complete_pending(self, coarse: bool) -> None:
        p = self._pending
        self._pending = None
        if p is None:
            return
        if p.kind == "cc":
            self._learn("cc", p.channel, p.number)
        else:
            self._learn("nrpn", p.channel, p.number, fine=not coarse)

    def _candidate(self, kind: int, ch: int, data: Sequence[int], t_ns: int) -> bool:
        if kind == 0xB0:
            c = data[1]
            if c in (0, 32) or c >= 120:
                return True  # bank select and channel mode: never learned
            selected = self._nrpn[ch]
            if selected is not None and c in (6, 38, 96, 97):
                if selected == 0:
                    return True  # RPN data entry: not a control
                number = (self._nrpn_msb[ch] << 7) | self._nrpn_lsb[ch]
                if c == 6:
                    self._pending = _Pending("nrpn", ch, number, t_ns)
                else:
                    self._learn("nrpn", ch, number, fine=True)
                return True
            if c < 32:
                self._pending = _Pending("cc", ch, c, t_ns)
            else:
                self._learn("cc", ch, c)
            return True
        if kind == 0x90 and data[2] > 0:
            self._learn(self._note_kind, ch, data[1])
        elif kind == 0xE0:
            self._learn("pitch_bend", ch, None)
        elif kind == 0xD0:
            self._learn("aftertouch", ch, None)
        elif kind == 0xA0:
            self._learn("poly_aftertouch", ch, data[1])
        elif kind == 0xC0:
            return False  # program change keeps working while learning
        return True  # note offs and the like: swallowed while armed

    def _learn(self, kind: str, ch: int, number: int | None, **extra: Any) -> None:
        template = dict(self._template)
        if kind not in RELATIVE_KINDS:
            template.pop("relative", None)
        mapping = Mapping(self._target, kind, number, ch, **template, **extra)  # type: ignore[arg-type]
        # replace whatever this control drove: same kind and number, this channel or any
        for old in self.table.list():
            if old.kind == kind and old.number == number and old.channel in (ch, None):
                self.table.remove(old)
        self.table.add(mapping)
        self._finish(mapping, "learned")

    def _finish(self, mapping: Mapping | None, reason: str) -> None:
        result = LearnResult(self._target or "", mapping, reason)
        self._target = None
        self._pending = None
        self.last_result = result
        log.info("MIDI learn %s: %s%s", reason, result.target,
                 f" <- {mapping.source}" if mapping else "")
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:  # a GUI callback must not break the MIDI thread
                log.exception("MIDI learn on_result callback failed")
