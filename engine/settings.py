"""Turn ``--preset NAME`` and ``--set PARAM=VALUE`` into validated parameter values."""

from __future__ import annotations

from engine.errors import UsageError
from presets.factory_presets import load_factory
from presets.registry import param


def resolve_params(preset: str | None, assignments: list[str] | None) -> dict[str, float]:
    """Preset values overridden by ``--set`` assignments; UsageError on anything bad."""
    values: dict[str, float] = {}
    if preset:
        try:
            values.update(load_factory(preset))
        except KeyError as exc:
            raise UsageError(exc.args[0]) from None
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
