"""Latent trajectories that let a RAVE decoder play on its own, with no input.

Each source hands out ``(latent_dims, n)`` float32 frames, one per model latent frame, and
keeps its own clock: ``tempo`` (0.5..2 x, ``latent.TEMPO_RANGE``) is how many source frames
pass per output frame, so generated material plays slower or faster without changing the
model's block rate (the time-axis interpolation of ``latent.tempo``, done incrementally).

* :class:`RandomWalk`: an Ornstein-Uhlenbeck walk per dimension. Mean-reverting toward 0
  with stationary deviation ``spread_std`` (the VAE prior is N(0, 1)), so it wanders
  through the latent space the model was trained on instead of drifting out of it.
* :class:`LfoPattern`: one slow sine per dimension, seeded rates and phases: smooth,
  periodic evolution.
* :class:`SequencePlayer`: loops stored latents (pattern memory, or a style blend of
  encoded references), linearly interpolated between frames, wrapping at the end.

:class:`StyleBank` holds encoded references and blends them along one slider.
Randomness comes only from seeds, so a run is repeatable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from models.rave import latent

WALK_TIME_CONSTANT_S = 2.0  # how long the walk takes to forget where it was
LFO_PERIOD_RANGE_S = (3.0, 20.0)  # slowest and fastest per-dimension cycles


def _check_tempo(tempo: float) -> float:
    return latent._check("tempo", tempo, *latent.TEMPO_RANGE)


class RandomWalk:
    """Mean-reverting random walk, ``frame_s`` seconds per latent frame at tempo 1."""

    def __init__(self, latent_dims: int, frame_s: float, seed: int = 0,
                 spread_std: float = 1.0) -> None:
        self.latent_dims = latent_dims
        self.frame_s = frame_s
        self.spread_std = spread_std
        self._rng = np.random.default_rng(seed)
        self._z = np.zeros(latent_dims, np.float64)

    def next(self, n: int, tempo: float = 1.0) -> np.ndarray:
        """The next ``n`` frames; at tempo 2 the walk moves twice as far per frame."""
        dt = _check_tempo(tempo) * self.frame_s / WALK_TIME_CONSTANT_S
        # Exact discretisation of the OU process: keeps the stationary deviation at
        # spread_std for any step size (a plain Euler step would inflate it at tempo 2).
        keep = math.exp(-dt)
        kick = self.spread_std * math.sqrt(1.0 - keep * keep)
        out = np.empty((self.latent_dims, n), np.float32)
        for k in range(n):
            self._z = keep * self._z + kick * self._rng.standard_normal(self.latent_dims)
            out[:, k] = self._z
        return out


class LfoPattern:
    """A sine per dimension with seeded period (``LFO_PERIOD_RANGE_S``) and phase."""

    def __init__(self, latent_dims: int, frame_s: float, seed: int = 0,
                 depth: float = 1.5) -> None:
        rng = np.random.default_rng(seed)
        lo, hi = LFO_PERIOD_RANGE_S
        periods_s = np.exp(rng.uniform(math.log(lo), math.log(hi), latent_dims))
        self._rad_per_frame = 2.0 * np.pi * frame_s / periods_s
        self._phase = rng.uniform(0.0, 2.0 * np.pi, latent_dims)
        self.depth = depth

    def next(self, n: int, tempo: float = 1.0) -> np.ndarray:
        step = _check_tempo(tempo) * self._rad_per_frame
        phases = self._phase[:, None] + step[:, None] * np.arange(1, n + 1)
        self._phase = np.mod(phases[:, -1], 2.0 * np.pi)
        return (self.depth * np.sin(phases)).astype(np.float32)


class SequencePlayer:
    """Loops ``(latent_dims, frames)`` latents with a fractional read position."""

    def __init__(self, frames: np.ndarray) -> None:
        self._pos = 0.0
        self.set(frames)

    def set(self, frames: np.ndarray) -> None:
        """Swap the material; the read position carries over (wrapped to the new length),
        so a new blend or pattern continues in time instead of restarting."""
        frames = latent._as_z(frames)
        if frames.shape[1] == 0:
            raise ValueError("a latent sequence needs at least one frame")
        self.frames = frames
        self._pos = math.fmod(self._pos, frames.shape[1])

    def rewind(self) -> None:
        self._pos = 0.0

    @property
    def position(self) -> float:
        """The read position in frames."""
        return self._pos

    def seek(self, position: float) -> None:
        """Move the read position (wrapped to the material's length)."""
        self._pos = math.fmod(position, self.frames.shape[1])

    def next(self, n: int, tempo: float = 1.0) -> np.ndarray:
        step = _check_tempo(tempo)
        frames = self.frames  # read once: another thread may swap in new material
        length = frames.shape[1]
        pos = np.mod(self._pos + step * np.arange(n), length)
        self._pos = math.fmod(self._pos + step * n, length)
        lo = np.floor(pos).astype(np.int64)
        hi = (lo + 1) % length  # the loop point interpolates back to the first frame
        lo %= length  # a position read before a shorter pattern was swapped in
        frac = (pos - lo).astype(np.float32)
        return frames[:, lo] * (1.0 - frac) + frames[:, hi] * frac


class StyleBank:
    """Encoded references ``(latent_dims, frames_i)`` blended along one 0..1 slider.

    With references R0..R(n-1) spaced evenly on the slider, a position between two of them
    blends those two (``latent.style_blend``) with weights by distance: 0 is R0 alone,
    1 is the last alone, 0.5 of three is R1 alone.
    """

    def __init__(self, references: Sequence[np.ndarray]) -> None:
        if len(references) == 0:
            raise ValueError("a style bank needs at least one encoded reference")
        self.references = [latent._as_z(r) for r in references]
        dims = {r.shape[0] for r in self.references}
        if len(dims) != 1:
            raise ValueError(f"references have different latent sizes: {sorted(dims)}")

    def weights(self, position: float) -> np.ndarray:
        """Each reference's weight at ``position`` (0..1): at most two non-zero, sum 1."""
        position = latent._check("style", position, 0.0, 1.0)
        n = len(self.references)
        w = np.zeros(n, np.float64)
        if n == 1:
            w[0] = 1.0
            return w
        x = position * (n - 1)
        i = min(int(math.floor(x)), n - 2)
        w[i], w[i + 1] = i + 1 - x, x - i
        return w

    def blend(self, position: float) -> np.ndarray:
        """The blended latents at ``position``: ``(latent_dims, shortest frames)``."""
        w = self.weights(position)
        used = [(r, wi) for r, wi in zip(self.references, w, strict=True) if wi > 0]
        return latent.style_blend([r for r, _ in used], [wi for _, wi in used])
