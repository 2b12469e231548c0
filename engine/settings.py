"""Turn ``--preset NAME`` and ``--set PARAM=VALUE`` into a preset and parameter values."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from engine.errors import UsageError
from presets.registry import param
from presets.schema import Preset, PresetError
from presets.store import PresetStore


def parse_assignments(assignments: list[str] | None) -> dict[str, float]:
    """``PARAM=VALUE`` strings to validated values; UsageError naming the bad one."""
    values: dict[str, float] = {}
    for item in assignments or []:
        key, sep, text = item.partition("=")
        if not sep:
            raise UsageError(f"--set {item!r}: expected PARAM=VALUE")
        try:
            values[key] = param(key).check(float(text))
        except KeyError as exc:
            raise UsageError(exc.args[0]) from None
        except ValueError as exc:
            if "range" in str(exc) or "whole" in str(exc):
                raise UsageError(str(exc)) from None
            raise UsageError(f"{key}: {text!r} is not a number") from None
    return values


def add_style_arg(p: argparse.ArgumentParser) -> None:
    """``--style``, shared by run, render and mix."""
    from presets.styles import STYLES

    p.add_argument("--style", metavar="NAME|FILE",
                   help=f"auto-mix targets: {', '.join(STYLES)}, or an audio file to match "
                   "(sets automix_amount=1; --set overrides)")


def style_assignments(style: str | None) -> list[str]:
    """``--style`` as ``--set`` assignments, to go before the user's own."""
    if style is None:
        return []
    from presets.styles import resolve_style

    try:
        return [f"{k}={v!r}" for k, v in resolve_style(style).items()]
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def resolve_preset(name: str | None, assignments: list[str] | None,
                   style: str | None = None) -> Preset | None:
    """The named preset (factory or user) with ``--style`` and then ``--set`` overrides, or
    None for none of them."""
    overrides = parse_assignments(style_assignments(style) + (assignments or []))
    if name is None:
        if not overrides:
            return None
        return Preset(name="(command line)", description="", params=overrides)
    try:
        preset = PresetStore().load(name)
    except (KeyError, PresetError) as exc:
        raise UsageError(exc.args[0] if isinstance(exc, KeyError) else str(exc)) from None
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


def build_engine(sample_rate_hz: int, in_channels: int, out_channels: int, processor,
                 preset: Preset | None = None, params: dict[str, float] | None = None,
                 blocksize: int = 128, bank: tuple | None = None, kit_map=None):
    """An Engine settled on ``preset`` (values, macro assignments, LFO routes) plus ``params``.

    ``bank``: the sampler's ``(audio, table)`` from ``engine.bank.pack.load_for_engine``;
    ``kit_map``: the bank slice each drum voice plays (``engine.bank.pack.kit_map``).
    """
    from engine.engine import Engine
    from presets.apply import apply_preset

    values = {**(preset.full_params() if preset else {}), **(params or {})}
    try:
        engine = Engine(sample_rate_hz, in_channels, out_channels, processor,
                        blocksize=blocksize, params=values, bank=bank, kit_map=kit_map)
        if preset is not None:
            apply_preset(engine, dataclasses.replace(preset, params=values))
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    except (ValueError, PresetError) as exc:
        raise UsageError(str(exc)) from None
    engine.params.jump_to_targets()
    return engine
