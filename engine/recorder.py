"""Recording: the callback writes into a ring, a disk thread drains it into the file.

The file stays readable if the process is killed: after every chunk the WAV header is
rewritten with the current length (libsndfile's SFC_UPDATE_HEADER_NOW), so at worst the
last chunk (~``poll_s``) is missing. FLAC needs no header update to stay decodable.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import soundfile as sf

from engine import ring

_SFC_UPDATE_HEADER_NOW = 0x1060


def _subtype(path: Path) -> str | None:
    return "FLOAT" if Path(path).suffix.lower() == ".wav" else None


class Recorder:
    """Drains a ``(2 or 4, capacity)`` ring into ``path`` (the output, rows 0-1) and
    ``input_path`` (the raw input, rows 2-3 of a 4-row ring); either may be None."""

    def __init__(self, ring_arrays: tuple, path: Path | None, sample_rate_hz: int,
                 out_channels: int, input_path: Path | None = None, poll_s: float = 0.05) -> None:
        self.data, self.index = ring_arrays
        self.out_channels = out_channels
        self.poll_s = poll_s
        self.frames_written = 0
        self._output = None if path is None else sf.SoundFile(
            path, "w", sample_rate_hz, out_channels, subtype=_subtype(path))
        self._input = None if input_path is None else sf.SoundFile(
            input_path, "w", sample_rate_hz, 2, subtype=_subtype(input_path))
        self._files = [f for f in (self._output, self._input) if f is not None]
        self._chunk = np.zeros((self.data.shape[0], self.data.shape[1] // 2), dtype=np.float32)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="musicmill-recorder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Drain what is left and close the files."""
        self._stop.set()
        self._thread.join(timeout=10)
        self.drain()
        for f in self._files:
            f.close()

    def drain(self) -> int:
        n = ring.read(self.data, self.index, self._chunk, 0, self._chunk.shape[1])
        if n == 0:
            return 0
        out = self._chunk[:2, :n]
        if self._output is not None:
            self._output.write(0.5 * (out[0] + out[1]) if self.out_channels == 1 else out.T)
        if self._input is not None:
            self._input.write(self._chunk[2:4, :n].T)
        for f in self._files:
            f.flush()
            # Keep the header true so a killed process leaves a valid file.
            sf._snd.sf_command(f._file, _SFC_UPDATE_HEADER_NOW, sf._ffi.NULL, 0)
        self.frames_written += n
        return n

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            while self.drain():
                pass
