"""A fixed list of named, ranged settings held as one float64 row: the offline mix's channel
strip and mastering chain describe their parameters this way, so a predictor's output, a
report and a DAW export all speak the same vector."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Param:
    name: str
    low: float
    high: float
    default: float
    log: bool = False  # spaced geometrically (frequencies)


class ParamTable:
    """The settings in order, with their index by name, defaults, clamping and a report."""

    def __init__(self, params: tuple[Param, ...]) -> None:
        self.params = params
        self.names = tuple(p.name for p in params)
        self.index = {name: i for i, name in enumerate(self.names)}
        self._low = np.array([p.low for p in params])
        self._high = np.array([p.high for p in params])

    def __len__(self) -> int:
        return len(self.params)

    def defaults(self) -> np.ndarray:
        return np.array([p.default for p in self.params])

    def clamp(self, values: np.ndarray) -> np.ndarray:
        """``values`` (..., len) held inside every parameter's range (a new array)."""
        return np.clip(values, self._low, self._high)

    def as_dict(self, values: np.ndarray) -> dict[str, float]:
        return {name: round(float(v), 3) for name, v in zip(self.names, values, strict=True)}
