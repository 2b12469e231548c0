"""What ``musicmill compare``'s overall score weighs: its components and their weights.

Kept apart from :mod:`dsp.analysis.similarity` (numpy, the feature code) so the command's
``--help`` can show the defaults without importing any of that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from dsp.errors import InputError

COMPONENTS = ("mfcc", "centroid", "chroma", "rms", "onsets")
# "High" = 2, "medium" = 1: timbre and timing are what a listener notices first in a render
# that went wrong (wrong instrument, smeared or shifted hits); brightness, harmony and level
# are often changed on purpose by an effect, so they count half as much.
DEFAULT_WEIGHTS: dict[str, float] = {
    "mfcc": 2.0, "centroid": 1.0, "chroma": 1.0, "rms": 1.0, "onsets": 2.0,
}


class ComparisonError(InputError, ValueError):
    """Two clips that cannot be compared (no audio, NaN) or weights that cannot be used."""


def parse_weights(spec: str | Mapping[str, float] | None) -> dict[str, float]:
    """Defaults overridden by ``"mfcc=2,onsets=0.5"`` or a mapping; ComparisonError if
    invalid."""
    weights = dict(DEFAULT_WEIGHTS)
    if spec is None:
        return weights
    if isinstance(spec, str):
        items: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, sep, value = part.partition("=")
            try:
                if not sep:
                    raise ValueError
                items[name.strip()] = float(value)
            except ValueError:
                raise ComparisonError(f"--weights: expected NAME=NUMBER, got {part!r}") from None
    else:
        items = {str(k): float(v) for k, v in spec.items()}
    for name, value in items.items():
        if name not in weights:
            raise ComparisonError(f"--weights: unknown component {name!r} "
                                  f"(choose from {', '.join(COMPONENTS)})")
        if not math.isfinite(value) or value < 0.0:
            raise ComparisonError(f"--weights: {name} must be a finite number >= 0, got {value}")
        weights[name] = value
    if sum(weights.values()) <= 0.0:
        raise ComparisonError("--weights: at least one weight must be > 0")
    return weights
