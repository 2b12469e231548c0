"""Factory presets shipped with the package, from calm to chaotic.

They are full schema-v1 documents in ``presets/factory/`` (package data) and are
read-only: the user store refuses to save over a factory name.
"""

from __future__ import annotations

from importlib import resources

from presets.schema import Preset, parse

# The performance presets, in order of rising energy and chaos (program change walks them),
# then Init: every stage neutral, the clean start for building a sound.
PERFORMANCE_NAMES = ("Calm", "Balanced", "Intense", "Chaotic")
FACTORY_NAMES = (*PERFORMANCE_NAMES, "Init")


def factory_name(name: str) -> str | None:
    """The canonical spelling of a factory preset name (case-insensitive), or None."""
    return {n.lower(): n for n in FACTORY_NAMES}.get(name.lower())


def factory_text(name: str) -> str:
    """The JSON text of factory preset ``name``; KeyError listing the names if unknown."""
    match = factory_name(name)
    if match is None:
        raise KeyError(f"unknown preset {name!r}; factory presets: {', '.join(FACTORY_NAMES)}")
    return resources.files("presets").joinpath("factory", f"{match}.json").read_text(
        encoding="utf-8")


def load_factory(name: str) -> Preset:
    """Factory preset ``name`` (case-insensitive), strictly validated.

    KeyError (message lists the factory names) for an unknown name; PresetError if the
    shipped file is broken, which is a packaging bug.
    """
    match = factory_name(name)
    text = factory_text(name)
    return parse(text, f"factory/{match}.json")[0]


def factory_params(name: str) -> dict[str, float]:
    """Every parameter value of factory preset ``name`` (registry id -> value in its unit).

    Only the base values: the preset's macro assignments and LFO routes need
    ``engine.session.presets.apply_preset`` on a running engine.
    """
    return load_factory(name).full_params()
