"""The Continuo representation: a Document of Streams of Notes, continuous and microtonal.

A :class:`Note` has an onset and offset (s), a pitch curve in float MIDI (breakpoints
``(time_s, pitch)``, linear between them, held before the first and after the last), a
dynamics curve (``(time_s, level)``, level 0…1, same interpolation), a velocity in (0, 1]
and an optional articulation. A :class:`Stream` is one instrument or voice: its notes and
the :class:`InstrumentProfile` that says which channels they carry (a piano's pitch does
not move within a note; a voice's, violin's or flute's does, and so does its dynamics) and
whether notes may overlap.

``.cont`` files are versioned JSON (``schema_version``); :func:`load` checks every field
and an error names the file and the field (``streams[0].notes[3].pitch[1]: ...``).
:func:`save` writes atomically, and ``load(save(doc)) == doc`` exactly (floats are written
as their shortest round-trip form).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from dsp.errors import InputError
from dsp.io.atomic import atomic_path
from dsp.io.jsonfile import JsonFileError, read_json

SCHEMA_VERSION = 1
ARTICULATIONS = ("legato", "staccato", "accent", "slide", "tremolo")
MAX_FILE_BYTES = 64 * 1024 * 1024


class ContError(InputError, ValueError):
    """A ``.cont`` document that cannot be read or breaks the schema (field named)."""


@dataclass(frozen=True)
class InstrumentProfile:
    name: str
    pitch_curve: bool  # the pitch may move within a note (bends, vibrato, slides)
    dynamics_curve: bool  # the level may move within a note (swells, tremolo)
    polyphonic: bool  # notes may overlap
    low: float  # float MIDI range
    high: float


PROFILES: dict[str, InstrumentProfile] = {p.name: p for p in (
    InstrumentProfile("voice", True, True, False, 36.0, 96.0),
    InstrumentProfile("piano", False, False, True, 21.0, 108.0),
    InstrumentProfile("guitar", True, False, True, 40.0, 88.0),
    InstrumentProfile("violin", True, True, False, 55.0, 103.0),
    InstrumentProfile("flute", True, True, False, 60.0, 98.0),
    # what the transcriber's "auto" hears: any instrument, so nothing is ruled out
    InstrumentProfile("auto", True, True, True, 21.0, 108.0),
)}


def _interpolate(curve: list[tuple[float, float]], t_s: float) -> float:
    if t_s <= curve[0][0]:
        return curve[0][1]
    for (t0, v0), (t1, v1) in zip(curve[:-1], curve[1:], strict=True):
        if t_s <= t1:
            return v0 if t1 == t0 else v0 + (v1 - v0) * (t_s - t0) / (t1 - t0)
    return curve[-1][1]


@dataclass
class Note:
    onset_s: float
    offset_s: float
    pitch: list[tuple[float, float]]  # (time_s, float MIDI) breakpoints, times ascending
    velocity: float = 0.8
    dynamics: list[tuple[float, float]] = field(default_factory=list)  # (time_s, 0..1)
    articulation: str | None = None

    def pitch_at(self, t_s: float) -> float:
        return _interpolate(self.pitch, t_s)

    def level_at(self, t_s: float) -> float:
        """The dynamics curve at ``t_s``; the velocity where the note has no curve."""
        return _interpolate(self.dynamics, t_s) if self.dynamics else self.velocity


@dataclass
class Stream:
    name: str
    instrument: str
    notes: list[Note] = field(default_factory=list)

    @property
    def profile(self) -> InstrumentProfile:
        return PROFILES[self.instrument]


@dataclass
class Document:
    streams: list[Stream] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "streams": [
            {"name": s.name, "instrument": s.instrument, "notes": [_note_json(n) for n in s.notes]}
            for s in self.streams]}


def _note_json(n: Note) -> dict:
    out = {"onset_s": n.onset_s, "offset_s": n.offset_s, "velocity": n.velocity,
           "pitch": [list(p) for p in n.pitch]}
    if n.dynamics:
        out["dynamics"] = [list(d) for d in n.dynamics]
    if n.articulation is not None:
        out["articulation"] = n.articulation
    return out


def _number(where: str, value: object, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ContError(f"{where}: {value!r} is not a finite number")
    if not low <= value <= high:
        raise ContError(f"{where}: {value} outside {low:g}…{high:g}")
    return float(value)


def _keys(where: str, d: object, required: set[str], optional: set[str] = frozenset()) -> dict:
    if not isinstance(d, dict):
        raise ContError(f"{where}: expected an object")
    missing = required - set(d)
    if missing:
        raise ContError(f"{where}.{sorted(missing)[0]}: missing")
    extra = set(d) - required - set(optional)
    if extra:
        raise ContError(f"{where}.{sorted(extra)[0]}: unknown field")
    return d


def _curve(where: str, value: object, onset: float, offset: float, low: float, high: float
           ) -> list[tuple[float, float]]:
    if not isinstance(value, list) or not value:
        raise ContError(f"{where}: expected a non-empty list of [time_s, value]")
    out: list[tuple[float, float]] = []
    for k, point in enumerate(value):
        at = f"{where}[{k}]"
        if not isinstance(point, list) or len(point) != 2:
            raise ContError(f"{at}: expected [time_s, value]")
        t = _number(at, point[0], onset, offset)
        if out and t < out[-1][0]:
            raise ContError(f"{at}: time {t} before the previous breakpoint's {out[-1][0]}")
        out.append((t, _number(at, point[1], low, high)))
    return out


def _note(where: str, d: object, profile: InstrumentProfile) -> Note:
    d = _keys(where, d, {"onset_s", "offset_s", "velocity", "pitch"},
              {"dynamics", "articulation"})
    onset = _number(f"{where}.onset_s", d["onset_s"], 0.0)
    offset = _number(f"{where}.offset_s", d["offset_s"], 0.0)
    if not offset > onset:
        raise ContError(f"{where}.offset_s: {offset} is not after the onset {onset}")
    pitch = _curve(f"{where}.pitch", d["pitch"], onset, offset, 0.0, 127.0)
    if not profile.pitch_curve and len({p for _, p in pitch}) > 1:
        raise ContError(f"{where}.pitch: a {profile.name} note holds one pitch")
    dynamics = []
    if "dynamics" in d:
        if not profile.dynamics_curve:
            raise ContError(f"{where}.dynamics: a {profile.name} stream carries no dynamics")
        dynamics = _curve(f"{where}.dynamics", d["dynamics"], onset, offset, 0.0, 1.0)
    articulation = d.get("articulation")
    if articulation is not None and articulation not in ARTICULATIONS:
        raise ContError(f"{where}.articulation: {articulation!r}, not one of "
                        f"{', '.join(ARTICULATIONS)}")
    return Note(onset, offset, pitch, _number(f"{where}.velocity", d["velocity"], 1e-9, 1.0),
                dynamics, articulation)


def parse(data: object) -> Document:
    """A Document from parsed JSON; ContError naming the field otherwise."""
    d = _keys("document", data, {"schema_version", "streams"})
    version = d["schema_version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ContError(f"schema_version: {version!r} is not a version number")
    if version > SCHEMA_VERSION:
        raise ContError(f"schema_version: {version} is newer than this build reads "
                        f"({SCHEMA_VERSION})")
    if not isinstance(d["streams"], list):
        raise ContError("streams: expected a list")
    streams = []
    for i, s in enumerate(d["streams"]):
        where = f"streams[{i}]"
        s = _keys(where, s, {"name", "instrument", "notes"})
        if not isinstance(s["name"], str):
            raise ContError(f"{where}.name: expected text")
        profile = PROFILES.get(s["instrument"]) if isinstance(s["instrument"], str) else None
        if profile is None:
            raise ContError(f"{where}.instrument: {s['instrument']!r}, not one of "
                            f"{', '.join(PROFILES)}")
        if not isinstance(s["notes"], list):
            raise ContError(f"{where}.notes: expected a list")
        notes = [_note(f"{where}.notes[{k}]", n, profile) for k, n in enumerate(s["notes"])]
        if not profile.polyphonic:
            for k in range(1, len(notes)):
                if notes[k].onset_s < notes[k - 1].offset_s:
                    raise ContError(f"{where}.notes[{k}].onset_s: overlaps the note before "
                                    f"(a {profile.name} stream is monophonic)")
        streams.append(Stream(s["name"], profile.name, notes))
    return Document(streams)


def load(path: Path | str) -> Document:
    """Read a ``.cont`` file; ContError naming the file (and the field) otherwise."""
    try:
        data = read_json(Path(path), MAX_FILE_BYTES)
    except JsonFileError as exc:
        raise ContError(str(exc)) from None
    try:
        return parse(data)
    except ContError as exc:
        raise ContError(f"{path}: {exc}") from None


def save(doc: Document, path: Path | str) -> None:
    """Write ``doc`` atomically (validated first: what is written can be read back)."""
    data = doc.as_json()
    parse(data)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def document_of(notes, instrument: str = "voice", name: str | None = None) -> Document:
    """A one-stream Document from a transcriber's notes (``notes.Note``: start, end, pitch
    and its bends) under ``instrument``'s profile: the pitch curve is the note's pitch then
    every bend inside it (only the pitch where the profile holds one); in a monophonic
    stream a note ends where the next begins."""
    profile = PROFILES[instrument]
    out: list[Note] = []
    for n in sorted(notes, key=lambda n: n.start_s):
        curve = [(n.start_s, n.pitch)]
        if profile.pitch_curve:
            curve += sorted((t, p) for t, p in n.bends if n.start_s <= t <= n.end_s)
        if not profile.polyphonic and out and out[-1].offset_s > n.start_s:
            prev = out[-1]
            if n.start_s <= prev.onset_s:
                continue  # struck together with the note before: the first one stays
            prev.offset_s = n.start_s
            prev.pitch = [(t, p) for t, p in prev.pitch if t <= n.start_s]
        out.append(Note(n.start_s, n.end_s, curve, min(max(n.velocity, 1e-9), 1.0)))
    return Document([Stream(name or instrument, instrument, out)])


def voice_document(notes, name: str = "voice") -> Document:
    """:func:`document_of` a voice's notes."""
    return document_of(notes, "voice", name)
