"""EBU R128 / BS.1770 measurement of a whole file in numpy: what ``musicmill loudness``
prints, without starting Numba.

The streaming meter (``dsp.loudness``) is a Numba kernel because the callback runs it;
measuring a file with it costs Numba's runtime (about 0.5 s and 90 MB resident here)
before the first sample. This module gives the same readings with array operations:

- K-weighting: each biquad runs as a block filter (``block_biquad``): the signal cut into
  blocks of ``BLOCK_FRAMES``, each block's zero-state response one matrix product with the
  filter's impulse response, and the states the blocks hand on found by a prefix scan of
  the state recursion, so no Python loop runs per sample. It is the same recursion as the
  meter's, summed in another order (they agree to about 1e-12 of the signal).
- momentary and short-term maxima over windows ending at every sample, the time before the
  first sample counting as silence (as the meter's ring does);
- gating blocks every 100 ms once 400 ms (3 s for the loudness range) have passed; the
  gates and percentiles exact (the meter bins blocks at 0.01 LU, so the two agree to that);
- true peak: each interpolation phase of ``dsp.bs1770.polyphase_filter`` as a convolution,
  the sample values included (a true peak is never below the sample peak).
"""

from __future__ import annotations

import math

import numpy as np

from dsp.bs1770 import (
    LRA_HIGH_PERCENTILE,
    LRA_LOW_PERCENTILE,
    REL_GATE_LRA_LU,
    default_channel_weights,
    energy_to_lufs,
    gated_blocks,
    integrated_lufs,
    k_weighting_coefficients,
    linear_to_db,
    polyphase_filter,
)

BLOCK_FRAMES = 256  # block filter length: 256 multiply-adds a sample in one matrix product


def block_biquad(x: np.ndarray, b: np.ndarray, a: np.ndarray,
                 state: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``x (channels, n)`` float64 through the biquad ``b``/``a`` (``a[0] == 1``), from
    ``state (channels, 2)`` (rest when None); returns the output and the state after it.

    The biquad in state-space form, ``s' = A s + B x``, ``y = C s + D x`` (transposed direct
    form II, as the meter): per block of ``L`` samples ``y = O s0 + T x`` and
    ``s_L = A^L s0 + K x``, with ``T`` the impulse response's Toeplitz matrix. ``n`` need
    not be a multiple of ``L``, but only then is the returned state the one after ``x``."""
    channels, n = x.shape
    length = BLOCK_FRAMES
    blocks = -(-n // length)
    padded = np.zeros((channels, blocks * length))
    padded[:, :n] = x
    xb = padded.reshape(channels * blocks, length)
    m = _block_matrices(tuple(b), tuple(a))
    y = xb @ m["toeplitz"].T
    pushed = (xb @ m["feed"].T).reshape(channels, blocks, 2)  # each block's own state push
    if state is not None:
        pushed[:, 0] += state @ m["step"].T
    after = _scan(pushed, m["step"])  # the state after each block
    starts = np.concatenate([np.zeros((channels, 1, 2)) if state is None else state[:, None],
                             after[:, :-1]], axis=1)
    y += starts.reshape(channels * blocks, 2) @ m["observe"].T
    return y.reshape(channels, blocks * length)[:, :n], after[:, -1]


def _block_matrices(b: tuple[float, ...], a: tuple[float, ...]) -> dict[str, np.ndarray]:
    length = BLOCK_FRAMES
    a_mat = np.array([[-a[1], 1.0], [-a[2], 0.0]])
    b_vec = np.array([b[1] - a[1] * b[0], b[2] - a[2] * b[0]])
    powers = [np.eye(2)]
    for _ in range(length):
        powers.append(a_mat @ powers[-1])
    # impulse response: h[0] = D, h[m] = C A^(m-1) B
    h = np.array([b[0]] + [(powers[k - 1] @ b_vec)[0] for k in range(1, length)])
    lag = np.arange(length)[:, None] - np.arange(length)[None, :]
    return {"toeplitz": np.where(lag >= 0, h[np.clip(lag, 0, None)], 0.0),  # h[k - j]
            "observe": np.array([powers[k][0] for k in range(length)]),  # row k: C A^k
            "feed": np.stack([powers[length - 1 - j] @ b_vec for j in range(length)], 1),
            "step": powers[length]}


def _scan(pushed: np.ndarray, step: np.ndarray) -> np.ndarray:
    """``s[j] = M s[j - 1] + u[j]`` for every block ``j`` of ``pushed (channels, blocks, 2)``
    (u; ``s[-1] = 0``), by a Hillis-Steele scan: log2(blocks) array passes, no loop over
    blocks."""
    acc = pushed.copy()
    power = step
    d = 1
    while d < acc.shape[1]:
        acc[:, d:] = acc[:, d:] + acc[:, :-d] @ power.T
        power = power @ power
        d *= 2
    return acc


def _loudness_range(short_blocks: np.ndarray) -> float:
    kept = np.sort(gated_blocks(short_blocks, REL_GATE_LRA_LU))
    if kept.size == 0:
        return 0.0

    def percentile(fraction: float) -> float:  # nearest rank, as the meter
        return energy_to_lufs(float(kept[math.floor((kept.size - 1) * fraction + 0.5)]))

    return percentile(LRA_HIGH_PERCENTILE) - percentile(LRA_LOW_PERCENTILE)


def _running_sums(values: np.ndarray, count: int) -> np.ndarray:
    """Sums of every ``count`` consecutive values (none when there are fewer)."""
    if values.size < count:
        return np.zeros(0)
    return np.convolve(values, np.ones(count), mode="valid")


class _Meter:
    """The measurement fed in chunks whose lengths are multiples of both the block filter's
    and the 100 ms hop (the last may be shorter): a 30-minute file never holds more than a
    chunk's worth of float64 copies."""

    def __init__(self, channels: int, rate_hz: float, weights: np.ndarray) -> None:
        self.b, self.a = k_weighting_coefficients(rate_hz)
        self.weights = weights
        self.hop = max(1, int(round(rate_hz / 10.0)))
        self.phases = polyphase_filter(rate_hz)
        self.states = [None, None]
        self.tail = np.zeros(30 * self.hop - 1)  # the energies the next windows reach back to
        self.history = np.zeros((channels, self.phases.shape[1] - 1))  # for the true peak
        self.hop_sums: list[np.ndarray] = []
        self.max_m = self.max_s = self.peak = self.true_peak = 0.0

    def chunk(self) -> int:
        unit = math.lcm(BLOCK_FRAMES, self.hop)
        return unit * max(1, (1 << 18) // unit)

    def feed(self, x: np.ndarray) -> None:
        y = x
        for k in range(2):
            y, self.states[k] = block_biquad(y, self.b[k], self.a[k], self.states[k])
        energy = self.weights @ (y * y)
        n = energy.size
        # whole hops only: the file's last, partial hop ends no gating block
        self.hop_sums.append(energy[: n - n % self.hop].reshape(-1, self.hop).sum(axis=1))
        reach = np.concatenate([self.tail, energy])
        cumulative = np.concatenate([[0.0], np.cumsum(reach)])
        ends = np.arange(self.tail.size, reach.size) + 1  # this chunk's samples, in cumulative
        for window, attr in ((4 * self.hop, "max_m"), (30 * self.hop, "max_s")):
            sums = cumulative[ends] - cumulative[np.maximum(ends - window, 0)]
            setattr(self, attr, max(getattr(self, attr), float(sums.max())))
        self.tail = reach[-self.tail.size:]
        self.peak = max(self.peak, float(np.abs(x).max()))
        joined = np.concatenate([self.history, x], axis=1)
        for channel in joined:
            for row in self.phases:
                conv = np.convolve(channel, row, mode="valid")
                self.true_peak = max(self.true_peak, float(np.abs(conv).max()))
        self.history = joined[:, joined.shape[1] - self.history.shape[1]:]

    def readings(self) -> dict[str, float]:
        hops = np.concatenate(self.hop_sums) if self.hop_sums else np.zeros(0)
        n_m, n_s = 4 * self.hop, 30 * self.hop
        gating = _running_sums(hops, 4) / n_m  # from the 4th hop on
        short = _running_sums(hops, 30) / n_s  # from the 30th
        return {
            "integrated_lufs": integrated_lufs(gating),
            "momentary_max_lufs": energy_to_lufs(self.max_m / n_m),
            "short_term_max_lufs": energy_to_lufs(self.max_s / n_s),
            "lra_lu": _loudness_range(short),
            "true_peak_dbtp": linear_to_db(max(self.true_peak, self.peak)),
            "sample_peak_dbfs": linear_to_db(self.peak),
        }


def measure(x: np.ndarray, rate_hz: float,
            channel_weights: np.ndarray | None = None) -> dict[str, float]:
    """The readings of ``dsp.loudness.measure`` for ``x (channels, n)`` at ``rate_hz``:
    integrated_lufs, momentary_max_lufs, short_term_max_lufs, lra_lu, true_peak_dbtp and
    sample_peak_dbfs (-inf for silence). Non-finite samples count as silence."""
    x = np.atleast_2d(x)
    weights = default_channel_weights(x.shape[0]) if channel_weights is None else \
        np.asarray(channel_weights, np.float64).reshape(-1)
    meter = _Meter(x.shape[0], rate_hz, weights)
    step = meter.chunk()
    for start in range(0, x.shape[1], step):
        part = np.asarray(x[:, start: start + step], np.float64)
        meter.feed(np.where(np.isfinite(part), part, 0.0))
    return meter.readings()
