"""MIDI mappings: which control drives which registry parameter, and how.

A :class:`Mapping` is a plain frozen dataclass that round-trips through JSON exactly.
Its ``min_frac``/``max_frac`` are **fractions (0..1) of the target's registry range in
normalised position** (after the registry curve), never values in the unit: a mapping
then stays valid if the registry range changes, and ranges live only in the registry.

Value path for an absolute control (all steps clamp, so nothing leaves the range)::

    raw message value -> r in [0, 1] -> invert (1 - r) -> u (controller position)
    u -> mapping curve -> min_frac + (max_frac - min_frac) * s -> n (normalised position)
    n -> registry curve and range (midi.convert.from_normalized) -> value in the unit

Relative (endless encoder) controls move ``u`` by ``ticks * step`` from where the
parameter is now (see midi.takeover for the accumulator).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

from dsp.errors import InputError, did_you_mean
from dsp.io.atomic import atomic_path
from dsp.io.jsonfile import read_json
from midi.convert import clamp01, from_normalized, to_normalized
from presets.chains import FX_ID
from presets.curves import CURVES, shape, unshape
from presets.registry import INDEX, Param, param


class MappingError(InputError, ValueError):
    """A mapping file that cannot be used; the message names the file and the problem."""

SCHEMA_VERSION = 1

KINDS = ("cc", "cc14", "nrpn", "note_gate", "note_velocity", "pitch_bend", "aftertouch",
         "poly_aftertouch")
NOTE_KINDS = ("note_gate", "note_velocity")

# Endless-encoder encodings of a signed tick count in one 7-bit value:
# twos_complement: 1..63 = +1..+63, 127..64 = -1..-64 (Ableton "Two's Complement")
# signed_bit:      sign-magnitude, bit 6 set = negative: 1..63 = +n, 65..127 = -(v - 64)
#                  (Ableton "Signed Bit")
# signed_bit_2:    sign-magnitude, bit 6 set = positive: 65..127 = +(v - 64), 1..63 = -v
#                  (Ableton "Signed Bit 2"; both conventions exist in hardware)
# binary_offset:   v - 64: 65 = +1, 63 = -1 (Ableton "Bin Offset")
RELATIVE_MODES = ("absolute", "twos_complement", "signed_bit", "signed_bit_2", "binary_offset")
RELATIVE_KINDS = ("cc", "nrpn")

TAKEOVER_MODES = ("none", "pickup", "scale")

# Largest raw value per event kind (the resolution the source is normalised by).
FULL_SCALE = {"cc": 127, "cc14": 16383, "nrpn": 16383, "note_gate": 127, "note_velocity": 127,
              "pitch_bend": 16383, "aftertouch": 127, "poly_aftertouch": 127}

# What the ``number`` of a mapping means per kind, and its allowed range (None: no number).
_NUMBER_RANGE = {"cc": (0, 127), "cc14": (0, 31), "nrpn": (0, 16383), "note_gate": (0, 127),
                 "note_velocity": (0, 127), "pitch_bend": None, "aftertouch": None,
                 "poly_aftertouch": (0, 127)}
# Kinds whose number may be left out to mean "any" (any note).
_NUMBER_OPTIONAL = ("note_gate", "note_velocity", "poly_aftertouch")


class ControlEvent(NamedTuple):
    """One decoded control change, as produced by midi.decode.ControlDecoder.

    ``value`` is raw (0..FULL_SCALE[kind]) for absolute parts, a tick count for
    ``inc``/``dec``. ``part`` says which message produced it: ``abs`` (a complete value),
    ``msb``/``lsb`` (one half of a 14-bit value), ``on``/``off`` (notes), ``inc``/``dec``
    (NRPN data increment/decrement).
    """

    kind: str
    channel: int
    number: int | None
    value: int
    part: str


def decode_relative(mode: str, value: int) -> int:
    """Signed tick count encoded in a 7-bit ``value`` by relative ``mode`` (see above)."""
    value &= 0x7F
    if mode == "twos_complement":
        return value - 128 if value >= 64 else value
    if mode == "signed_bit":
        return -(value & 0x3F) if value & 0x40 else value
    if mode == "signed_bit_2":
        return (value & 0x3F) if value & 0x40 else -value
    if mode == "binary_offset":
        return value - 64
    raise ValueError(f"relative mode {mode!r} not one of {RELATIVE_MODES[1:]}")


def encode_relative(mode: str, ticks: int) -> int:
    """7-bit value that encodes ``ticks`` in ``mode`` (clamped to what it can carry)."""
    if mode == "twos_complement":
        return max(-64, min(63, ticks)) & 0x7F
    if mode == "signed_bit":
        t = max(-63, min(63, ticks))
        return 0x40 | -t if t < 0 else t
    if mode == "signed_bit_2":
        t = max(-63, min(63, ticks))
        return 0x40 | t if t > 0 else -t
    if mode == "binary_offset":
        return max(-64, min(63, ticks)) + 64
    raise ValueError(f"relative mode {mode!r} not one of {RELATIVE_MODES[1:]}")


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_unit_float(x: object) -> bool:
    return (isinstance(x, (int, float)) and not isinstance(x, bool)
            and math.isfinite(x) and 0.0 <= x <= 1.0)


@dataclass(frozen=True)
class Mapping:
    """One control -> one registry parameter.

    target:   registry id (``presets.registry``), e.g. ``"master_gain_db"``.
    kind:     one of KINDS. ``cc14``: MSB on CC ``number`` (0-31), LSB on ``number + 32``.
              ``nrpn``: parameter ``number`` (0-16383) selected with CC 99/98, data entry
              CC 6/38, increment/decrement CC 96/97. ``note_gate``: note on -> top of the
              range, note off -> bottom. ``note_velocity``: note-on velocity.
    number:   CC, NRPN parameter or note number; ``None`` for pitch bend and channel
              aftertouch, or for "any note" with the note and poly-aftertouch kinds.
    channel:  0-15, or ``None`` for any channel.
    min_frac, max_frac: the part of the target's normalised range the control sweeps,
              fractions 0..1 (``max_frac < min_frac`` is allowed and reverses direction).
    curve:    response of the control (``presets.curves``, as a macro's): ``lin``, ``log``
              (y = sqrt(x), fast at first) or ``exp`` (y = x**2, slow at first), applied
              before the registry's own range curve.
    invert:   reverse the control (top of travel -> bottom of the range).
    relative: ``absolute`` or an endless-encoder encoding (cc and nrpn data entry only).
    step:     controller travel per encoder tick (and per NRPN increment), fraction 0..1.
    takeover: soft takeover for absolute controls: ``none``, ``pickup`` or ``scale``.
    fine:     nrpn only: 14-bit data entry (MSB + LSB); False uses the MSB alone (7-bit).
    """

    target: str
    kind: str
    number: int | None = None
    channel: int | None = None
    min_frac: float = 0.0
    max_frac: float = 1.0
    curve: str = "lin"
    invert: bool = False
    relative: str = "absolute"
    step: float = 1.0 / 127.0
    takeover: str = "none"
    fine: bool = True

    def __post_init__(self) -> None:
        # a plugin's parameter (fx_<slot><n>_<symbol>) is known once its plugin loads
        if self.target not in INDEX and not FX_ID.match(self.target):
            raise ValueError(f"unknown target {self.target!r}{did_you_mean(self.target, INDEX)}")
        if self.kind not in KINDS:
            raise ValueError(f"kind {self.kind!r} not one of {KINDS}")
        allowed = _NUMBER_RANGE[self.kind]
        if allowed is None:
            if self.number is not None:
                raise ValueError(f"{self.kind} mappings take no number (got {self.number!r})")
        elif self.number is None:
            if self.kind not in _NUMBER_OPTIONAL:
                raise ValueError(f"{self.kind} mapping needs a number in {allowed}")
        elif not (_is_int(self.number) and allowed[0] <= self.number <= allowed[1]):
            raise ValueError(f"{self.kind} number {self.number!r} not in {allowed}")
        if self.channel is not None and not (_is_int(self.channel) and 0 <= self.channel <= 15):
            raise ValueError(f"channel {self.channel!r} not in 0..15 (or None for any)")
        for name in ("min_frac", "max_frac"):
            if not _is_unit_float(getattr(self, name)):
                raise ValueError(f"{name}={getattr(self, name)!r} must be a fraction in [0, 1]")
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.curve not in CURVES:
            raise ValueError(f"curve {self.curve!r} not one of {CURVES}")
        for name in ("invert", "fine"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false")
        if self.relative not in RELATIVE_MODES:
            raise ValueError(f"relative {self.relative!r} not one of {RELATIVE_MODES}")
        if self.relative != "absolute" and self.kind not in RELATIVE_KINDS:
            raise ValueError(f"relative modes apply to {RELATIVE_KINDS} mappings, not {self.kind}")
        if not (_is_unit_float(self.step) and self.step > 0.0):
            raise ValueError(f"step={self.step!r} must be a fraction in (0, 1]")
        object.__setattr__(self, "step", float(self.step))
        if self.takeover not in TAKEOVER_MODES:
            raise ValueError(f"takeover {self.takeover!r} not one of {TAKEOVER_MODES}")

    # --- identity -------------------------------------------------------------------

    @property
    def source(self) -> tuple[str, int | None, int | None]:
        """``(kind, channel, number)``: what the table indexes this mapping by."""
        return (self.kind, self.channel, self.number)

    @property
    def param(self) -> Param:
        """The target's registry entry (range, unit, curve)."""
        return param(self.target)

    @property
    def is_relative(self) -> bool:
        """True for endless-encoder mappings (absolute controls use soft takeover)."""
        return self.relative != "absolute"

    # --- value conversion -----------------------------------------------------------

    def position(self, ev: ControlEvent) -> float | None:
        """Controller position ``u`` in [0, 1] for an absolute event (None: not for us)."""
        kind, part = self.kind, ev.part
        if kind == "note_gate":
            r = 1.0 if part == "on" else 0.0
        elif kind == "note_velocity":
            if part != "on":
                return None  # note off carries release velocity: do not move the target
            r = ev.value / 127.0
        elif kind == "nrpn":
            if part in ("inc", "dec"):
                return None
            if not self.fine:
                if part != "msb":
                    return None
                r = (ev.value >> 7) / 127.0
            else:
                r = ev.value / 16383.0
        elif kind == "pitch_bend":
            # the wheel springs back to 8192: make that exactly the middle (a plain
            # v / 16383 would leave a centred pan at +0.00006)
            v = ev.value
            r = v / 16384.0 if v <= 8192 else 0.5 + (v - 8192) / 16382.0
        else:
            r = ev.value / FULL_SCALE[kind]
        r = clamp01(r)
        return 1.0 - r if self.invert else r

    def ticks(self, ev: ControlEvent) -> int | None:
        """Signed encoder ticks carried by a relative event (None: not a relative event)."""
        if ev.part in ("inc", "dec"):
            t = ev.value if ev.part == "inc" else -ev.value
        elif self.is_relative and ev.part in ("abs", "msb"):
            t = decode_relative(self.relative, ev.value >> 7 if ev.part == "msb" else ev.value)
        else:
            return None
        return -t if self.invert else t

    def value_at(self, u: float) -> float:
        """Target value (registry unit) for controller position ``u`` (clamped)."""
        n = self.min_frac + (self.max_frac - self.min_frac) * shape(self.curve, u)
        return from_normalized(self.param, n)

    def position_of(self, value: float) -> float:
        """Controller position ``u`` in [0, 1] that gives ``value`` (clamped; inverse of
        :meth:`value_at` inside the mapping's range)."""
        span = self.max_frac - self.min_frac
        if span == 0.0:
            return 0.0
        n = to_normalized(self.param, value)
        return unshape(self.curve, clamp01((n - self.min_frac) / span))

    # --- JSON -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (JSON-safe)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Mapping:
        """Inverse of :meth:`to_dict`; unknown keys and bad values raise ValueError."""
        if not isinstance(d, dict):
            raise ValueError(f"a mapping must be a JSON object, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown mapping field(s) {sorted(unknown)}; known: {sorted(known)}")
        for required in ("target", "kind"):
            if required not in d:
                raise ValueError(f"mapping is missing {required!r}")
        return cls(**d)


_EMPTY: tuple[Mapping, ...] = ()


class MappingTable:
    """The set of mappings, indexed for lookup by incoming control.

    Mutations (GUI, learn) take a lock and publish a fresh index dict; the MIDI thread's
    lookups read whichever index is current without locking (a dict swap is atomic).
    """

    def __init__(self, mappings: Iterable[Mapping] = ()) -> None:
        self._lock = threading.Lock()
        self._mappings: list[Mapping] = []
        self._index: dict[tuple, tuple[Mapping, ...]] = {}
        for m in mappings:
            self.add(m)

    # --- editing --------------------------------------------------------------------

    def add(self, m: Mapping) -> Mapping:
        """Add ``m`` (an identical mapping already present is not added twice)."""
        if not isinstance(m, Mapping):
            raise TypeError(f"expected a Mapping, got {type(m).__name__}")
        with self._lock:
            if m not in self._mappings:
                self._mappings.append(m)
                self._reindex()
        return m

    def remove(self, m: Mapping) -> bool:
        """Remove ``m``; False if it was not there."""
        with self._lock:
            if m not in self._mappings:
                return False
            self._mappings.remove(m)
            self._reindex()
            return True

    def remove_target(self, target: str) -> int:
        """Remove every mapping to ``target``; returns how many."""
        return self._remove_where(lambda m: m.target == target)

    def remove_source(self, kind: str, channel: int | None, number: int | None) -> int:
        """Remove every mapping from exactly this source; returns how many."""
        return self._remove_where(lambda m: m.source == (kind, channel, number))

    def clear(self) -> None:
        """Remove every mapping."""
        self._remove_where(lambda m: True)

    def _remove_where(self, pred) -> int:
        with self._lock:
            keep = [m for m in self._mappings if not pred(m)]
            removed = len(self._mappings) - len(keep)
            if removed:
                self._mappings = keep
                self._reindex()
            return removed

    def _reindex(self) -> None:
        index: dict[tuple, list[Mapping]] = {}
        for m in self._mappings:
            index.setdefault(m.source, []).append(m)
        self._index = {k: tuple(v) for k, v in index.items()}

    # --- reading --------------------------------------------------------------------

    def list(self) -> list[Mapping]:
        """The mappings, in the order they were added."""
        return list(self._mappings)

    def __iter__(self) -> Iterator[Mapping]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self._mappings)

    def __contains__(self, m: object) -> bool:
        return m in self._mappings

    def for_target(self, target: str) -> list[Mapping]:
        """Mappings that drive ``target``."""
        return [m for m in self._mappings if m.target == target]

    def lookup(self, kind: str, channel: int, number: int | None) -> tuple[Mapping, ...]:
        """Mappings for a control on ``channel`` (exact channel and "any" channel,
        exact number and "any" number)."""
        index = self._index  # one read: a concurrent edit swaps the whole dict
        if not index:
            return _EMPTY
        get = index.get
        found = get((kind, channel, number), _EMPTY) + get((kind, None, number), _EMPTY)
        if number is not None and kind in _NUMBER_OPTIONAL:
            found += get((kind, channel, None), _EMPTY) + get((kind, None, None), _EMPTY)
        return found

    def lookup_event(self, ev: ControlEvent) -> tuple[Mapping, ...]:
        """Mappings an event from midi.decode drives."""
        return self.lookup(ev.kind, ev.channel, ev.number)

    def lookup_message(self, msg) -> tuple[Mapping, ...]:
        """Mappings a single mido message can drive on its own.

        A CC finds its 7-bit mappings and the 14-bit mapping it is the MSB or LSB of.
        NRPN mappings need the whole CC 99/98/6/38 sequence, so they are found through
        midi.decode, not here.
        """
        t, ch = msg.type, getattr(msg, "channel", 0)
        if t == "control_change":
            c = msg.control
            found = self.lookup("cc", ch, c)
            if c < 64:
                found += self.lookup("cc14", ch, c % 32)
            return found
        if t in ("note_on", "note_off"):
            return self.lookup("note_gate", ch, msg.note) + self.lookup("note_velocity", ch,
                                                                        msg.note)
        if t == "pitchwheel":
            return self.lookup("pitch_bend", ch, None)
        if t == "aftertouch":
            return self.lookup("aftertouch", ch, None)
        if t == "polytouch":
            return self.lookup("poly_aftertouch", ch, msg.note)
        return _EMPTY

    def has_cc14(self, channel: int, msb_cc: int) -> bool:
        """True if some 14-bit mapping listens to CC ``msb_cc`` (0-31) on ``channel``."""
        index = self._index
        return ("cc14", channel, msb_cc) in index or ("cc14", None, msb_cc) in index

    # --- persistence ----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """``{"schema_version": 1, "mappings": [...]}``, for a file or inside a preset."""
        return {"schema_version": SCHEMA_VERSION, "mappings": [m.to_dict() for m in self.list()]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MappingTable:
        """Inverse of :meth:`to_dict`; raises ValueError naming the bad entry."""
        if not isinstance(d, dict):
            raise ValueError("a mapping table must be a JSON object")
        version = d.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"mapping schema_version {version!r} not supported "
                             f"(this build reads {SCHEMA_VERSION})")
        entries = d.get("mappings", [])
        if not isinstance(entries, list):
            raise ValueError("'mappings' must be a list")
        table = cls()
        for i, entry in enumerate(entries):
            try:
                table.add(Mapping.from_dict(entry))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"mapping #{i}: {exc}") from None
        return table

    def save(self, path: Path | str) -> None:
        """Write the table as JSON (atomically: a crash never leaves half a file)."""
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path | str) -> MappingTable:
        """Read a file written by :meth:`save`; MappingError names the file and the problem
        in one line (a missing, oversized, deeply nested or broken file included)."""
        data = read_json(path)  # JsonFileError: one line naming the file
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise MappingError(f"{path}: {exc}") from None
