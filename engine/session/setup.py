"""How a session starts: ``--preset``, ``--style`` and ``--set`` become one preset, and an
Engine is built settled on it (live and offline alike)."""

from __future__ import annotations

import dataclasses
import sys

from dsp.errors import InputError
from engine.errors import UsageError
from presets.assignments import parse_assignments
from presets.schema import Preset


def style_assignments(style: str | None, force: bool = False) -> list[str]:
    """``--style`` as ``--set`` assignments, to go before the user's own (``force``: a style
    file over the duration limit is read)."""
    if style is None:
        return []
    from presets.styles import resolve_style

    return [f"{k}={v!r}" for k, v in resolve_style(style, force).items()]


def resolve_preset(name: str | None, assignments: list[str] | None,
                   style: str | None = None, force: bool = False) -> Preset | None:
    """The named preset (factory or user) with ``--style`` and then ``--set`` overrides, or
    None for none of them. ``force``: the command's ``--force`` (a long style file)."""
    from presets.store import PresetStore

    overrides = parse_assignments(style_assignments(style, force) + (assignments or []))
    if name is None:
        if not overrides:
            return None
        return Preset(name="(command line)", description="", params=overrides)
    preset = PresetStore().load(name)
    if overrides:
        # A macro assignment sets its target from the macro on every block, so a --set
        # value for that target would never be heard: the explicit value wins, and the
        # performer is told which assignment it replaced.
        kept = [m for m in preset.macros if m.target not in overrides]
        for m in preset.macros:
            if m.target in overrides:
                print(f"musicmill: note: --set {m.target} replaces macro {m.macro}'s control "
                      f"of it in preset {preset.name}", file=sys.stderr)
        preset = dataclasses.replace(preset, params={**preset.full_params(), **overrides},
                                     macros=kept)
    return preset


def with_plugins(preset: Preset | None, specs: list[str]) -> Preset | None:
    """``preset`` with the ``--plugin SLOT:URI|PATH`` specs after its own chains, and the
    ``--set fx_<slot><n>_<symbol>=V`` values it holds moved into those plugins' values."""
    fx = {k: v for k, v in (preset.params if preset is not None else {}).items()
          if k.startswith("fx_")}
    if not specs and not fx:
        return preset
    from engine.plugins.rack import parse_spec
    from engine.plugins.vst3 import is_vst3_path
    from presets.chains import FX_ID

    chains = {slot: [dict(item, values=dict(item.get("values", {}))) for item in chain]
              for slot, chain in ((preset.plugins if preset is not None else None)
                                  or {}).items()}
    for spec in specs:
        slot, name = parse_spec(spec)
        chains.setdefault(slot, []).append(
            {"path" if is_vst3_path(name) else "uri": name, "bypass": False,
             "values": {}})
    for key, value in fx.items():
        m = FX_ID.match(key)
        chain = chains.get(m.group(1), []) if m else []
        if m is None or int(m.group(2)) > len(chain):
            raise UsageError(f"--set {key}: no such plugin parameter (plugins are "
                             "fx_<slot><n>_<symbol>, n counting the --plugin options "
                             "of that slot)")
        item = chain[int(m.group(2)) - 1]
        if m.group(3) == "bypass":
            item["bypass"] = bool(value >= 0.5)
        else:
            item["values"][m.group(3)] = value
    if preset is None:
        preset = Preset(name="(command line)", description="")
    params = {k: v for k, v in preset.params.items() if not k.startswith("fx_")}
    return dataclasses.replace(preset, params=params, plugins=chains)


def insert_for(insert: str, preset: Preset | None) -> str:
    """The worker insert to build: a worker-slot plugin needs a worker path, so ``none``
    becomes ``passthrough`` when the chains have one."""
    if insert == "none" and preset is not None and (preset.plugins or {}).get("worker"):
        return "passthrough"
    return insert


def build_engine(sample_rate_hz: int, in_channels: int, out_channels: int, processor,
                 preset: Preset | None = None, params: dict[str, float] | None = None,
                 blocksize: int = 128, bank: tuple | None = None, kit_map=None,
                 denoise: bool = False, lenient: bool = False):
    """An Engine settled on ``preset`` (plugin chains, values, macro assignments, LFO
    routes) plus ``params``.

    ``bank``: the sampler's ``(audio, table)`` from ``models.samplebank.pack.load_for_engine``;
    ``kit_map``: the bank slice each drum voice plays (``models.samplebank.pack.kit_map``).
    ``lenient``: a plugin of the preset that cannot load is dropped with a warning.
    """
    from engine.engine import Engine
    from engine.session.presets import apply_preset

    values = {**(preset.full_params() if preset else {}), **(params or {})}
    try:
        engine = Engine(sample_rate_hz, in_channels, out_channels, processor,
                        blocksize=blocksize, params=values, bank=bank, kit_map=kit_map,
                        denoise=denoise)
        if preset is not None:
            for warning in apply_preset(engine, dataclasses.replace(preset, params=values),
                                        lenient=lenient):
                print(f"musicmill: warning: {warning}", file=sys.stderr)
    except InputError:
        raise  # already one line naming the problem
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    engine.params.jump_to_targets()
    return engine
