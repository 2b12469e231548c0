"""What a true-peak limiter would leave of a signal's loudness at another gain, estimated
without running it: the styled mix's correction steps its gain by this model.

Raising the gain before a brickwall limiter raises the loudness only where the signal stays
under the ceiling. The model reads the signal before the limiter once, in blocks of
``BLOCK_FRAMES``: each block's sample peak (over the channels) and its K-weighted energy.
At a gain ``a`` a block whose peak ``a P`` would pass the ceiling gets the gain that holds
it, held over its neighbours (the limiter's lookahead and attack ramp span about three
blocks) and released with the limiter's time constant; the loudness is then BS.1770's gated
integral of the blocks' energies at those gains. It ignores inter-sample peaks, the
attack's ramp and the K-filter's memory across a gain change, so it reads a little high
where the limiter works; the correction calibrates it on every measured pass (the
difference at the gain it measured) and takes from it only the size of the next step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from dsp.analysis.mix_figures import k_coefficients, k_hop_energies
from dsp.bs1770 import integrated_lufs
from dsp.units import db_to_gain

BLOCK_FRAMES = 32  # 0.67 ms at 48 kHz
SEARCH_DB = 12.0  # the widest step the model is asked for, either way
SPENT_LU = 0.1  # what more gain may still add where it counts as spent
SEARCH_STEPS = 20  # bisection halvings of the search: 2e-5 dB


@njit(nogil=True, cache=True)
def _held_gains(peaks: np.ndarray, gain: float, ceiling: float, release: float,
                out: np.ndarray) -> None:
    """Each block's limiter gain at input gain ``gain``: the required gain, held as the
    minimum over the block and its two neighbours, attacked at once, released by
    ``release`` per block."""
    n = peaks.size
    env = 1.0
    for b in range(n):
        need = 1.0
        for k in range(max(0, b - 1), min(n, b + 2)):
            p = gain * peaks[k]
            if p * need > ceiling:
                need = ceiling / p
        env = need if need <= env else need + (env - need) * release
        out[b] = env


@njit(nogil=True, cache=True)
def _block_peaks(x: np.ndarray, block: int, out: np.ndarray) -> None:
    """``out[b]``: the largest |sample| of block ``b`` over the channels."""
    for b in range(out.size):
        peak = 0.0
        for c in range(x.shape[0]):
            for i in range(b * block, (b + 1) * block):
                peak = max(peak, abs(float(x[c, i])))
        out[b] = peak


@dataclass
class Blocks:
    """What the model reads from the limiter's input, once (:meth:`read`): its blocks'
    peaks and K-weighted energies."""

    rate_hz: int
    peaks: np.ndarray
    energy: np.ndarray
    n_frames: int

    @classmethod
    def read(cls, pre: np.ndarray, rate_hz: int) -> Blocks:
        x = np.ascontiguousarray(pre, np.float32)
        peaks = np.empty(x.shape[1] // BLOCK_FRAMES)
        _block_peaks(x, BLOCK_FRAMES, peaks)
        return cls(rate_hz, peaks, k_hop_energies(x, k_coefficients(rate_hz), BLOCK_FRAMES),
                   x.shape[1])


class LimitedLoudness:
    """``blocks``: the signal as it enters the limiter (ceiling ``ceiling_dbtp``, release
    ``release_ms``), read; ``measured_lufs``: the loudness of the limiter's real output,
    which calibrates the model at this gain."""

    def __init__(self, blocks: Blocks, ceiling_dbtp: float, release_ms: float,
                 measured_lufs: float) -> None:
        self.rate = blocks.rate_hz
        self.peaks, self.energy = blocks.peaks, blocks.energy
        hop = round(0.1 * self.rate)
        # the blocks each 100 ms hop of the gating holds (to the nearest block)
        self.starts = (np.arange(blocks.n_frames // hop) * hop) // BLOCK_FRAMES
        self.counts = np.diff(np.append(self.starts, self.peaks.size))
        self.ceiling = db_to_gain(ceiling_dbtp)
        self._gains = np.empty(self.peaks.size)
        self.release_ms = release_ms
        self.offset = measured_lufs - self._lufs(0.0)

    @property
    def release_ms(self) -> float:
        return self._release_ms

    @release_ms.setter
    def release_ms(self, value: float) -> None:
        """Another release for the predictions (the calibration stays)."""
        self._release_ms = value
        self._release = math.exp(-1000.0 * BLOCK_FRAMES / (value * self.rate))

    def _energy(self, gain_db: float) -> np.ndarray:
        a = db_to_gain(gain_db)
        _held_gains(self.peaks, a, self.ceiling, self._release, self._gains)
        return (a * a) * self._gains * self._gains * self.energy

    def _lufs(self, gain_db: float) -> float:
        if self.starts.size < 4 or self.peaks.size == 0:
            return -math.inf
        hops = np.add.reduceat(self._energy(gain_db), self.starts) / self.counts
        return integrated_lufs(0.25 * (hops[:-3] + hops[1:-2] + hops[2:-1] + hops[3:]))

    def lufs(self, gain_db: float) -> float:
        """The loudness after the limiter with ``gain_db`` more gain before it."""
        return self._lufs(gain_db) + self.offset

    def taken_db(self, gain_db: float) -> float:
        """How much of the energy the limiter takes with ``gain_db`` more gain (dB >= 0):
        the more it takes, the more it darkens a mix (it turns down the peaks, which are
        mostly bright attacks)."""
        before = float(self.energy.sum()) * db_to_gain(2.0 * gain_db)
        after = float(self._energy(gain_db).sum())
        return 10.0 * math.log10(before / after) if after > 0.0 else 0.0

    def step_db(self, target_lufs: float) -> float | None:
        """The gain change (dB) that brings the loudness to ``target_lufs``; at most
        ``SEARCH_DB`` down, and None when even ``SEARCH_DB`` more would not reach it."""
        if not math.isfinite(self.offset) or self.lufs(SEARCH_DB) < target_lufs:
            return None
        return self._solve(target_lufs)

    def spent_db(self) -> float:
        """The least gain change that gets within ``SPENT_LU`` of all the loudness that
        ``SEARCH_DB`` more would give: past it the limiter takes nearly all of it."""
        return self._solve(self.lufs(SEARCH_DB) - SPENT_LU)

    def _solve(self, goal: float) -> float:
        low, high = -SEARCH_DB, SEARCH_DB
        if self.lufs(low) > goal:
            return low
        for _ in range(SEARCH_STEPS):  # the loudness rises with the gain
            mid = 0.5 * (low + high)
            if self.lufs(mid) < goal:
                low = mid
            else:
                high = mid
        return high
