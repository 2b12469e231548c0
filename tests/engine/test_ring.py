import threading
from collections import deque

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from engine import ring


class Ring:
    """A Python handle on one ring, for driving it from the tests."""

    def __init__(self, n_channels: int, min_capacity_frames: int) -> None:
        self.data, self.index = ring.make_ring(n_channels, min_capacity_frames)

    @property
    def capacity(self) -> int:
        return self.data.shape[1]

    def readable(self) -> int:
        return ring.readable(self.data, self.index)

    def writable(self) -> int:
        return ring.writable(self.data, self.index)

    def write(self, frames: np.ndarray) -> int:
        frames = np.ascontiguousarray(frames, dtype=self.data.dtype)
        return ring.write(self.data, self.index, frames, 0, frames.shape[1])

    def read(self, n_frames: int) -> np.ndarray:
        out = np.empty((self.data.shape[0], n_frames), dtype=self.data.dtype)
        return out[:, :ring.read(self.data, self.index, out, 0, n_frames)]


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(1, 64),
    channels=st.integers(1, 3),
    ops=st.lists(st.tuples(st.booleans(), st.integers(0, 80)), max_size=60),
)
def test_ring_matches_a_fifo_model(capacity, channels, ops):
    r = Ring(channels, capacity)
    model: deque[int] = deque()
    counter = 0
    for is_write, n in ops:
        if is_write:
            frames = np.arange(counter, counter + n, dtype=np.float32)
            block = np.tile(frames, (channels, 1)) + np.arange(channels)[:, None] * 1000
            written = r.write(block)
            # a write takes exactly what fits, never more
            assert written == min(n, r.capacity - len(model))
            model.extend(range(counter, counter + written))
            counter += n
        else:
            out = r.read(n)
            expected = [model.popleft() for _ in range(min(n, len(model)))]
            assert out.shape == (channels, len(expected))
            for c in range(channels):
                assert out[c].tolist() == [e + 1000 * c for e in expected]
        assert r.readable() == len(model)
        assert r.writable() == r.capacity - len(model)


def test_capacity_is_next_power_of_two():
    assert Ring(1, 1000).capacity == 1024
    assert Ring(1, 1024).capacity == 1024


@njit(nogil=True)
def _produce(data, index, total, chunk):
    src = np.empty((1, chunk), dtype=np.float64)
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        for i in range(n):
            src[0, i] = sent + i
        done = 0
        while done < n:  # spin: the consumer frees space
            done += ring.write(data, index, src, done, n - done)
        sent += n


@njit(nogil=True)
def _consume(data, index, total, chunk, errors):
    dst = np.empty((1, chunk), dtype=np.float64)
    expected = 0
    while expected < total:
        n = ring.read(data, index, dst, 0, chunk)
        for i in range(n):
            if dst[0, i] != expected:
                errors[0] += 1
            expected += 1
    return expected


def test_two_threads_move_ten_million_samples_in_order():
    total = 10_000_000
    data, index = ring.make_ring(1, 4096, dtype=np.float64)
    errors = np.zeros(1, dtype=np.int64)
    received = []
    # different chunk sizes on each side force partial reads and wrap-around
    producer = threading.Thread(target=_produce, args=(data, index, total, 257))
    consumer = threading.Thread(
        target=lambda: received.append(_consume(data, index, total, 1000, errors)))
    consumer.start()
    producer.start()
    producer.join(120)
    consumer.join(120)
    assert received == [total]
    assert errors[0] == 0  # nothing lost, duplicated or reordered
    assert ring.readable(data, index) == 0
