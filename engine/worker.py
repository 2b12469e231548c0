"""The worker thread: model-sized blocks off the audio thread, back at a fixed latency.

The callback writes every input block into the *send* ring and posts the semaphore when a
whole worker block is waiting. The worker reads ``block_frames``, runs the processor (a
model, a pedalboard chain...) and writes the result into the *return* ring. The return
ring was primed with ``latency_frames`` of silence, so in steady state the callback reads
each frame exactly that long after it sent it; a late worker makes the callback fall back
to dry instead of waiting (engine/block.py).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from engine import ring
from engine.semaphore import Semaphore


class Processor(Protocol):
    """What runs on the worker: planar stereo float32 blocks of a fixed size."""

    block_frames: int
    delay_frames: int  # the processor's own algorithmic delay, reported in stats

    def process(self, block: np.ndarray) -> np.ndarray:
        """``(2, block_frames)`` in, ``(2, block_frames)`` out."""
        ...


class PassThrough:
    """Returns its input: measures the ring path alone."""

    delay_frames = 0

    def __init__(self, block_frames: int = 256) -> None:
        self.block_frames = block_frames

    def process(self, block: np.ndarray) -> np.ndarray:
        return block


class BusyPassThrough(PassThrough):
    """Pass-through that also burns ``busy_ms`` of torch compute per block (soak load)."""

    def __init__(self, block_frames: int = 256, busy_ms: float = 2.0) -> None:
        import torch

        super().__init__(block_frames)
        self.busy_ms = busy_ms
        self._torch = torch
        self._a = torch.randn(64, 64)

    def process(self, block: np.ndarray) -> np.ndarray:
        end = time.perf_counter() + self.busy_ms * 1e-3
        with self._torch.inference_mode():
            while time.perf_counter() < end:
                self._a = self._torch.tanh(self._a @ self._a)
        return block


class PedalboardInsert:
    """A pedalboard chain as the worker insert (plugins never run in the callback)."""

    delay_frames = 0

    def __init__(self, board, sample_rate_hz: float, block_frames: int = 256) -> None:
        self.board = board
        self.sample_rate_hz = sample_rate_hz
        self.block_frames = block_frames

    def process(self, block: np.ndarray) -> np.ndarray:
        return self.board(block, self.sample_rate_hz, reset=False)


# SCHED_FIFO priority of the worker thread: under JACK (jackd -P 70, its clients above)
# and over every ordinary thread. At normal priority a busy 2-core machine preempted the
# drum model's worker for several milliseconds now and then, and the return ring ran dry.
WORKER_RT_PRIORITY = 10


def warm_up(processor: Processor) -> None:
    """Pay a processor's first-call costs before it is live: its own ``warm_up()`` when it
    has one (models: several blocks, then a reset), else one block of silence."""
    own = getattr(processor, "warm_up", None)
    if own is not None:
        own()
    else:
        processor.process(np.zeros((2, processor.block_frames), dtype=np.float32))


def _raise_priority() -> bool:
    """Put the calling thread on SCHED_FIFO; False (and no change) where not permitted."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(WORKER_RT_PRIORITY))
    except (AttributeError, OSError):  # not Linux, or no real-time rights (no rtkit/limits)
        return False
    return True


class Worker:
    """Moves blocks from the send ring through a processor into the return ring."""

    def __init__(self, processor: Processor, send: tuple, ret: tuple) -> None:
        self.processor = processor
        # runs on each processed block (the worker plugin slot), on this thread
        self.post: Callable[[np.ndarray], np.ndarray] | None = None
        # handed each input block before the processor, on this thread (the neural
        # transcriber listens here: engine/session/neural_notes.py)
        self.listen: Callable[[np.ndarray], None] | None = None
        self.send = send
        self.ret = ret
        n = processor.block_frames
        self._in = np.zeros((2, n), dtype=np.float32)
        self.blocks = 0
        self.max_process_s = 0.0
        self.errors = 0
        self.last_error = ""
        self.semaphore = Semaphore()
        self.realtime = False  # whether the live thread got SCHED_FIFO
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: tuple[Processor, int] | None = None
        self._swap_lock = threading.Lock()
        self.swaps = 0

    def request_swap(self, processor: Processor, pad_frames: int = 0) -> None:
        """Hand over a new processor (same ``block_frames``); the worker thread takes it
        before its next block, so a block is never split between two processors.

        ``pad_frames`` of silence go into the return ring first: the worker is that
        ring's only writer, so only it may lengthen the path's latency (a model with a
        longer block needs more time to answer). One attribute store: atomic under the
        GIL; a small lock makes a second request before the first is taken keep both
        requests' silence.
        """
        if processor.block_frames != self.processor.block_frames:
            raise ValueError(f"a swapped-in processor must use {self.processor.block_frames}-"
                             f"frame blocks, not {processor.block_frames}")
        with self._swap_lock:
            # A request the worker has not taken yet is replaced, but its silence was
            # already counted in the engine's latency: carry it over.
            earlier = self._pending[1] if self._pending is not None else 0
            self._pending = (processor, earlier + pad_frames)

    def _take_pending(self) -> None:
        with self._swap_lock:  # held for two stores; the callback never takes it
            pending, self._pending = self._pending, None
        if pending is not None:
            self.processor, pad = pending
            if pad:
                ring.write_value(*self.ret, 0.0, pad)
            self.swaps += 1

    def step(self) -> int:
        """Process every whole block waiting; returns blocks processed (offline calls this)."""
        if self._pending is not None:
            self._take_pending()
        proc = self.processor
        n = proc.block_frames
        done = 0
        while ring.readable(*self.send) >= n and ring.writable(*self.ret) >= n:
            ring.read(*self.send, self._in, 0, n)
            t0 = time.perf_counter()
            if self.listen is not None:
                self._listen()
            try:
                out = proc.process(self._in)
                if self.post is not None:
                    out = self.post(out)
                out = np.ascontiguousarray(out, dtype=np.float32).reshape(2, n)
            except Exception as exc:  # a broken model must not take the engine down
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                out = np.zeros((2, n), dtype=np.float32)
            self.max_process_s = max(self.max_process_s, time.perf_counter() - t0)
            ring.write(*self.ret, out, 0, n)
            self.blocks += 1
            done += 1
        return done

    def _listen(self) -> None:
        try:
            self.listen(self._in)
        except Exception as exc:  # a broken listener must not silence the insert
            self.errors += 1
            self.last_error = f"listener {type(exc).__name__}: {exc}"

    def warm_up(self) -> None:
        """Run every jitted ring call and the processor once, so the first real block
        does not pay for loading compiled code or a model's first-call set-up."""
        n = self.processor.block_frames
        scratch = ring.make_ring(2, 2 * n)
        ring.write(*scratch, self._in, 0, n)
        ring.writable(*scratch)
        ring.readable(*scratch)
        ring.read(*scratch, self._in, 0, n)
        warm_up(self.processor)

    def start(self) -> None:
        self.warm_up()
        if "torch" in sys.modules:
            # One intra-op thread: two were erratic next to the audio thread here. Set
            # before the thread starts so nothing slow happens once audio is running.
            sys.modules["torch"].set_num_threads(1)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="musicmill-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.semaphore.post()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        self.realtime = _raise_priority()
        while not self._stop.is_set():
            self.semaphore.wait(0.1)
            self.step()
