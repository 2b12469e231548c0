"""Factory presets shipped with the package (Calm, Balanced, Intense, Chaotic)."""

from __future__ import annotations

import json
from importlib import resources

from presets.registry import param

SCHEMA_VERSION = 1
FACTORY_NAMES = ("Calm", "Balanced", "Intense", "Chaotic")


def load_factory(name: str) -> dict[str, float]:
    """The parameter values of a factory preset, validated against the registry."""
    match = {n.lower(): n for n in FACTORY_NAMES}.get(name.lower())
    if match is None:
        raise KeyError(f"unknown preset {name!r}; factory presets: {', '.join(FACTORY_NAMES)}")
    source = resources.files("presets").joinpath("factory", f"{match}.json")
    doc = json.loads(source.read_text(encoding="utf-8"))
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{source}: schema_version {doc.get('schema_version')!r}, "
                         f"expected {SCHEMA_VERSION}")
    return {key: param(key).check(value) for key, value in doc["params"].items()}
