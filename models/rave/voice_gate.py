"""The model path stays silent until the voice reaches it: silence in, silence out.

A model's output before the first input it has heard is its answer to its start state (the
caches as exported): the shipped drum model, reset, plays a -21 dBFS burst 14 ms in on pure
silence, at every start, reset and model swap. And many models hiss on silence. So the wet
signal is gated by the *input*: each spell of sound at the input (peak above
``SILENCE_PEAK``) opens the gate for the output samples that answer it, from ``delay``
frames after the spell starts (the model's own delay: the output before that does not
depend on the input yet) until ``hold`` after the spell ends, with short linear fades at
both ends. Nothing the voice causes is cut: its answer starts at ``delay`` at the earliest,
and the gate is fully open by then.
"""

from __future__ import annotations

import numpy as np

SILENCE_PEAK = 1e-4  # -80 dBFS: input at or below it is silence
HOLD_S = 1.0  # the gate stays open this long after the voice's answer (decay tails)
FADE_MS = 10.0


class VoiceGate:
    """Gains for the wet signal, block by block, at one sample rate.

    ``delay_frames``: output frames between an input sample and the first output it can
    influence. Spells of sound are tracked as (first, last) input frames; the gain at output
    frame ``t`` is 1 while some spell's answer is playing, with a fade into and out of it.
    """

    def __init__(self, sample_rate_hz: float, delay_frames: int) -> None:
        self.delay = int(delay_frames)
        self.hold = int(round(HOLD_S * sample_rate_hz))
        self.fade = max(1, int(round(FADE_MS * 1e-3 * sample_rate_hz)))
        self.reset()

    def reset(self) -> None:
        """Closed, as at the start: nothing heard yet."""
        self._t = 0  # input (and output) frames so far
        self._spells: list[list[int]] = []  # [first, last] input frame of each spell

    def gains(self, block: np.ndarray, keep_open: bool = False) -> np.ndarray:
        """The wet signal's gains ``(n,)`` for the output frames of this block, given its
        input ``block (channels, n)`` (the clock advances by ``n``); ``keep_open``: treat
        the block as sound (a generator is playing, the input does not matter)."""
        n = block.shape[1]
        t0 = self._t
        self._t += n
        if keep_open:
            loud = np.arange(n)
        else:
            loud = np.flatnonzero(np.abs(block).max(axis=0) > SILENCE_PEAK)
        for first, last in _runs(loud, self.hold):
            first, last = t0 + first, t0 + last
            if self._spells and first - self._spells[-1][1] <= self.hold:
                self._spells[-1][1] = last  # the same spell goes on
            else:
                self._spells.append([first, last])
        if not self._spells:
            return np.zeros(n, np.float32)
        first, last = self._spells[-1]
        if first + self.delay <= t0 and t0 + n <= last + self.delay + self.hold:
            return np.ones(n, np.float32)  # inside the latest answer: fully open
        t = np.arange(t0, t0 + n, dtype=np.float64)
        gain = np.zeros(n)
        for first, last in self._spells:
            rise = (t - (first + self.delay - self.fade)) / self.fade
            fall = ((last + self.delay + self.hold + self.fade) - t) / self.fade
            gain = np.maximum(gain, np.clip(np.minimum(rise, fall), 0.0, 1.0))
        # forget spells whose answer has faded out for good (the last one is kept: the
        # next sound may continue it)
        self._spells = [s for s in self._spells[:-1]
                        if s[1] + self.delay + self.hold + self.fade > t0 + n] + \
            self._spells[-1:]
        return gain.astype(np.float32)


def _runs(loud: np.ndarray, hold: int) -> list[tuple[int, int]]:
    """The (first, last) of each run of ``loud`` indices, runs split where they are more
    than ``hold`` apart (as a block size of one would see them)."""
    if loud.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(loud) > hold)
    starts = np.concatenate([[0], cuts + 1])
    ends = np.concatenate([cuts, [loud.size - 1]])
    return [(int(loud[a]), int(loud[b])) for a, b in zip(starts, ends, strict=True)]
