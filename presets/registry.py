"""The one parameter registry: GUI widgets, MIDI mappings, presets and modulation read it.

A parameter's position in ``REGISTRY`` is its slot in the engine's shared parameter array.
Values are stored in the parameter's own unit (dB, pan position, flag); the callback
converts where it needs to. Nothing else in the code base may repeat a range.
"""

from __future__ import annotations

from dataclasses import dataclass

CURVES = ("lin", "log", "exp")

# Gains at or below this read as silence, so a fader can fully close.
SILENCE_DB = -80.0


@dataclass(frozen=True)
class Param:
    """One automatable parameter: id, display name, unit and range in that unit."""

    id: str
    name: str
    unit: str
    min: float
    max: float
    default: float
    curve: str = "lin"
    smoothing_ms: float = 20.0
    discrete: bool = False

    def __post_init__(self) -> None:
        if not self.min <= self.default <= self.max:
            raise ValueError(f"{self.id}: default {self.default} outside [{self.min}, {self.max}]")
        if self.curve not in CURVES:
            raise ValueError(f"{self.id}: curve {self.curve!r} not one of {CURVES}")

    def check(self, value: float) -> float:
        """Return ``value`` as float, or raise naming the parameter and its allowed range."""
        value = float(value)
        if not (self.min <= value <= self.max):  # also rejects NaN
            raise ValueError(
                f"{self.id}={value:g} is out of range [{self.min:g}, {self.max:g}] {self.unit}"
            )
        if self.discrete and value != round(value):
            raise ValueError(f"{self.id}={value:g} must be a whole number")
        return value


def _gain(id_: str, name: str, default: float = 0.0, max_db: float = 12.0) -> Param:
    return Param(id_, name, "dB", SILENCE_DB, max_db, default)


def _pan(id_: str, name: str) -> Param:
    return Param(id_, name, "pan", -1.0, 1.0, 0.0)


# Stems of the mixer, in bus order. "drums" and "sampler" are filled by the voice issues;
# their slots exist now so presets and the GUI keep one layout.
STEMS = ("dry", "worker", "drums", "sampler")

REGISTRY: tuple[Param, ...] = (
    _gain("input_gain_db", "Input gain", max_db=24.0),
    *(
        p
        for stem in STEMS
        for p in (
            _gain(f"stem_{stem}_gain_db", f"{stem.capitalize()} level",
                  default=0.0 if stem in ("dry", "worker") else SILENCE_DB),
            _pan(f"stem_{stem}_pan", f"{stem.capitalize()} pan"),
        )
    ),
    _gain("master_gain_db", "Master level"),
)

INDEX: dict[str, int] = {p.id: i for i, p in enumerate(REGISTRY)}


def param(id_: str) -> Param:
    """Look a parameter up by id, with an error that lists the known ids."""
    try:
        return REGISTRY[INDEX[id_]]
    except KeyError:
        raise KeyError(f"unknown parameter {id_!r}; known: {', '.join(INDEX)}") from None
