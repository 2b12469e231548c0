"""Streaming true-peak meter per ITU-R BS.1770-5 Annex 2 (polyphase FIR oversampling).

Below 96 kHz the signal is oversampled 4x, below 192 kHz 2x, and at 192 kHz and above the
sample values are used directly (the rates the standard and libebur128 use). At exactly
48 kHz the 48-tap, 4-phase filter printed in the standard is used; at other rates an
equivalent filter (same length and normalised response: Kaiser-windowed sinc, cut-off at
the input Nyquist frequency) is designed with scipy at ``prepare`` time.

The reported peak per channel is ``max(|interpolated|, |sample|)``: the standard's filter
evaluates points 1/8 sample away from the input samples, so without the sample values an
isolated full-scale sample would read 0.25 dB low, and a true peak can never be below the
sample peak.

State is one float64 vector (layout in the ``_H_*`` / ``_HEADER`` constants) so an audio
callback can hold it as a single array.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from dsp.bs1770 import polyphase_filter
from dsp.units import gain_to_db

_H_NCH = 0
_H_PHASES = 1
_H_TAPS = 2
_H_POS = 3
_HEADER = 8


def state_size(n_channels: int, n_phases: int, taps: int) -> int:
    """Length of the float64 state vector for a channel count and filter shape."""
    return _HEADER + n_phases * taps + n_channels * (2 * taps + 1)


def prepare_with_filter(n_channels: int, phases: np.ndarray) -> np.ndarray:
    """Allocate meter state for ``n_channels`` using polyphase ``phases`` (n_phases, taps)."""
    phases = np.asarray(phases, dtype=np.float64)
    if phases.ndim != 2 or n_channels < 1:
        raise ValueError("phases must be 2-D and n_channels >= 1")
    n_phases, taps = phases.shape
    state = np.zeros(state_size(n_channels, n_phases, taps), dtype=np.float64)
    state[_H_NCH] = n_channels
    state[_H_PHASES] = n_phases
    state[_H_TAPS] = taps
    # Reversed so the inner loop is a dot product with the history window oldest->newest.
    state[_HEADER : _HEADER + n_phases * taps] = phases[:, ::-1].reshape(-1)
    return state


def prepare(n_channels: int, sample_rate_hz: float) -> np.ndarray:
    """Allocate a true-peak meter for ``n_channels`` at ``sample_rate_hz`` (Hz).

    Returns a float64 state vector for ``process``/``reset``/``peak_linear``.
    """
    if sample_rate_hz <= 0:
        raise ValueError(f"sample_rate_hz must be positive, got {sample_rate_hz}")
    return prepare_with_filter(n_channels, polyphase_filter(sample_rate_hz))


@numba.njit(nogil=True, cache=True)
def push_sample(state: np.ndarray, channel: int, pos: int, v: float) -> float:
    """Store sample ``v`` of ``channel`` at history slot ``pos``; return its peak reading.

    The reading is ``max(|v|, |interpolated points of the filter output|)`` (linear). The
    caller advances ``pos`` (0..taps-1) once per frame, before pushing that frame's samples.
    """
    n_phases = int(state[_H_PHASES])
    taps = int(state[_H_TAPS])
    hist = _HEADER + n_phases * taps + channel * 2 * taps
    # Each sample is written twice so the last `taps` samples are always contiguous.
    state[hist + pos] = v
    state[hist + pos + taps] = v
    start = hist + pos + 1
    peak = abs(v)
    for p in range(n_phases):
        coef = _HEADER + p * taps
        acc = 0.0
        for k in range(taps):
            acc += state[coef + k] * state[start + k]
        acc = abs(acc)
        if acc > peak:
            peak = acc
    return peak


@numba.njit(nogil=True, cache=True)
def process(state: np.ndarray, x: np.ndarray) -> None:
    """Meter a block: x is float32 (n_channels, n_frames); updates per-channel maxima.

    Any block size (including 0) gives the same result as one call on the whole signal.
    """
    n_ch = min(int(state[_H_NCH]), x.shape[0])
    n_phases = int(state[_H_PHASES])
    taps = int(state[_H_TAPS])
    peaks = _HEADER + n_phases * taps + int(state[_H_NCH]) * 2 * taps
    pos = int(state[_H_POS])
    for i in range(x.shape[1]):
        pos += 1
        if pos == taps:
            pos = 0
        for c in range(n_ch):
            pk = push_sample(state, c, pos, np.float64(x[c, i]))
            if pk > state[peaks + c]:
                state[peaks + c] = pk
    state[_H_POS] = pos


@numba.njit(nogil=True, cache=True)
def reset(state: np.ndarray) -> None:
    """Clear history and maxima (keeps the filter)."""
    n_phases = int(state[_H_PHASES])
    taps = int(state[_H_TAPS])
    state[_H_POS] = 0.0
    for i in range(_HEADER + n_phases * taps, state.shape[0]):
        state[i] = 0.0


def peak_linear(state: np.ndarray) -> np.ndarray:
    """Maximum true peak so far per channel, linear (1.0 = 0 dBTP), shape (n_channels,)."""
    n_ch = int(state[_H_NCH])
    start = _HEADER + int(state[_H_PHASES]) * int(state[_H_TAPS]) + n_ch * 2 * int(state[_H_TAPS])
    return state[start : start + n_ch].copy()


def peak_dbtp(state: np.ndarray) -> np.ndarray:
    """Maximum true peak so far per channel in dBTP (-inf for silence), shape (n_channels,)."""
    return np.array([gain_to_db(v) for v in peak_linear(state)])


def peak_of(x: np.ndarray, sample_rate_hz: float) -> float:
    """The largest true peak of a whole signal ``x (channels, n)`` (linear), read from
    silence: what ``prepare``/``process``/``peak_linear`` give, at a fraction of the time
    (each phase's taps sweep the whole channel, which vectorises, instead of one sample's
    dot products at a time; the sums run in the meter's order, so the value is equal)."""
    x = np.ascontiguousarray(np.atleast_2d(x), dtype=np.float32)
    phases = polyphase_filter(sample_rate_hz)
    if x.shape[0] <= 1:
        return _peak_of(x, phases)
    with ThreadPoolExecutor(x.shape[0]) as pool:  # a channel per thread: no GIL held
        return max(pool.map(lambda c: _peak_of(x[c : c + 1], phases), range(x.shape[0])))


_TILE = 2048  # samples per tile: its sums stay in the L1 cache while the taps sweep it


@numba.njit(nogil=True, cache=True)
def _peak_of(x: np.ndarray, phases: np.ndarray) -> float:
    n_phases, taps = phases.shape
    n = x.shape[1]
    padded = np.zeros(n + taps - 1)
    acc = np.empty(_TILE)
    peak = 0.0
    for c in range(x.shape[0]):
        for i in range(n):
            padded[taps - 1 + i] = x[c, i]
            a = abs(padded[taps - 1 + i])
            if a > peak:
                peak = a
        for start in range(0, n, _TILE):
            m = min(_TILE, n - start)
            for p in range(n_phases):
                acc[:m] = 0.0
                for k in range(taps - 1, -1, -1):  # oldest sample first, as the meter sums
                    h = phases[p, k]
                    src = padded[start + taps - 1 - k: start + taps - 1 - k + m]
                    for i in range(m):
                        acc[i] += h * src[i]
                for i in range(m):
                    a = abs(acc[i])
                    if a > peak:
                        peak = a
    return peak
