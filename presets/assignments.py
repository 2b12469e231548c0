"""``PARAM=VALUE`` settings (``--set``, ``preset save --set``): one parser, one message."""

from __future__ import annotations

import math

from dsp.errors import InputError
from presets.chains import FX_ID
from presets.registry import param


class AssignmentError(InputError, ValueError):
    """A ``PARAM=VALUE`` that cannot be used; the message names it and why."""


def parse_assignment(item: str, flag: str = "--set") -> tuple[str, float]:
    """``"PARAM=VALUE"`` -> (id, value in the parameter's unit), checked against its range."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep:
        raise AssignmentError(f"{flag} {item!r}: expected PARAM=VALUE")
    if FX_ID.match(key):  # a plugin's parameter: its range is known once the plugin loads
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise AssignmentError(f"{flag} {key}: {text.strip()!r} is not a number")
        return key, value
    try:
        p = param(key)
    except KeyError as exc:
        raise AssignmentError(f"{flag}: {exc.args[0]}") from None
    try:
        value = float(text)
    except ValueError:
        raise AssignmentError(f"{flag} {key}: {text.strip()!r} is not a number") from None
    try:
        return p.id, p.check(value)
    except ValueError as exc:
        raise AssignmentError(f"{flag} {exc}") from None


def parse_assignments(items: list[str] | None, flag: str = "--set") -> dict[str, float]:
    """Every ``PARAM=VALUE`` in ``items``, in order (a later one for the same id wins)."""
    return dict(parse_assignment(item, flag) for item in items or [])
