"""Conversions between a controller position, a normalised position and a parameter value.

Three spaces, all closed intervals:

- *controller position* ``u`` in [0, 1]: how far the knob, fader or encoder is turned;
- *normalised position* ``n`` in [0, 1]: where the parameter sits along its registry
  curve (``presets.registry.to_normalized``: what knobs and GUI widgets move);
- *value*: the parameter in its registry unit (dB, Hz, pan ...), within ``[p.min, p.max]``.

Ranges come only from ``presets.registry`` (every function here takes the ``Param``) and
curves only from ``presets.curves``, the same ``lin``/``log``/``exp`` a macro uses.
Every forward function clamps, so no input (NaN and infinities included) leaves the range.
"""

from __future__ import annotations

import math

from presets import registry
from presets.registry import Param


def clamp01(x: float) -> float:
    """``x`` clamped to [0, 1]; NaN reads as 0 so a bad input can only close a control."""
    if not x >= 0.0:  # also catches NaN
        return 0.0
    return 1.0 if x > 1.0 else x


def from_normalized(p: Param, n: float) -> float:
    """Value in ``p``'s unit for normalised position ``n``, via the registry's own curve
    (so a knob here and a GUI widget agree), made total: NaN and out-of-range ``n`` clamp,
    and the result is clamped to [p.min, p.max] (discrete parameters come back whole)."""
    value = registry.from_normalized(p, clamp01(n))
    return min(max(value, p.min), p.max)


def to_normalized(p: Param, value: float) -> float:
    """Normalised position in [0, 1] of ``value`` (in ``p``'s unit), via the registry;
    values outside the range (and NaN) clamp first, so this never raises."""
    lo, hi = p.min, p.max
    value = float(value)
    if hi <= lo or math.isnan(value):
        return 0.0
    return clamp01(registry.to_normalized(p, min(max(value, lo), hi)))
