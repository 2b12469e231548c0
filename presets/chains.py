"""A preset's plugin chains: which plugins sit in each slot, in order, with bypass and
every value (``"plugins"`` in the preset document)::

    "plugins": {"master": [{"uri": "http://gareus.org/oss/lv2/balance",
                            "bypass": false, "values": {"trim": 6.0}}]}

Slots are ``voice``, ``worker`` and ``master`` (engine/plugins/rack.py says where they
sit); a VST3 is named by ``"path"`` instead of ``"uri"``. Whether a plugin is installed and
has the named ports is checked where it is loaded: this floor knows only the shape.
Macro and LFO targets name plugin parameters as ``fx_<slot><n>_<symbol>``.
"""

from __future__ import annotations

import math
import re

SLOTS = ("voice", "worker", "master")
MAX_PER_SLOT = 8
ITEM_KEYS = ("uri", "path", "bypass", "values")
FX_ID = re.compile(r"^fx_(voice|worker|master)([1-8])_([A-Za-z0-9_]+)$")


def check_chains(value: object) -> dict[str, list[dict]]:
    """A normalized copy of a ``plugins`` section, or ValueError naming the field."""
    if not isinstance(value, dict):
        raise ValueError("plugins must be an object of slot -> list")
    out: dict[str, list[dict]] = {}
    for slot, chain in value.items():
        if slot not in SLOTS:
            raise ValueError(f"plugins.{slot}: unknown slot (one of {', '.join(SLOTS)})")
        if not isinstance(chain, list) or len(chain) > MAX_PER_SLOT:
            raise ValueError(f"plugins.{slot} must be a list of at most {MAX_PER_SLOT} "
                             "plugins")
        out[slot] = [_item(item, f"plugins.{slot}[{i}]") for i, item in enumerate(chain)]
    return out


def _item(item: object, where: str) -> dict:
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be an object")
    unknown = [k for k in item if k not in ITEM_KEYS]
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}")
    sources = [k for k in ("uri", "path") if k in item]
    if len(sources) != 1 or not isinstance(item[sources[0]], str) or not item[sources[0]]:
        raise ValueError(f"{where} needs exactly one of uri (LV2) or path (VST3), a string")
    bypass = item.get("bypass", False)
    if not isinstance(bypass, bool):
        raise ValueError(f"{where}.bypass must be true or false")
    values = item.get("values", {})
    if not isinstance(values, dict):
        raise ValueError(f"{where}.values must be an object of symbol -> number")
    for symbol, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"{where}.values.{symbol} must be a finite number")
    return {sources[0]: item[sources[0]], "bypass": bypass,
            "values": {k: float(v) for k, v in values.items()}}


def fx_target_known(target: str, chains: dict[str, list[dict]] | None) -> bool:
    """Whether ``target`` names a plugin parameter of a plugin these chains hold."""
    m = FX_ID.match(target)
    if m is None or chains is None:
        return False
    return int(m.group(2)) <= len(chains.get(m.group(1), []))
