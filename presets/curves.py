"""Curves, defined once: how a 0..1 travel is shaped, and how a parameter's range is laid out.

*Response curves* shape a control's travel ``x`` (0..1) into ``y`` (0..1): a macro's
assignment and a MIDI mapping use them, so ``exp`` on a macro and ``exp`` on a CC mean the
same thing:

- ``lin``: ``y = x``;
- ``exp``: ``y = x**2``, slow at first (fine control at the low end);
- ``log``: ``y = sqrt(x)``, fast at first; the exact inverse of ``exp``.

*Range curves* lay a parameter's range out along the 0..1 a knob or widget moves
(``presets.registry.to_normalized``): ``lin`` and ``exp`` are the response curves applied
to ``[min, max]``; ``log`` is a logarithmic axis (equal ratios, equal travel), which needs a
positive minimum (frequencies, times, ratios).

Plain ``math`` only, so the callback's modulation compiles the very same functions with Numba.
"""

from __future__ import annotations

import math

CURVES = ("lin", "log", "exp")
LIN, LOG, EXP = range(3)
CURVE_CODES = {name: code for code, name in enumerate(CURVES)}


def taper(code: int, x: float) -> float:
    """The response curve ``code`` (LIN, LOG, EXP) at ``x`` in [0, 1]."""
    if code == EXP:
        return x * x
    if code == LOG:
        return math.sqrt(x)
    return x


def untaper(code: int, y: float) -> float:
    """Inverse of :func:`taper`: the ``x`` with ``taper(code, x) == y``."""
    if code == EXP:
        return math.sqrt(max(0.0, y))
    if code == LOG:
        return y * y
    return y


def range_position(code: int, lo: float, hi: float, value: float) -> float:
    """Where ``value`` sits along a ``[lo, hi]`` range laid out by curve ``code`` (0..1 for
    values inside the range)."""
    if code == LOG:
        return math.log(value / lo) / math.log(hi / lo)
    span = (value - lo) / (hi - lo)
    if code == EXP:
        return math.sqrt(max(0.0, span))
    return span


def range_value(code: int, lo: float, hi: float, u: float) -> float:
    """The value at position ``u`` (0..1) along a ``[lo, hi]`` range laid out by ``code``."""
    if code == LOG:
        return lo * (hi / lo) ** u
    if code == EXP:
        return lo + (hi - lo) * u * u
    return lo + (hi - lo) * u


def code(curve: str) -> int:
    """The code of a curve name; ValueError naming the choices."""
    try:
        return CURVE_CODES[curve]
    except KeyError:
        raise ValueError(f"curve {curve!r} not one of {', '.join(CURVES)}") from None


def shape(curve: str, x: float) -> float:
    """:func:`taper` by name, with ``x`` clamped to [0, 1] (NaN reads as 0)."""
    x = x if x >= 0.0 else 0.0
    return taper(code(curve), min(x, 1.0))


def unshape(curve: str, y: float) -> float:
    """:func:`untaper` by name, with ``y`` clamped to [0, 1] (NaN reads as 0)."""
    y = y if y >= 0.0 else 0.0
    return untaper(code(curve), min(y, 1.0))
