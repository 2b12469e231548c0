"""The shipped auto-mix predictor, run in numpy: no torch when mixing.

Input: the features of up to ``MAX_STEMS`` stems (``dsp.analysis.stem_features``, 32 each,
padded with zeros) and the style's targets (``style_vector``); an MLP 262 → 256 → 128 →
outputs (ReLU), whose outputs pass through a sigmoid into each parameter's range
(geometrically for frequencies): every stem's channel strip (``dsp.channel_strip``) and the
master's tilt, side gain and gain (``dsp.mastering``). Weights: ``predictor.npz``, written
by ``models.automix.train``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dsp import channel_strip

MAX_STEMS = 8
MASTER_OUTPUTS = ("tilt_db", "side_db", "gain_db")
# the ranges the network was trained to predict in; the correction may go further
# (``dsp.mastering.MASTER_PARAMS``)
MASTER_OUTPUT_RANGES = ((-12.0, 12.0), (-18.0, 12.0), (-24.0, 24.0))
N_STYLE = 6
N_OUTPUTS = MAX_STEMS * channel_strip.N_PARAMS + len(MASTER_OUTPUTS)
WEIGHTS = Path(__file__).with_name("predictor.npz")


def output_ranges() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output: low, high and whether it is spaced geometrically."""
    strip = [(p.low, p.high, p.log) for p in channel_strip.STRIP_PARAMS] * MAX_STEMS
    master = [(low, high, False) for low, high in MASTER_OUTPUT_RANGES]
    rows = strip + master
    return (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]),
            np.array([r[2] for r in rows]))


def style_vector(lufs: float, centroid_hz: float, ms_ratio: float,
                 shares: tuple[float, float, float]) -> np.ndarray:
    """The targets as the network reads them (each about -1…1)."""
    return np.array([(lufs + 12.0) / 4.0, math.log2(centroid_hz / 2000.0), (ms_ratio - 0.7) / 0.2,
                     *shares], np.float32)


def scale(unit: np.ndarray) -> np.ndarray:
    """Sigmoid outputs in 0…1 to the parameters' units."""
    low, high, geometric = output_ranges()
    linear = low + (high - low) * unit
    with np.errstate(divide="ignore"):
        geo = low * (high / np.where(geometric, low, 1.0)) ** unit
    return np.where(geometric, geo, linear)


def split(params: np.ndarray, n_stems: int) -> tuple[np.ndarray, np.ndarray]:
    """``(n_stems, strip params)`` and the master's tilt, side and gain."""
    k = MAX_STEMS * channel_strip.N_PARAMS
    strips = params[:k].reshape(MAX_STEMS, channel_strip.N_PARAMS)[:n_stems]
    return strips, params[k:]


class Predictor:
    """The MLP with its weights loaded; ``predict`` is plain numpy."""

    def __init__(self, path: Path = WEIGHTS) -> None:
        with np.load(path) as data:
            self.layers = [(data[f"w{i}"], data[f"b{i}"]) for i in range(len(data.files) // 2)]

    def predict(self, stem_features: np.ndarray, style: np.ndarray) -> np.ndarray:
        """``stem_features (n <= MAX_STEMS, 32)`` and ``style (N_STYLE,)`` → the parameter
        vector (``N_OUTPUTS``) in natural units."""
        x = np.zeros((MAX_STEMS, stem_features.shape[1]), np.float32)
        x[: len(stem_features)] = stem_features
        h = np.concatenate([x.ravel(), style]).astype(np.float64)
        for i, (w, b) in enumerate(self.layers):
            h = h @ w.T + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        return scale(1.0 / (1.0 + np.exp(-h)))
