"""Routing of incoming MIDI: learn -> mapping table -> soft takeover -> the control API.

One :class:`MidiDispatcher` per input stream, called from one thread (midi.thread's MIDI
thread, or a test). Per message it:

1. hands system real-time bytes (clock, start/stop/continue) to the ClockIn;
2. offers channel messages to the Learner (which consumes them while armed);
3. tracks bank select (CC 0/32) and calls ``on_program(bank, program)`` on program change;
4. calls ``on_note(channel, note, velocity, on)`` for notes (channel 0..15);
5. decodes controls (14-bit pairs, NRPN) and, for each mapping they drive, converts,
   applies soft takeover and sets the target through the session's control API (the same
   call the console and the window make, so a value set by MIDI releases a macro driving
   that parameter too);
6. records the latency from the message's arrival timestamp to its last target set.

Nothing a message contains can raise out of :meth:`handle` or set a value outside the
registry range: malformed input is dropped and counted, conversions clamp, callback
errors are logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import mido
import numpy as np

from midi.clock import ClockIn, TapTempo
from midi.decode import ControlDecoder
from midi.learn import Learner
from midi.mapping import ControlEvent, Mapping, MappingTable
from midi.parser import MidiParser
from midi.takeover import SoftTakeover

TAP_TARGET = "tempo_tap"  # a mapping to this button taps the tempo (see _tap)

log = logging.getLogger(__name__)

# Data bytes per channel-message type (high nibble of the status byte).
_DATA_LEN = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}


class LatencyStats:
    """Arrival-to-target-set latencies: count, median and max over the last ``size``."""

    def __init__(self, size: int = 8192) -> None:
        self._ns = np.zeros(size, dtype=np.int64)
        self._lock = threading.Lock()
        self.count = 0
        self.max_ns = 0

    def record(self, ns: int) -> None:
        """Add one latency in nanoseconds."""
        with self._lock:
            self._ns[self.count % self._ns.shape[0]] = ns
            self.count += 1
            if ns > self.max_ns:
                self.max_ns = ns

    def snapshot(self) -> dict[str, float]:
        """``{"count", "median_us", "max_us"}`` (median over the last ``size`` records)."""
        with self._lock:
            n = min(self.count, self._ns.shape[0])
            window = self._ns[:n].copy()
            count, max_ns = self.count, self.max_ns
        median_us = float(np.median(window)) / 1e3 if n else 0.0
        return {"count": count, "median_us": median_us, "max_us": max_ns / 1e3}

    def reset(self) -> None:
        """Start counting again."""
        with self._lock:
            self.count = 0
            self.max_ns = 0


class Controls(Protocol):
    """What MIDI needs of the session's control API (``engine.session.controls.Controls``):
    the session hands it in, so ``midi`` never imports the engine."""

    def target(self, id_: str) -> float:
        """The parameter's target (what was last set), in its unit."""
        ...

    def set(self, id_: str, value: float) -> bool:
        """Set a target by hand: validated, and a macro driving it lets go."""
        ...


class MidiDispatcher:
    """Routes messages to ``controls`` (:class:`Controls`).

    Callbacks run on the MIDI thread: keep them short and thread-safe (e.g. post to a
    queue). ``program_channel``/``note_channel`` restrict them to one channel (None: all).
    """

    def __init__(self, controls: Controls, table: MappingTable | None = None, *,
                 learner: Learner | None = None, takeover: SoftTakeover | None = None,
                 clock: ClockIn | None = None,
                 on_program: Callable[[int, int], None] | None = None,
                 on_note: Callable[[int, int, int, bool], None] | None = None,
                 program_channel: int | None = None, note_channel: int | None = None) -> None:
        self.controls = controls
        self.table = table if table is not None else MappingTable()
        self.learner = learner
        self.takeover = takeover if takeover is not None else SoftTakeover()
        self.clock = clock
        self.tap_tempo = TapTempo()
        self.on_program = on_program
        self.on_note = on_note
        self.program_channel = program_channel
        self.note_channel = note_channel
        self.stats = LatencyStats()
        self.messages = 0   # messages handled (valid or not)
        self.dropped = 0    # malformed messages ignored
        self.sets = 0       # parameter targets set
        self.errors = 0     # exceptions caught (callbacks, controls)
        self._decoder = ControlDecoder()
        self._parser = MidiParser()
        self._bank_msb = [0] * 16
        self._bank_lsb = [0] * 16

    # --- entry points ---------------------------------------------------------------

    def handle(self, data: Sequence[int], t_ns: int | None = None, *,
               defer_msb: bool = False) -> int:
        """Route one complete message (raw bytes) that arrived at ``t_ns``
        (``time.perf_counter_ns``; default now). Returns how many targets it set."""
        if t_ns is None:
            t_ns = time.perf_counter_ns()
        self.messages += 1
        try:
            return self._handle(data, t_ns, defer_msb)
        except Exception:
            self.errors += 1
            log.exception("MIDI message %r could not be handled", data)
            return 0

    def handle_batch(self, batch: Sequence[tuple[Sequence[int], int]]) -> int:
        """Route messages that were queued together, each with its arrival time.

        A 14-bit MSB directly followed by its LSB is applied once, complete, on the LSB
        (instead of an MSB-only value and then the refined one).
        """
        total = 0
        last = len(batch) - 1
        for i, (data, t_ns) in enumerate(batch):
            defer = False
            if i < last and len(data) == 3 and data[0] & 0xF0 == 0xB0 and data[1] < 32:
                nxt = batch[i + 1][0]
                defer = (len(nxt) == 3 and nxt[0] == data[0] and nxt[1] == data[1] + 32
                         and self.table.has_cc14(data[0] & 0x0F, data[1]))
            total += self.handle(data, t_ns, defer_msb=defer)
        return total

    def handle_message(self, msg: mido.Message, t_ns: int | None = None) -> int:
        """Route one mido message."""
        return self.handle(msg.bytes(), t_ns)

    def feed_bytes(self, data: bytes | Sequence[int], t_ns: int | None = None) -> int:
        """Parse a raw byte stream (midi.parser) and route every complete message."""
        if t_ns is None:
            t_ns = time.perf_counter_ns()
        return self.handle_batch([(m, t_ns) for m in self._parser.feed(data)])

    def poll(self, t_ns: int | None = None) -> None:
        """Housekeeping between messages: learn's pair window and timeout."""
        if self.learner is not None:
            self.learner.poll(t_ns)

    def reset_state(self) -> None:
        """Forget partial 14-bit/NRPN state and parser state (after a reconnect)."""
        self._decoder.reset()
        self._parser.reset()

    def _follow_clock(self, status: int) -> None:
        # Once per beat (24 ticks) the tempo parameter follows the incoming clock, so LFOs
        # synced to tempo lock to the external sequencer.
        if status != 0xF8 or not self.clock.running:
            return
        bpm = self.clock.bpm
        if bpm is not None and self.clock.position_ticks % 24 == 0:
            self.controls.set("tempo_bpm", bpm)
            self.sets += 1

    # --- routing --------------------------------------------------------------------

    def _handle(self, data: Sequence[int], t_ns: int, defer_msb: bool) -> int:
        n = len(data)
        status = data[0] if n else 0
        if not 0x80 <= status <= 0xFF:
            self.dropped += 1
            return 0
        if status >= 0xF0:
            if self.clock is not None and status >= 0xF8:
                self.clock.feed(status, t_ns)
                self._follow_clock(status)
            return 0
        kind = status & 0xF0
        need = _DATA_LEN[kind]
        if n < need + 1 or any(not 0 <= b <= 0x7F for b in data[1:need + 1]):
            self.dropped += 1
            return 0
        d1 = data[1]
        d2 = data[2] if need == 2 else 0
        ch = status & 0x0F
        if self.learner is not None and self.learner.feed(data, t_ns):
            return 0
        if kind == 0xC0:
            self._program(ch, d1)
            return 0
        if kind == 0xB0 and (d1 == 0 or d1 == 32):
            if d1 == 0:
                self._bank_msb[ch] = d2
            else:
                self._bank_lsb[ch] = d2
            return 0
        if (kind == 0x90 or kind == 0x80) and self.on_note is not None:
            self._note(ch, d1, d2, kind == 0x90 and d2 > 0)
        table = self.table
        wrote = 0
        for ev in self._decoder.feed(status, d1, d2, defer_msb):
            for m in table.lookup(ev.kind, ev.channel, ev.number):
                wrote += self._apply(m, ev, t_ns)
        if wrote:
            self.sets += wrote
            self.stats.record(time.perf_counter_ns() - t_ns)
        return wrote

    def _apply(self, m: Mapping, ev: ControlEvent, ev_t_ns: int) -> int:
        controls, takeover = self.controls, self.takeover
        current = controls.target(m.target)
        ticks = m.ticks(ev)
        if ticks is not None:
            external = takeover.external_change(m, current)
            u = takeover.relative(m, ticks * m.step, m.position_of(current), external)
        else:
            u = m.position(ev)
            if u is None:
                return 0
            if m.is_relative:
                return 0  # relative mappings ignore the LSB halves of their source
            if m.takeover != "none":
                external = takeover.external_change(m, current)
                u = takeover.absolute(m, u, m.position_of(current), external)
                if u is None:
                    return 0
        value = m.value_at(u)
        if m.target == TAP_TARGET:
            value = float(value >= 0.5)  # a button: pressed or not
            if value and current < 0.5:
                self._tap(ev_t_ns)
        try:
            controls.set(m.target, value)
        except (KeyError, ValueError):
            self.errors += 1
            log.exception("MIDI could not set %s=%r", m.target, value)
            return 0
        takeover.wrote(m, value)
        return 1

    def _tap(self, t_ns: int) -> None:
        # taps are timed by the message's arrival stamp, not by when this thread got to it
        bpm = self.tap_tempo.tap(t_ns * 1e-9)
        if bpm is not None:
            self.controls.set("tempo_bpm", bpm)
            self.sets += 1

    def _program(self, ch: int, program: int) -> None:
        if self.on_program is None:
            return
        if self.program_channel is not None and ch != self.program_channel:
            return
        bank = (self._bank_msb[ch] << 7) | self._bank_lsb[ch]
        try:
            self.on_program(bank, program)
        except Exception:
            self.errors += 1
            log.exception("on_program(%d, %d) failed", bank, program)

    def _note(self, ch: int, note: int, velocity: int, on: bool) -> None:
        if self.note_channel is not None and ch != self.note_channel:
            return
        try:
            self.on_note(ch, note, velocity, on)
        except Exception:
            self.errors += 1
            log.exception("on_note(%d, %d, %s) failed", note, velocity, on)
