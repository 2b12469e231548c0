"""The true-peak limiter (``dsp.limiter``) over a whole signal at once, for offline work.

The detector's filters are most of the limiter's cost, and a frame's reading depends only
on the input around it, so the frames' peaks are read on several threads at once (the
kernels release the GIL); the gain recursion, which carries its state from frame to frame,
then runs once over all of them. The output equals streaming ``limiter.process`` over the
signal and one lookahead of silence after it, with the lookahead's delay dropped from the
start, bit for bit (tested): the same kernels read the same samples in the same order.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from dsp import limiter

RUN_FRAMES = 512  # frames a detector run filters at a time (its scratch stays in L1)
assert RUN_FRAMES >= limiter.SEGMENT_FRAMES  # peaks_of's scratch holds a whole segment
MAX_THREADS = 8  # past this the recursion, on one thread, is all that is left
PARTS_PER_THREAD = 8  # small parts: the recursion starts early and the threads stay even


@njit(nogil=True, cache=True)
def _fill(x: np.ndarray, src: np.ndarray, pad: int, stride: int) -> None:
    """``src``: each channel of ``x`` as float64 (non-finite samples as 0, as the
    streaming limiter takes them) after ``pad`` zeros, ``stride`` apart; zeros after."""
    for c in range(x.shape[0]):
        row = src[c * stride:(c + 1) * stride]
        row[:] = 0.0
        for i in range(x.shape[1]):
            row[pad + i] = limiter.finite(x[c, i])


@njit(nogil=True, cache=True)
def _apply(gains: np.ndarray, src: np.ndarray, pad: int, stride: int, latency: int,
           out: np.ndarray) -> None:
    """``out[c, i]``: input sample i at the gain of the frame that outputs it."""
    for c in range(out.shape[0]):
        row = src[c * stride + pad:]
        g = gains[latency:]
        for i in range(out.shape[1]):
            out[c, i] = np.float32(g[i] * row[i])


def _thread_count() -> int:
    return max(1, min(MAX_THREADS, os.cpu_count() or 1))


def limit(x: np.ndarray, rate_hz: int, ceiling_dbtp: float, release_ms: float,
          threads: int | None = None) -> np.ndarray:
    """``x`` float32 ``(channels, n)`` through a fresh limiter; returns float32
    ``(channels, n)`` aligned with ``x``. ``threads``: detector threads (default: one per
    core, at most ``MAX_THREADS``); the result is the same for any count."""
    n_ch, n = x.shape
    state = limiter.prepare(n_ch, rate_hz, ceiling_dbtp, release_ms)
    latency = limiter.latency_samples(state)
    pad = limiter.window_frames(state)
    total = n + latency  # the lookahead run out past the end
    stride = pad + total
    src = np.empty(n_ch * stride)
    _fill(np.ascontiguousarray(x, np.float32), src, pad, stride)
    gains = np.empty(total)
    # the frames in parts: the detector threads read their peaks in order while this
    # thread runs the gain recursion over each part as soon as it is read
    parts = max(1, min(PARTS_PER_THREAD * (threads or _thread_count()), total // RUN_FRAMES))
    edges = [total * j // parts for j in range(parts + 1)]  # a frame reads the same anywhere

    def read(j: int) -> None:
        limiter.peaks_of(state, src, pad, stride, n_ch, edges[j], edges[j + 1], gains,
                         np.empty(RUN_FRAMES), np.empty(RUN_FRAMES))

    with ThreadPoolExecutor(threads or _thread_count()) as pool:
        for j, done in enumerate([pool.submit(read, j) for j in range(parts)]):
            done.result()
            limiter.gains_of(state, gains[edges[j]:edges[j + 1]], edges[j + 1] - edges[j])
    out = np.empty((n_ch, n), np.float32)
    _apply(gains, src, pad, stride, latency, out)
    return out
