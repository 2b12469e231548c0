"""Latent-space controls for RAVE: pure numpy on ``z (latent_dims, frames)`` arrays.

One latent frame covers ``compression_ratio`` samples (2048 at 44.1 kHz: ~46 ms). RAVE v2
exports order latent dimensions by PCA variance (``latent_pca``), so the first two carry
most of the loudness/pitch-like structure and the later ones the timbre detail; that is
why ``texture`` leaves the first ``TEXTURE_KEEP`` dimensions alone.

Every function returns a new float32 array and never changes its input. Randomness comes
from seeds or caller-owned ``numpy.random.Generator`` objects, so a block-by-block run is
repeatable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ENERGY_RANGE = (0.3, 2.0)  # magnitude factor, x
TEMPO_RANGE = (0.5, 2.0)  # playback-speed factor, x
TEXTURE_KEEP = 2  # leading dimensions texture does not touch


def _check(name: str, value: float, lo: float, hi: float) -> float:
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be within {lo}..{hi}, got {value}")
    return float(value)


def _as_z(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float32)
    if z.ndim != 2:
        raise ValueError(f"latents are (latent_dims, frames), got shape {z.shape}")
    return z


def energy(z: np.ndarray, factor: float) -> np.ndarray:
    """Scale every latent's magnitude by ``factor`` (0.3..2.0 x; 1 leaves it unchanged)."""
    factor = _check("energy", factor, *ENERGY_RANGE)
    return (_as_z(z) * np.float32(factor)).astype(np.float32)


def chaos(z: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Add ``amount`` (0..1) x unit-variance Gaussian noise drawn from ``rng``.

    The caller keeps ``rng`` across blocks so the noise continues instead of repeating.
    """
    amount = _check("chaos", amount, 0.0, 1.0)
    z = _as_z(z)
    if amount == 0.0:
        return z.copy()
    noise = rng.standard_normal(z.shape).astype(np.float32)
    return (z + np.float32(amount) * noise).astype(np.float32)


def texture_pattern(latent_dims: int, seed: int) -> np.ndarray:
    """A smooth random pattern over dimensions, ``(latent_dims,)`` in -1..1.

    Smooth so neighbouring PCA dimensions move together rather than each flipping on its
    own: random values every 4 dimensions, linearly interpolated, then peak-normalised.
    Zero on the first ``TEXTURE_KEEP`` dimensions.
    """
    rng = np.random.default_rng(seed)
    knots = np.arange(0, latent_dims + 4, 4)
    values = rng.uniform(-1.0, 1.0, knots.size)
    pattern = np.interp(np.arange(latent_dims), knots, values)
    pattern[:TEXTURE_KEEP] = 0.0
    peak = np.max(np.abs(pattern)) if latent_dims > TEXTURE_KEEP else 0.0
    if peak > 0:
        pattern /= peak
    return pattern.astype(np.float32)


def texture(z: np.ndarray, amount: float, pattern: np.ndarray) -> np.ndarray:
    """Vary the timbre dimensions: row ``d`` times ``1 + amount * pattern[d]``.

    ``amount`` 0..1; ``pattern`` from :func:`texture_pattern` (its zeros keep the first
    dimensions untouched).
    """
    amount = _check("texture", amount, 0.0, 1.0)
    z = _as_z(z)
    gain = 1.0 + np.float32(amount) * np.asarray(pattern, dtype=np.float32)
    return (z * gain[:, None]).astype(np.float32)


def neutral_bias_scale(latent_dims: int) -> tuple[np.ndarray, np.ndarray]:
    """The reset state of the per-dimension controls: bias 0, scale 1, ``(latent_dims,)``."""
    return np.zeros(latent_dims, np.float32), np.ones(latent_dims, np.float32)


def random_bias_scale(latent_dims: int, seed: int, bias_spread: float = 1.0,
                      scale_spread: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random per-dimension controls.

    bias uniform in ``+-bias_spread`` (latent units, ~standard deviations for a trained
    model), scale uniform in ``1 +- scale_spread``.
    """
    rng = np.random.default_rng(seed)
    bias = rng.uniform(-bias_spread, bias_spread, latent_dims).astype(np.float32)
    scale = (1.0 + rng.uniform(-scale_spread, scale_spread, latent_dims)).astype(np.float32)
    return bias, scale


def bias_scale(z: np.ndarray, bias: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Per dimension ``z[d] * scale[d] + bias[d]``; ``bias``/``scale`` are ``(latent_dims,)``."""
    z = _as_z(z)
    bias = np.asarray(bias, np.float32)
    scale = np.asarray(scale, np.float32)
    if bias.shape != (z.shape[0],) or scale.shape != (z.shape[0],):
        raise ValueError(f"bias/scale must be ({z.shape[0]},), got {bias.shape}/{scale.shape}")
    return (z * scale[:, None] + bias[:, None]).astype(np.float32)


def tempo(z: np.ndarray, factor: float) -> np.ndarray:
    """Play generated latents ``factor`` (0.5..2.0 x) times as fast.

    Output frame ``k`` is ``z`` linearly interpolated at position ``k * factor``; there
    are ``ceil(frames / factor)`` of them (factor 2 halves the length, 0.5 doubles it).
    For stored or generated material: a live stream cannot run ahead of its input.
    """
    factor = _check("tempo", factor, *TEMPO_RANGE)
    z = _as_z(z)
    frames = z.shape[1]
    n_out = int(np.ceil(frames / factor - 1e-9))
    pos = np.minimum(np.arange(n_out) * factor, frames - 1)
    idx = np.arange(frames)
    return np.stack([np.interp(pos, idx, row) for row in z]).astype(np.float32)


def style_blend(references: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted blend of encoded references ``(latent_dims, frames_i)``.

    Weights (non-negative, not all zero) are normalised to sum 1; references are cut to
    the shortest so frames line up in time.
    """
    if len(references) == 0 or len(references) != len(weights):
        raise ValueError("style_blend needs one weight per reference, at least one")
    w = np.asarray(weights, dtype=np.float64)
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"weights must be non-negative and not all zero, got {list(w)}")
    w = w / w.sum()
    refs = [_as_z(r) for r in references]
    frames = min(r.shape[1] for r in refs)
    out = sum(wi * r[:, :frames].astype(np.float64) for wi, r in zip(w, refs, strict=True))
    return np.asarray(out, dtype=np.float32)


def latent_stats(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and standard deviation over frames, each ``(latent_dims,)``."""
    z = _as_z(z)
    return z.mean(axis=1).astype(np.float32), z.std(axis=1).astype(np.float32)


def match(z: np.ndarray, live_mean: np.ndarray, live_std: np.ndarray,
          ref_mean: np.ndarray, ref_std: np.ndarray, amount: float) -> np.ndarray:
    """Pull ``z`` toward a reference's statistics by ``amount`` (0..1).

    Fully matched, dimension ``d`` is ``(z - live_mean) / live_std * ref_std + ref_mean``;
    the result is ``z + amount * (matched - z)``. The live statistics are passed in, not
    taken from ``z``: a live block is one or two frames, so the caller keeps running
    statistics. A ``live_std`` below 1e-6 is treated as 1e-6 (no division by zero).
    """
    amount = _check("match", amount, 0.0, 1.0)
    z = _as_z(z)
    col = [np.asarray(v, np.float32)[:, None] for v in (live_mean, live_std, ref_mean,
                                                           ref_std)]
    lm, ls, rm, rs = col
    matched = (z - lm) / np.maximum(ls, 1e-6) * rs + rm
    return (z + np.float32(amount) * (matched - z)).astype(np.float32)
