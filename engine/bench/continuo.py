"""``musicmill bench continuo``: the neural transcriber's cost on the worker, beside Basic
Pitch on the same audio.

Material: held-out takes (TimGM6mb renders, never trained on) of each instrument,
resampled to 48 kHz. Ours is fed as the live worker feeds it: 128-sample blocks at 48 kHz
through :class:`~models.continuo.neural.NeuralStream` (resampler, front end, one ONNX call
per 128-sample hop at 12 kHz on one thread, decoder); the cost is the thread's CPU time per
second of audio, as a share of one core, and the slowest blocks (a hop's frame lands on
every fourth block). Basic Pitch transcribes each whole take at once (it cannot stream);
its CPU time per second of audio beside ours gives the ratio. The first take of each is a
warm-up, not counted.
"""

from __future__ import annotations

import time

import numpy as np

RATE_HZ = 48000
BLOCK = 128


def _takes(instruments: list[str], clips: int) -> list[tuple[str, np.ndarray]]:
    import soxr

    from models.continuo.dataset import heldout_clips

    out = []
    for inst in instruments:
        for c in heldout_clips(inst, clips):
            out.append((inst, soxr.resample(c.audio, c.rate_hz, RATE_HZ).astype(np.float32)))
    return out


def _ours(inst: str, x: np.ndarray) -> tuple[float, np.ndarray]:
    from models.continuo.neural import NeuralStream

    stream = NeuralStream(RATE_HZ, inst)
    per_block = np.empty(x.size // BLOCK)
    start = time.thread_time()
    for k in range(per_block.size):
        t0 = time.perf_counter()
        stream.push(x[k * BLOCK: (k + 1) * BLOCK])
        per_block[k] = time.perf_counter() - t0
    return time.thread_time() - start, per_block


def bench_continuo(instruments: list[str], clips: int, peer: bool = True) -> dict:
    takes = _takes(instruments, clips)
    audio_s = sum(x.size for _, x in takes) / RATE_HZ
    _ours(*takes[0])  # warm-up: ORT's first runs allocate
    cpu_s, blocks = 0.0, []
    for inst, x in takes:
        c, b = _ours(inst, x)
        cpu_s += c
        blocks.append(b)
    all_blocks = np.concatenate(blocks) * 1e6
    result = {"audio_s": audio_s, "takes": len(takes), "block": BLOCK, "rate_hz": RATE_HZ,
              "ours_core_share": cpu_s / audio_s,
              "ours_block_us_median": float(np.median(all_blocks)),
              "ours_block_us_p99": float(np.percentile(all_blocks, 99)),
              "ours_block_us_max": float(all_blocks.max()),
              "target_core_share": 0.25}
    if peer:
        from models.continuo.peer import BasicPitch

        bp = BasicPitch()
        bp.notes(takes[0][1], RATE_HZ)  # warm-up
        start = time.process_time()
        for _, x in takes:
            bp.notes(x, RATE_HZ)
        result["peer_core_share"] = (time.process_time() - start) / audio_s
        result["ratio"] = result["ours_core_share"] / result["peer_core_share"]
    return result
