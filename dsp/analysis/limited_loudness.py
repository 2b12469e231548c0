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
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from dsp.analysis.mix_figures import k_coefficients, k_hop_energies
from dsp.bs1770 import integrated_lufs
from dsp.units import db_to_gain

BLOCK_FRAMES = 32  # 0.67 ms at 48 kHz
SPENT_LU_PER_DB = 0.05  # where a dB more gain adds less, the limiter takes it: spent
SEARCH_STEPS = 24  # bisection halvings: 64 dB of range to 4e-6 dB


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
        self.rate_hz = blocks.rate_hz
        self.peaks, self.energy = blocks.peaks, blocks.energy
        hop = round(0.1 * self.rate_hz)
        # the blocks each whole 100 ms hop of the gating holds (its ends rounded down to a
        # block; a partial last hop is left out, as the meter leaves it)
        ends = (np.arange(1, blocks.n_frames // hop + 1) * hop) // BLOCK_FRAMES
        self.starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
        self.counts = ends - self.starts
        self.used = int(ends[-1]) if ends.size else 0
        self.ceiling = db_to_gain(ceiling_dbtp)
        self._gains = np.empty(self.peaks.size)
        self.release_ms = release_ms
        self.measured_lufs = measured_lufs
        self.offset = measured_lufs - self._lufs(0.0)

    @property
    def release_ms(self) -> float:
        """The limiter's release the predictions assume; settable (the calibration
        stays)."""
        return self._release_ms

    @release_ms.setter
    def release_ms(self, value: float) -> None:
        self._release_ms = value
        self._release = math.exp(-1000.0 * BLOCK_FRAMES / (value * self.rate_hz))

    def _energy(self, gain_db: float) -> np.ndarray:
        a = db_to_gain(gain_db)
        _held_gains(self.peaks, a, self.ceiling, self._release, self._gains)
        return (a * a) * self._gains * self._gains * self.energy

    def _lufs(self, gain_db: float) -> float:
        if self.starts.size < 4 or self.peaks.size == 0:
            return -math.inf
        hops = np.add.reduceat(self._energy(gain_db)[: self.used], self.starts) / self.counts
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

    def _slope(self, step_db: float) -> float:
        """LU the last dB of ``step_db`` adds."""
        return self.lufs(step_db) - self.lufs(step_db - 1.0)

    def step_db(self, target_lufs: float, low_db: float, high_db: float) -> float | None:
        """The gain change (dB, within ``low_db``…``high_db``: what the gain's range
        allows) that brings the loudness to ``target_lufs``; None when none does, or only
        where the limiter takes all but ``SPENT_LU_PER_DB`` of each dB more."""
        if not math.isfinite(self.offset):  # too short for the gate: the gain alone
            return min(max(target_lufs - self.measured_lufs, low_db), high_db)
        if self.lufs(high_db) < target_lufs:
            return None
        step = self._solve(lambda s: self.lufs(s) < target_lufs, low_db, high_db)
        return None if self._slope(step) < SPENT_LU_PER_DB else step

    def spent_db(self, low_db: float, high_db: float) -> float:
        """The gain change past which the limiter takes all but ``SPENT_LU_PER_DB`` of each
        dB more (within ``low_db``…``high_db``)."""
        if not math.isfinite(self.offset):
            return 0.0
        return self._solve(lambda s: self._slope(s) >= SPENT_LU_PER_DB, low_db, high_db)

    @staticmethod
    def _solve(below: Callable[[float], bool], low: float, high: float) -> float:
        """The step where ``below`` turns false, by bisection (it is true up to there)."""
        if not below(low):
            return low
        if below(high):
            return high
        for _ in range(SEARCH_STEPS):
            mid = 0.5 * (low + high)
            if below(mid):
                low = mid
            else:
                high = mid
        return high
