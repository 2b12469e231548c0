"""Torch's CPU random numbers without torch: ``manual_seed``, ``randn`` and ``rand``.

RAVE exports draw their posterior sample and decoder noise from torch's global generator,
and a seeded :class:`~models.rave.processor.RaveProcessor` reseeds it before every model
block, so a seeded run is reproducible. The ONNX path gives the same output as the
TorchScript path by feeding those numbers to its graphs; drawing them here lets it run
without importing torch at all (torch costs 1.5 s and hundreds of MB of locked pages).

What torch does (ATen's CPU generator and ``normal_kernel``/``uniform_kernel``):

* the engine is a 32-bit Mersenne Twister seeded by the standard ``init_genrand`` of the
  seed's low 32 bits: numpy's MT19937 with its legacy seeding is the same engine;
* a float32 uniform takes the low 24 bits of one 32-bit draw, times 2**-24;
* ``randn`` of 16 or more float32 values fills them with uniforms, then turns each run of
  16 into normals by Box-Muller (``u1 = 1 - data[j]``, ``u2 = data[j + 8]`` for j < 8);
  when the count is not a multiple of 16 the last 16 are drawn again and recomputed;
* fewer than 16 values are drawn one by one as doubles: 53 bits of two 32-bit draws each
  for ``u1`` and ``u2``, ``r = sqrt(-2 log1p(-u2))``, ``theta = 2 pi u1``; the value is
  ``r cos(theta)`` and ``r sin(theta)`` is cached for the next one (a seed clears it).

Torch computes the float path in float32 (vectorised log/sin/cos on AVX2), so the values
agree with torch's to float rounding (a few 1e-7), not bit for bit: a test holds the bound.
"""

from __future__ import annotations

import math

import numpy as np

_U24 = np.float32(2.0 ** -24)
_U53 = 2.0 ** -53
_MASK53 = (1 << 53) - 1


class TorchRng:
    """One generator with torch's CPU draws (see the module doc). Seeded with ``seed``, or
    from the operating system's entropy when None (nothing to reproduce then)."""

    def __init__(self, seed: int | None = None) -> None:
        self._bits = np.random.MT19937(0)
        self._cached_normal: float | None = None
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> None:
        """Reset the engine as ``torch.manual_seed(seed)`` resets torch's CPU generator."""
        self._bits._legacy_seeding(int(seed) & 0xFFFFFFFF)
        self._cached_normal = None

    def _raw32(self, n: int) -> np.ndarray:
        return self._bits.random_raw(n).astype(np.uint32)

    def _uniform24(self, n: int) -> np.ndarray:
        return (self._raw32(n) & np.uint32(0xFFFFFF)).astype(np.float32) * _U24

    def rand(self, *shape: int) -> np.ndarray:
        """``torch.rand(*shape)``: float32 uniforms in [0, 1)."""
        return self._uniform24(math.prod(shape)).reshape(shape)

    def randn(self, *shape: int) -> np.ndarray:
        """``torch.randn(*shape)``: float32 standard normals."""
        n = math.prod(shape)
        if n < 16:
            return np.array(self._normals_double(n), np.float32).reshape(shape)
        data = self._uniform24(n)
        whole = n - n % 16
        data[:whole] = _box_muller_16(data[:whole])
        if n % 16:
            data[n - 16:] = _box_muller_16(self._uniform24(16))
        return data.reshape(shape)

    def _normals_double(self, n: int) -> list[float]:
        """``n`` normals of the double path, in order, the last pair's sine kept for later.

        The scalar maths is Python's (the C library's, as torch's): numpy's vectorised
        log and sin may differ from it in the last bit. The draws are taken in one call."""
        out: list[float] = []
        if n and self._cached_normal is not None:
            out.append(self._cached_normal)
            self._cached_normal = None
        pairs = (n - len(out) + 1) // 2
        raw = self._raw32(4 * pairs).tolist()
        for k in range(pairs):
            hi1, lo1, hi2, lo2 = raw[4 * k: 4 * k + 4]
            u1 = (((hi1 << 32) | lo1) & _MASK53) * _U53
            u2 = (((hi2 << 32) | lo2) & _MASK53) * _U53
            r = math.sqrt(-2.0 * math.log1p(-u2))
            theta = 2.0 * math.pi * u1
            out.append(r * math.cos(theta))
            if len(out) < n:
                out.append(r * math.sin(theta))
            else:
                self._cached_normal = r * math.sin(theta)
        return out


def _box_muller_16(u: np.ndarray) -> np.ndarray:
    """Runs of 16 uniforms to normals as torch's ``normal_fill_16`` does (float64 here,
    rounded once to float32)."""
    runs = u.reshape(-1, 2, 8).astype(np.float64)
    radius = np.sqrt(-2.0 * np.log(1.0 - runs[:, 0]))
    theta = 2.0 * np.pi * runs[:, 1]
    out = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
    return out.astype(np.float32).reshape(-1)
