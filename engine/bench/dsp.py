"""``musicmill bench dsp``: our kernels against pedalboard and pyebur128, same data, same run.

(a) Eight stereo channel strips (high-pass, peak EQ, low shelf, compressor, saturation)
    summed into a master (bus compressor, limiter), 128-frame blocks, against the same
    chain built from pedalboard built-ins processing the same blocks with ``reset=False``.
(b) Our BS.1770 meter against pyebur128 (libebur128) on the same 60 s of stereo audio,
    both asked for integrated loudness, loudness range, true peak and sample peak.
Ratios are our time divided by the peer's: below 1.0 means we are faster.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from dsp import biquad, compressor, limiter, loudness, saturation

N_STEMS = 8
SR = 48000
BLOCK = 128
HPF_HZ, PEAK_HZ, PEAK_DB, SHELF_HZ, SHELF_DB = 80.0, 2500.0, 3.0, 200.0, -2.0
COMP_THRESHOLD_DB, COMP_RATIO, COMP_ATTACK_MS, COMP_RELEASE_MS = -20.0, 3.0, 10.0, 100.0
DRIVE_DB = 6.0
BUS_THRESHOLD_DB, BUS_RATIO, BUS_ATTACK_MS, BUS_RELEASE_MS = -12.0, 2.0, 30.0, 300.0
CEILING_DB, LIMITER_RELEASE_MS = -1.0, 100.0


def _stems(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    stems = np.empty((N_STEMS, 2, n), dtype=np.float32)
    for s in range(N_STEMS):
        tone = np.sin(2 * np.pi * (110 * (s + 1)) * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
        stems[s] = 0.2 * tone + 0.05 * rng.standard_normal((2, n))
    return stems


def _our_states():
    strips = []
    for _ in range(N_STEMS):
        strips.append(np.concatenate([
            biquad.prepare(2, SR, biquad.HIGHPASS, HPF_HZ),
            biquad.prepare(2, SR, biquad.PEAK, PEAK_HZ, 1.0, PEAK_DB),
            biquad.prepare(2, SR, biquad.LOWSHELF, SHELF_HZ, 0.7071, SHELF_DB),
            compressor.prepare(SR),
            saturation.prepare(2, SR, DRIVE_DB, oversampling=2),
        ]))
    sizes = [biquad.prepare(2, SR).shape[0]] * 3 + [compressor.prepare(SR).shape[0],
                                                    saturation.prepare(2, SR).shape[0]]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    master = (compressor.prepare(SR), limiter.prepare(2, SR, CEILING_DB, LIMITER_RELEASE_MS))
    return np.stack(strips), offsets, master


@njit(nogil=True, cache=True)
def _our_block(strips, offsets, bus_comp, lim, stems_block, scratch, master):
    master[:] = 0.0
    for s in range(strips.shape[0]):
        st = strips[s]
        x = scratch
        x[:] = stems_block[s]
        biquad.process(st[offsets[0]:offsets[1]], biquad.HIGHPASS, HPF_HZ, 0.7071, 0.0, x, x)
        biquad.process(st[offsets[1]:offsets[2]], biquad.PEAK, PEAK_HZ, 1.0, PEAK_DB, x, x)
        biquad.process(st[offsets[2]:offsets[3]], biquad.LOWSHELF, SHELF_HZ, 0.7071, SHELF_DB,
                       x, x)
        compressor.process(st[offsets[3]:offsets[4]], COMP_THRESHOLD_DB, COMP_RATIO, 0.0,
                           COMP_ATTACK_MS, COMP_RELEASE_MS, 0.0, x, x)
        saturation.process(st[offsets[4]:offsets[5]], DRIVE_DB, x, x)
        master += x
    compressor.process(bus_comp, BUS_THRESHOLD_DB, BUS_RATIO, 0.0, BUS_ATTACK_MS,
                       BUS_RELEASE_MS, 0.0, master, master)
    limiter.process(lim, master, master)


def _pedalboard_chain():
    from pedalboard import (
        Compressor,
        Distortion,
        HighpassFilter,
        Limiter,
        LowShelfFilter,
        PeakFilter,
        Pedalboard,
    )

    strips = [Pedalboard([
        HighpassFilter(HPF_HZ), PeakFilter(PEAK_HZ, PEAK_DB, 1.0),
        LowShelfFilter(SHELF_HZ, SHELF_DB, 0.7071),
        Compressor(COMP_THRESHOLD_DB, COMP_RATIO, COMP_ATTACK_MS, COMP_RELEASE_MS),
        Distortion(DRIVE_DB)]) for _ in range(N_STEMS)]
    master = Pedalboard([Compressor(BUS_THRESHOLD_DB, BUS_RATIO, BUS_ATTACK_MS, BUS_RELEASE_MS),
                         Limiter(CEILING_DB, LIMITER_RELEASE_MS)])
    return strips, master


def bench_chain(seconds: float = 10.0) -> dict:
    stems = _stems(seconds)
    n_blocks = stems.shape[2] // BLOCK
    strips, offsets, (bus_comp, lim) = _our_states()
    scratch = np.zeros((2, BLOCK), dtype=np.float32)
    master = np.zeros((2, BLOCK), dtype=np.float32)
    blocks = [np.ascontiguousarray(stems[:, :, b * BLOCK:(b + 1) * BLOCK]) for b in range(n_blocks)]
    _our_block(strips, offsets, bus_comp, lim, blocks[0], scratch, master)  # compile / load
    t0 = time.perf_counter()
    for blk in blocks:
        _our_block(strips, offsets, bus_comp, lim, blk, scratch, master)
    ours = time.perf_counter() - t0

    pb_strips, pb_master = _pedalboard_chain()
    t0 = time.perf_counter()
    for blk in blocks:
        mix = pb_strips[0](blk[0], SR, reset=False)
        for s in range(1, N_STEMS):
            mix = mix + pb_strips[s](blk[s], SR, reset=False)
        pb_master(mix, SR, reset=False)
    peer = time.perf_counter() - t0
    return {"ours_us_per_block": 1e6 * ours / n_blocks,
            "pedalboard_us_per_block": 1e6 * peer / n_blocks, "ratio": ours / peer}


def bench_loudness(seconds: float = 60.0) -> dict:
    import pyebur128 as eb

    x = _stems(seconds, seed=1).sum(axis=0) * 0.3  # (2, n)
    loudness.measure(x[:, :SR], SR)  # compile / load
    t0 = time.perf_counter()
    ours = loudness.measure(x, SR)
    ours_s = time.perf_counter() - t0

    mode = (eb.MeasurementMode.MODE_I | eb.MeasurementMode.MODE_LRA
            | eb.MeasurementMode.MODE_TRUE_PEAK | eb.MeasurementMode.MODE_SAMPLE_PEAK)
    interleaved = np.ascontiguousarray(x.T, dtype=np.float64).reshape(-1)
    t0 = time.perf_counter()
    state = eb.R128State(2, SR, mode)
    state.add_frames(interleaved, x.shape[1])
    peer_i = eb.get_loudness_global(state)
    eb.get_loudness_range(state)
    max(eb.get_true_peak(state, c) for c in range(2))
    max(eb.get_sample_peak(state, c) for c in range(2))
    peer_s = time.perf_counter() - t0
    return {"ours_s": ours_s, "pyebur128_s": peer_s, "ratio": ours_s / peer_s,
            "integrated_lufs_ours": ours["integrated_lufs"], "integrated_lufs_pyebur128": peer_i}


def bench_dsp(chain_seconds: float = 10.0, loudness_seconds: float = 60.0) -> dict:
    return {"chain": bench_chain(chain_seconds), "loudness": bench_loudness(loudness_seconds)}
