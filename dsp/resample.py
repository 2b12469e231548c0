"""Sample-rate conversion with soxr, whole-file and streaming (for the worker thread).

Nothing here runs in the audio callback: models that need another rate resample on the
worker, where soxr's own buffering is harmless.
"""

from __future__ import annotations

import numpy as np
import soxr


def resample(x: np.ndarray, from_hz: float, to_hz: float, quality: str = "VHQ") -> np.ndarray:
    """Resample ``x (frames,)`` or ``(frames, channels)`` from ``from_hz`` to ``to_hz``."""
    if from_hz <= 0 or to_hz <= 0:
        raise ValueError(f"sample rates must be positive, got {from_hz} -> {to_hz}")
    if from_hz == to_hz:
        return np.asarray(x, dtype=np.float32)
    return soxr.resample(np.asarray(x, dtype=np.float32), from_hz, to_hz, quality)


class StreamResampler:
    """Block-by-block resampling with state carried across blocks.

    ``delay_frames``: how many output frames soxr holds back, for latency reports.
    """

    def __init__(self, from_hz: float, to_hz: float, channels: int, quality: str = "HQ") -> None:
        self.from_hz, self.to_hz, self.channels = from_hz, to_hz, channels
        self._stream = soxr.ResampleStream(from_hz, to_hz, channels, dtype="float32",
                                           quality=quality)
        self.delay_frames = self._measure_delay(from_hz, to_hz, channels, quality)

    @staticmethod
    def _measure_delay(from_hz: float, to_hz: float, channels: int, quality: str) -> int:
        # soxr aligns its output with the input but holds back the filter's length: the
        # shortfall after a first chunk is how late every output frame is.
        probe = soxr.ResampleStream(from_hz, to_hz, channels, dtype="float32", quality=quality)
        n = int(from_hz // 10)
        produced = probe.resample_chunk(np.zeros((n, channels), dtype=np.float32)).shape[0]
        return int(round(n * to_hz / from_hz)) - produced

    def process(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        """Feed ``x (frames, channels)``; returns whatever output is ready (may be empty)."""
        return self._stream.resample_chunk(np.ascontiguousarray(x, dtype=np.float32), last=last)
