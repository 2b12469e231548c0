"""``musicmill bench engine``: our cfunc callback against a Python callback, under load.

Both run the same DSP (the engine's block function) on the same JACK server, block size
and duration, while a Python thread spins holding the GIL and a torch thread computes.
Late blocks are PortAudio's underflow/overflow flags, counted after a warm-up second.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from engine import jack
from engine.block import run_frames
from engine.callback import PA_LATE_FLAGS
from engine.engine import Engine
from engine.stream import LiveStream
from engine.worker import PassThrough

WARMUP_S = 1.0


class _Load:
    """A pure-Python GIL holder plus a torch compute thread."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._python_spin, daemon=True),
                         threading.Thread(target=self._torch_spin, daemon=True)]

    def _python_spin(self) -> None:
        x = 0
        while not self._stop.is_set():
            for i in range(10_000):
                x = (x + i * i) % 1_000_003

    def _torch_spin(self) -> None:
        import torch

        a = torch.randn(256, 256)
        while not self._stop.is_set():
            a = torch.tanh(a @ a)

    def __enter__(self) -> _Load:
        import torch  # noqa: F401  (imported here, not half-way inside a thread)

        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


def _summary(late_after_warmup: int, blocks: int, times_ms: np.ndarray) -> dict:
    return {"late_blocks": int(late_after_warmup), "blocks": int(blocks),
            "callback_max_ms": float(times_ms.max()) if times_ms.size else 0.0,
            "callback_p99_ms": float(np.percentile(times_ms, 99)) if times_ms.size else 0.0}


def run_ours(seconds: float, samplerate: int, blocksize: int) -> dict:
    engine = Engine(samplerate, 2, 2, PassThrough(256), blocksize=blocksize)
    with LiveStream(engine) as stream:
        time.sleep(WARMUP_S)
        late0 = int(stream.engine.stats[2])
        blocks0 = int(stream.engine.stats[0])
        hist0 = engine.hist.copy()
        time.sleep(seconds)
        snap = stream.snapshot()
    hist = engine.hist - hist0
    # expand the 2 us histogram into representative times for the same summary code
    times_ms = np.repeat((np.arange(hist.size) + 1) * 0.002, hist)
    out = _summary(snap["late_blocks"] - late0, snap["blocks"] - blocks0, times_ms)
    out["callback_max_ms"] = snap["callback_max_ms"]  # exact, not binned
    out["callback_cpu_max_ms"] = snap["callback_cpu_max_ms"]  # the callback thread's own
    out["worker_underruns"] = snap["worker_underruns"]
    return out


def run_baseline(seconds: float, samplerate: int, blocksize: int) -> dict:
    """sounddevice's Python callback calling the very same block function."""
    import sounddevice as sd

    engine = Engine(samplerate, 2, 2, PassThrough(256), blocksize=blocksize)
    times: list[float] = []
    late = [0, 0]  # total, at end of warm-up
    t_start = time.monotonic()

    def callback(indata, outdata, frames, time_info, status) -> None:
        t0 = time.perf_counter()
        if status._flags & PA_LATE_FLAGS:
            late[0] += 1
        run_frames(indata, outdata, frames, engine.table)
        if time.monotonic() - t_start >= WARMUP_S:
            times.append(time.perf_counter() - t0)
        engine.worker.step()  # the worker's job done inline: the baseline gets no thread

    with sd.Stream(samplerate=samplerate, blocksize=blocksize, channels=2, dtype="float32",
                   latency="low", callback=callback):
        time.sleep(WARMUP_S)
        late[1] = late[0]
        time.sleep(seconds)
    times_ms = 1e3 * np.asarray(times)
    return _summary(late[0] - late[1], times_ms.size, times_ms)


def bench_engine(seconds: float = 60.0, samplerate: int = 48000, blocksize: int = 128) -> dict:
    """Run both callbacks under the same load; JSON-ready result with ``ours`` and ``baseline``."""
    with jack.dummy_server(samplerate, blocksize), _Load():
        ours = run_ours(seconds, samplerate, blocksize)
        baseline = run_baseline(seconds, samplerate, blocksize)
    return {"ours": ours, "baseline": baseline, "seconds": seconds,
            "samplerate": samplerate, "blocksize": blocksize}
