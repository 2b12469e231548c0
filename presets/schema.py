"""The preset document: versioned JSON, validated against the parameter registry.

A preset file is one JSON object::

    {
      "schema_version": 1,
      "app_version": "0.1.0",
      "name": "Calm",
      "description": "...",
      "params": {"input_gain_db": -3.0, ...},          # registry id -> value in its unit
      "macros": [{"macro": "energy", "target": "comp_ratio",
                  "low": 1.5, "high": 6.0, "curve": "lin"}],
      "lfo_routes": [{"lfo": 1, "target": "stem_worker_pan", "amount": 0.6}],
      "midi": null,                                   # or a MIDI MappingTable.to_dict()
      "pattern_memory": {"A": [[0.1, -0.2], [0.3, 0.0]]},  # named latent snapshots
      "model": null                                   # or the model the snapshots belong to
    }

A saved preset holds every registry parameter, so a later change of a default never
changes how an old preset sounds; a loaded one may omit some, which then take their
registry defaults. Ranges come only from ``presets.registry``.

``parse`` is strict by default: the first problem raises :class:`PresetError` naming the
source file and the field. Lenient mode keeps every valid part, drops the bad ones and
returns one warning per dropped part; it still refuses broken JSON and a newer schema,
because guessing at those could silently turn a preset into something else.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import PurePath
from typing import Any

from dsp.errors import InputError
from dsp.io.jsonfile import MAX_DEPTH, nesting_depth
from presets.chains import check_chains, fx_target_known
from presets.registry import CURVES, INDEX, MACROS, N_LFOS, REGISTRY, Param

SCHEMA_VERSION = 1
TOP_LEVEL_KEYS = ("schema_version", "app_version", "name", "description", "params", "macros",
                  "lfo_routes", "midi", "pattern_memory", "model", "plugins")
MACRO_KEYS = ("macro", "target", "low", "high", "curve")
ROUTE_KEYS = ("lfo", "target", "amount")
# A name becomes a file name in the user preset folder, so it must be safe on every
# platform we ship on (these characters are refused by Windows or are path separators).
MAX_NAME_LENGTH = 64
_FORBIDDEN_NAME_CHARS = set('/\\:*?"<>|')
_RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                   *(f"lpt{i}" for i in range(1, 10))}


def _app_version() -> str:
    try:
        return metadata.version("musicmill")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0.1.0"


APP_VERSION = _app_version()


class PresetError(InputError, ValueError):
    """A preset that cannot be used; the message names the source file and the field."""


@dataclass
class MacroAssignment:
    """``macro`` (a name from ``registry.MACROS``) drives ``target`` from ``low`` to ``high``.

    ``low`` and ``high`` are in the target's unit; ``curve`` shapes the macro's 0..1 travel.
    """

    macro: str
    target: str
    low: float
    high: float
    curve: str = "lin"


@dataclass
class LfoRoute:
    """LFO ``lfo`` (1..N_LFOS) moves ``target`` by ``amount`` (-1..1) x depth x its range."""

    lfo: int
    target: str
    amount: float


@dataclass
class Preset:
    """One preset in memory. ``params`` maps registry ids to values in their units."""

    name: str
    description: str = ""
    params: dict[str, float] = field(default_factory=dict)
    macros: list[MacroAssignment] = field(default_factory=list)
    lfo_routes: list[LfoRoute] = field(default_factory=list)
    midi: dict[str, Any] | None = None
    pattern_memory: dict[str, list[list[float]]] = field(default_factory=dict)
    model: str | None = None
    app_version: str = APP_VERSION
    # slot -> chain (presets/chains.py); None leaves a running session's chains as they are
    plugins: dict[str, list[dict]] | None = None

    def full_params(self) -> dict[str, float]:
        """Every registry parameter in registry order: this preset's value or the default."""
        return {p.id: float(self.params.get(p.id, p.default)) for p in REGISTRY}


def check_name(name: object) -> str:
    """Return ``name`` if it can be a preset (and file) name, else raise ValueError saying why.

    Non-empty, at most MAX_NAME_LENGTH characters, no path separators or characters some
    file systems refuse, no leading dot (hidden / temp files), no leading or trailing space.
    """
    if not isinstance(name, str):
        raise ValueError(f"name must be a string, not {_json_type(name)}")
    if not name:
        raise ValueError("name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"name {name[:20]!r}... is longer than {MAX_NAME_LENGTH} characters")
    bad = sorted({c for c in name if c in _FORBIDDEN_NAME_CHARS or ord(c) < 32 or ord(c) == 127})
    if bad:
        raise ValueError(f"name {name!r} contains {''.join(bad)!r} "
                         "(no path separators or the characters :*?\"<>|)")
    if name != name.strip():
        raise ValueError(f"name {name!r} starts or ends with a space")
    if name.startswith("."):
        raise ValueError(f"name {name!r} starts with a dot")
    if name.endswith("."):
        raise ValueError(f"name {name!r} ends with a dot")
    if name.split(".")[0].lower() in _RESERVED_NAMES:
        raise ValueError(f"name {name!r} is reserved by Windows")
    return name


def macro_id(macro: str) -> str:
    """``"energy"`` -> ``"macro_energy"`` (the registry id of the macro's own parameter)."""
    return macro if macro.startswith("macro_") else f"macro_{macro}"


# -- serialising ---------------------------------------------------------------------------
def _value_out(p: Param, value: float) -> float | int:
    # Discrete parameters (LFO shape, sync) read better as whole numbers in the file;
    # parse turns them back into floats, so the round trip stays exact.
    return int(value) if p.discrete else float(value)


def to_doc(preset: Preset) -> dict[str, Any]:
    """The JSON-ready document of ``preset``, with every registry parameter (defaults filled).

    ``to_doc(parse(to_doc(p))[0]) == to_doc(p)`` for every valid preset.
    """
    full = preset.full_params()
    doc = {
        "schema_version": SCHEMA_VERSION,
        "app_version": preset.app_version,
        "name": preset.name,
        "description": preset.description,
        "params": {p.id: _value_out(p, full[p.id]) for p in REGISTRY},
        "macros": [{"macro": m.macro.removeprefix("macro_"), "target": m.target,
                    "low": float(m.low), "high": float(m.high), "curve": m.curve}
                   for m in preset.macros],
        "lfo_routes": [{"lfo": int(r.lfo), "target": r.target, "amount": float(r.amount)}
                       for r in preset.lfo_routes],
        "midi": copy.deepcopy(preset.midi),
        "pattern_memory": {k: [[float(x) for x in row] for row in rows]
                           for k, rows in preset.pattern_memory.items()},
        "model": preset.model,
    }
    if preset.plugins is not None:  # absent: the preset leaves the chains as they are
        doc["plugins"] = copy.deepcopy(preset.plugins)
    return doc


def dumps(preset: Preset) -> str:
    """``to_doc`` as indented JSON text (NaN or infinity anywhere raise ValueError)."""
    return json.dumps(to_doc(preset), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# -- parsing -------------------------------------------------------------------------------
class _Problems:
    """Strict: raise on the first problem. Lenient: collect it as a warning and go on."""

    def __init__(self, source: str, lenient: bool) -> None:
        self.source = source
        self.lenient = lenient
        self.warnings: list[str] = []
        self.chains: dict[str, list[dict]] | None = None  # the document's plugin chains

    def report(self, message: str) -> None:
        if not self.lenient:
            raise PresetError(f"{self.source}: {message}")
        self.warnings.append(f"{self.source}: {message} (ignored)")

    def fatal(self, message: str) -> PresetError:
        return PresetError(f"{self.source}: {message}")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _is_number(value: object) -> bool:
    # JSON true/false arrive as bool, which is an int subclass: never a number here
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _loads(text: str | bytes, problems: _Problems) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                problems.report(f"duplicate key {key!r} (the last one is used)")
            out[key] = value
        return out

    def no_constants(name: str) -> float:
        # Python's json accepts NaN and Infinity, which are not JSON and no parameter takes
        raise ValueError(f"{name} is not a valid JSON number")

    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise problems.fatal(f"not valid UTF-8 text (byte {exc.start})") from None
    if nesting_depth(text) > MAX_DEPTH:  # json would recurse until Python gives up
        raise problems.fatal(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise problems.fatal(
            f"not valid JSON (line {exc.lineno} column {exc.colno}): {exc.msg}") from None
    except ValueError as exc:
        if isinstance(exc, PresetError):
            raise
        raise problems.fatal(f"not valid JSON: {exc}") from None


def _schema_version(doc: dict[str, Any], problems: _Problems) -> None:
    if "schema_version" not in doc:
        problems.report(f"schema_version is missing (assuming {SCHEMA_VERSION})")
        return
    version = doc["schema_version"]
    if not _is_number(version) or not math.isfinite(version) or version != int(version):
        problems.report(f"schema_version {json.dumps(version)} is not a whole number "
                        f"(assuming {SCHEMA_VERSION})")
        return
    version = int(version)
    if version > SCHEMA_VERSION:
        # never lenient: a newer file may mean something this version would get wrong
        raise problems.fatal(f"schema_version {version} is newer than this app understands "
                             f"({SCHEMA_VERSION}); update MusicMill to load it")
    if version < 1:
        raise problems.fatal(f"schema_version {version} is not a valid preset version")


def _params(value: object, problems: _Problems) -> dict[str, float]:
    if not isinstance(value, dict):
        problems.report(f"params must be an object, not {_json_type(value)}")
        return {}
    out: dict[str, float] = {}
    for key, v in value.items():
        if key not in INDEX:
            problems.report(f"params.{key}: unknown parameter")
            continue
        if not _is_number(v):
            problems.report(f"params.{key} must be a number, not {_json_type(v)}")
            continue
        try:
            out[key] = REGISTRY[INDEX[key]].check(v)
        except ValueError as exc:  # "<id>=<v> is out of range [lo, hi] unit"
            problems.report(f"params.{exc}")
    return out


def _unknown_keys(obj: dict[str, Any], allowed: tuple[str, ...], where: str,
                  problems: _Problems) -> None:
    for key in obj:
        if key not in allowed:
            problems.report(f"{where}unknown key {key!r}")


def _target(obj: dict[str, Any], where: str, problems: _Problems) -> Param:
    target = obj.get("target")
    if not isinstance(target, str):
        raise ValueError(f"{where}.target must be a parameter id, not {_json_type(target)}")
    if fx_target_known(target, problems.chains):
        # a plugin's parameter: its range is known once the plugin loads (values clamp)
        return Param(target, target, "", -1e30, 1e30, 0.0)
    if target not in INDEX:
        raise ValueError(f"{where}.target {target!r} is not a known parameter")
    return REGISTRY[INDEX[target]]


def _bounded(p: Param, value: object, where: str) -> float:
    if not _is_number(value):
        raise ValueError(f"{where} must be a number, not {_json_type(value)}")
    try:
        return p.check(value)
    except ValueError as exc:  # "<id>=<value> is out of range ..." or "... a whole number"
        raise ValueError(f"{where}{str(exc).removeprefix(p.id)}") from None


def _macro(obj: object, where: str, problems: _Problems) -> MacroAssignment:
    if not isinstance(obj, dict):
        raise ValueError(f"{where} must be an object, not {_json_type(obj)}")
    _unknown_keys(obj, MACRO_KEYS, f"{where}: ", problems)
    for key in ("macro", "target", "low", "high"):
        if key not in obj:
            raise ValueError(f"{where}.{key} is missing")
    macro = obj["macro"]
    if not isinstance(macro, str) or macro.removeprefix("macro_") not in MACROS:
        raise ValueError(f"{where}.macro {json.dumps(macro)} is not one of {', '.join(MACROS)}")
    p = _target(obj, where, problems)
    if p.id.startswith("macro_"):
        raise ValueError(f"{where}.target {p.id}: a macro cannot drive another macro")
    curve = obj.get("curve", "lin")
    if curve not in CURVES:
        raise ValueError(f"{where}.curve {json.dumps(curve)} is not one of {', '.join(CURVES)}")
    return MacroAssignment(macro.removeprefix("macro_"), p.id,
                           _bounded(p, obj["low"], f"{where}.low"),
                           _bounded(p, obj["high"], f"{where}.high"), curve)


def _route(obj: object, where: str, problems: _Problems) -> LfoRoute:
    if not isinstance(obj, dict):
        raise ValueError(f"{where} must be an object, not {_json_type(obj)}")
    _unknown_keys(obj, ROUTE_KEYS, f"{where}: ", problems)
    for key in ROUTE_KEYS:
        if key not in obj:
            raise ValueError(f"{where}.{key} is missing")
    lfo = obj["lfo"]
    if not _is_number(lfo) or not math.isfinite(lfo) or lfo != int(lfo) \
            or not 1 <= lfo <= N_LFOS:
        raise ValueError(f"{where}.lfo {json.dumps(lfo)} is not an LFO number 1..{N_LFOS}")
    p = _target(obj, where, problems)
    amount = obj["amount"]
    if not _is_number(amount) or not -1.0 <= amount <= 1.0:
        raise ValueError(f"{where}.amount={json.dumps(amount)} is out of range [-1, 1]")
    return LfoRoute(int(lfo), p.id, float(amount))


def _entries(value: object, key: str, read, problems: _Problems) -> list:
    if not isinstance(value, list):
        problems.report(f"{key} must be a list, not {_json_type(value)}")
        return []
    out = []
    for i, obj in enumerate(value):
        try:
            out.append(read(obj, f"{key}[{i}]", problems))
        except ValueError as exc:
            if isinstance(exc, PresetError):
                raise
            problems.report(str(exc))
    return out


def _snapshot(name: object, rows: object, where: str) -> list[list[float]]:
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: a snapshot name must be a non-empty string")
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{where} must be a non-empty list of rows, not {_json_type(rows)}")
    width = None
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or not row:
            raise ValueError(f"{where}[{i}] must be a non-empty list of numbers")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise ValueError(f"{where}[{i}] has {len(row)} values, row 0 has {width} "
                             "(snapshots are rectangular)")
        for j, x in enumerate(row):
            if not _is_number(x) or not math.isfinite(x):
                raise ValueError(f"{where}[{i}][{j}] must be a finite number, "
                                 f"not {json.dumps(x) if _is_number(x) else _json_type(x)}")
        out.append([float(x) for x in row])
    return out


def _pattern_memory(value: object, problems: _Problems) -> dict[str, list[list[float]]]:
    if not isinstance(value, dict):
        problems.report(f"pattern_memory must be an object, not {_json_type(value)}")
        return {}
    out = {}
    for name, rows in value.items():
        try:
            out[name] = _snapshot(name, rows, f"pattern_memory.{name}")
        except ValueError as exc:
            problems.report(str(exc))
    return out


def _optional_str(doc: dict[str, Any], key: str, default: Any, problems: _Problems) -> Any:
    value = doc.get(key, default)
    if value is default or isinstance(value, str):
        return value
    problems.report(f"{key} must be a string, not {_json_type(value)}")
    return default


def parse(doc: dict[str, Any] | str | bytes, source: str,
          lenient: bool = False) -> tuple[Preset, list[str]]:
    """Validate a preset document (or its JSON text) from ``source`` (a label for messages).

    Returns the preset and the warnings (always empty when strict). Strict mode raises
    PresetError at the first problem; lenient mode drops bad parts and warns. Both refuse
    text that is not JSON, a document that is not an object and a newer schema_version.
    A missing name falls back to the file name of ``source``.
    """
    problems = _Problems(source, lenient)
    if isinstance(doc, (str, bytes)):
        doc = _loads(doc, problems)
    if not isinstance(doc, dict):
        raise problems.fatal(f"a preset must be a JSON object, not {_json_type(doc)}")
    _schema_version(doc, problems)
    _unknown_keys(doc, TOP_LEVEL_KEYS, "", problems)

    fallback = PurePath(source).stem or "Untitled"
    name = doc.get("name", fallback)
    try:
        check_name(name)
    except ValueError as exc:
        problems.report(str(exc))
        try:
            name = check_name(fallback)
        except ValueError:
            name = "Untitled"

    midi = doc.get("midi")
    if midi is not None and not isinstance(midi, dict):
        problems.report(f"midi must be an object or null, not {_json_type(midi)}")
        midi = None
    plugins = doc.get("plugins")
    if plugins is not None:
        try:
            plugins = check_chains(plugins)
        except ValueError as exc:
            problems.report(str(exc))
            plugins = None
    problems.chains = plugins
    model = _optional_str(doc, "model", None, problems)
    if model == "":
        problems.report("model must be a non-empty string or null")
        model = None

    preset = Preset(
        name=name,
        description=_optional_str(doc, "description", "", problems),
        params=_params(doc.get("params", {}), problems),
        macros=_entries(doc.get("macros", []), "macros", _macro, problems),
        lfo_routes=_entries(doc.get("lfo_routes", []), "lfo_routes", _route, problems),
        midi=copy.deepcopy(midi),
        pattern_memory=_pattern_memory(doc.get("pattern_memory", {}), problems),
        model=model,
        app_version=_optional_str(doc, "app_version", "unknown", problems),
        plugins=plugins,
    )
    # A loaded preset is complete: omitted parameters take their registry defaults.
    preset.params = preset.full_params()
    return preset, problems.warnings


def validate(preset: Preset, source: str | None = None) -> Preset:
    """Strictly re-check a Preset built in code (not parsed); returns a normalized copy."""
    label = source or preset.name or "preset"
    unknown = [key for key in preset.params if key not in INDEX]
    if unknown:
        raise PresetError(f"{label}: params.{unknown[0]}: unknown parameter")
    try:
        doc = to_doc(preset)
    except (TypeError, ValueError, AttributeError) as exc:
        raise PresetError(f"{label}: {exc}") from None
    return parse(doc, label)[0]
