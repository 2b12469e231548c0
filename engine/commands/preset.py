"""``musicmill preset ...``: list, show, save, delete, rename, export and import presets.

    musicmill preset list [--json]
    musicmill preset show NAME [--json]
    musicmill preset save NAME [--from-file F.json | --base PRESET] [--set PARAM=VALUE ...]
                               [--description TEXT]
    musicmill preset delete NAME
    musicmill preset rename OLD NEW
    musicmill preset export NAME PATH [--force]
    musicmill preset import PATH [--name N] [--force] [--lenient]

Every problem (bad name, bad file, out-of-range value) is a UsageError: one line naming
the file and the field, exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from engine.errors import UsageError
from presets.assignments import parse_assignment
from presets.registry import LFO_SHAPES, REGISTRY, SYNC_DIVISIONS, param
from presets.schema import Preset, PresetError, dumps
from presets.store import PresetStore, read_preset_file


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``preset`` subcommand and its actions to ``sub``."""
    p = sub.add_parser("preset", help="list, show, save, delete, rename, export, import presets",
                       description="Manage factory (read-only) and user presets.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    a = actions.add_parser("list", help="factory and user presets")
    a.add_argument("--json", action="store_true", help="print a JSON list")
    a.set_defaults(func=run_list)

    a = actions.add_parser("show", help="every setting of a preset")
    a.add_argument("name", metavar="NAME", help="a factory or user preset")
    a.add_argument("--json", action="store_true", help="print the preset document")
    a.set_defaults(func=run_show)

    a = actions.add_parser("save", help="save a user preset (replaces one of that name)")
    a.add_argument("name", metavar="NAME", help="the user preset to write")
    source = a.add_mutually_exclusive_group()
    source.add_argument("--from-file", type=Path, metavar="F.json",
                        help="start from a preset file")
    source.add_argument("--base", metavar="PRESET",
                        help="start from an existing preset (e.g. a factory one)")
    a.add_argument("--set", action="append", metavar="PARAM=VALUE", dest="assignments",
                   default=[], help="set a parameter (repeatable), e.g. --set master_gain_db=-6")
    a.add_argument("--description", help="a line describing the preset")
    a.set_defaults(func=run_save)

    a = actions.add_parser("delete", help="delete a user preset")
    a.add_argument("name", metavar="NAME", help="a user preset (factory ones are read-only)")
    a.set_defaults(func=run_delete)

    a = actions.add_parser("rename", help="rename a user preset")
    a.add_argument("old", metavar="OLD", help="the user preset's name now")
    a.add_argument("new", metavar="NEW", help="its new name")
    a.set_defaults(func=run_rename)

    a = actions.add_parser("export", help="write a preset to a file")
    a.add_argument("name", metavar="NAME", help="a factory or user preset")
    a.add_argument("path", type=Path, metavar="PATH", help="a .json file or a folder")
    a.add_argument("--force", action="store_true", help="replace an existing file")
    a.set_defaults(func=run_export)

    a = actions.add_parser("import", help="validate a preset file and add it as a user preset")
    a.add_argument("path", type=Path, metavar="PATH", help="a preset .json file")
    a.add_argument("--name", help="store it under this name (default: the name in the file)")
    a.add_argument("--force", action="store_true", help="replace a user preset of that name")
    a.add_argument("--lenient", action="store_true",
                   help="import the valid parts and warn about the rest")
    a.set_defaults(func=run_import)
    return p


def _store() -> PresetStore:
    return PresetStore()


def _usage(exc: PresetError) -> UsageError:
    # PresetError messages already name the file and the field; keep them to one line
    return UsageError(" ".join(str(exc).split("\n")))


def run_list(args: argparse.Namespace) -> int:
    rows = _store().list_presets()
    if args.json:
        print(json.dumps([{"name": r.name, "factory": r.factory, "description": r.description,
                           **({"error": r.error} if r.error else {})} for r in rows], indent=2))
        return 0
    width = max(len(r.name) for r in rows)
    for r in rows:
        kind = "factory" if r.factory else "user"
        text = f"INVALID: {r.error}" if r.error else _shorten(r.description, 70)
        print(f"{r.name:<{width}}  {kind:<7}  {text}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    store = _store()
    try:
        preset = store.load(args.name)
    except PresetError as exc:
        raise _usage(exc) from None
    if args.json:
        sys.stdout.write(dumps(preset))
        return 0
    kind = "factory" if store.is_factory(preset.name) else "user"
    print(f"{preset.name} ({kind} preset, saved by MusicMill {preset.app_version})")
    if preset.description:
        print(f"  {preset.description}")
    print("params:")
    full = preset.full_params()
    for p in REGISTRY:
        mark = "" if full[p.id] == p.default else "  *"  # differs from the default
        print(f"  {p.id:<24} {full[p.id]:>10g} {_label(p.id, full[p.id]) or p.unit}{mark}"
              .rstrip())
    print("macros:" if preset.macros else "macros: none")
    for m in preset.macros:
        unit = param(m.target).unit
        print(f"  {m.macro:<8} -> {m.target:<24} {m.low:g} .. {m.high:g} {unit} ({m.curve})"
              .replace("  (", " ("))
    print("lfo routes:" if preset.lfo_routes else "lfo routes: none")
    for r in preset.lfo_routes:
        print(f"  LFO {r.lfo} -> {r.target:<24} amount {r.amount:g}")
    print(f"midi: {_midi_summary(preset.midi)}")
    if preset.pattern_memory:
        shapes = ", ".join(f"{k} ({len(v)}x{len(v[0])})" for k, v in preset.pattern_memory.items())
        print(f"pattern memory: {shapes}")
    else:
        print("pattern memory: none")
    print(f"model: {preset.model or 'none'}")
    return 0


def run_save(args: argparse.Namespace) -> int:
    store = _store()
    try:
        if args.from_file is not None:
            preset, _ = read_preset_file(args.from_file)
        elif args.base is not None:
            preset = store.load(args.base)
        else:
            preset = Preset(name=args.name)
        params = preset.full_params()
        for item in args.assignments:
            key, value = parse_assignment(item)
            params[key] = value
        preset = replace(preset, name=args.name, params=params)
        if args.description is not None:
            preset = replace(preset, description=args.description)
        replaced = store.exists(args.name)
        path = store.save(preset, args.name)
    except PresetError as exc:
        raise _usage(exc) from None
    print(f"{'replaced' if replaced else 'saved'} user preset {args.name} ({path})")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    try:
        _store().delete(args.name)
    except PresetError as exc:
        raise _usage(exc) from None
    print(f"deleted user preset {args.name}")
    return 0


def run_rename(args: argparse.Namespace) -> int:
    try:
        _store().rename(args.old, args.new)
    except PresetError as exc:
        raise _usage(exc) from None
    print(f"renamed {args.old} to {args.new}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    try:
        path = _store().export(args.name, args.path, force=args.force)
    except PresetError as exc:
        raise _usage(exc) from None
    print(f"wrote {path}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    try:
        preset, warnings = _store().import_file(args.path, name=args.name, force=args.force,
                                                lenient=args.lenient)
    except PresetError as exc:
        raise _usage(exc) from None
    for w in warnings:
        print(f"musicmill: warning: {w}", file=sys.stderr)
    print(f"imported {args.path} as user preset {preset.name}")
    return 0


def _label(param_id: str, value: float) -> str:
    # LFO shape and sync are stored as indices; show what the index means
    if param_id.endswith("_shape") and param_id.startswith("lfo"):
        return f"({LFO_SHAPES[int(value)]})"
    if param_id.endswith("_sync") and param_id.startswith("lfo"):
        return f"({SYNC_DIVISIONS[int(value)][0]})"
    return ""


def _midi_summary(midi: dict | None) -> str:
    if midi is None:
        return "none"
    mappings = midi.get("mappings")
    return f"{len(mappings)} mappings" if isinstance(mappings, list) else "present"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."
