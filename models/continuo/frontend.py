"""The neural transcriber's front end: audio at 12 kHz to one feature frame per 128 samples.

A frame ends at the newest sample (nothing from the future) and holds two causal spectra:

- a long one (2048 samples, 171 ms, Hann) through 175 triangular filters centred every half
  semitone from MIDI 21 (A0) to 108 (C8): fine pitch, partials resolved. Where a filter is
  narrower than an FFT bin (the lowest octaves) it reads the spectrum at its centre by
  linear interpolation;
- a short one (256 samples, 21 ms) in 32 log-spaced bands from 80 Hz to 5.8 kHz: the
  attack, seen within a hop of when it happens.

Magnitudes are log-compressed (``log(mag + 1e-4)``); the model normalises them itself.
Silence gives a constant frame. The same code computes frames for a whole file (training,
offline) and hop by hop (live): :class:`StreamingFrontEnd` keeps the last 2048 samples.
"""

from __future__ import annotations

import numpy as np

RATE_HZ = 12000
HOP = 128  # 10.7 ms at 12 kHz: the algorithmic latency floor
LONG = 2048
SHORT = 256
FINE_LOW_MIDI = 21.0
FINE_STEP_ST = 0.5
N_FINE = 175
N_SHORT = 32
N_FEATURES = N_FINE + N_SHORT
FLOOR = 1e-4


def _hz(midi: np.ndarray) -> np.ndarray:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


def _filters(n_fft: int, centres_hz: np.ndarray) -> np.ndarray:
    """(bins, filters) triangles between neighbouring centres, each summing to 1."""
    bins_hz = np.arange(n_fft // 2 + 1) * RATE_HZ / n_fft
    edges = np.concatenate([[centres_hz[0] ** 2 / centres_hz[1]], centres_hz,
                            [centres_hz[-1] ** 2 / centres_hz[-2]]])
    w = np.zeros((bins_hz.size, centres_hz.size))
    for i, c in enumerate(centres_hz):
        lo, hi = edges[i], edges[i + 2]
        up = (bins_hz - lo) / (c - lo)
        down = (hi - bins_hz) / (hi - c)
        w[:, i] = np.clip(np.minimum(up, down), 0.0, None)
        if w[:, i].sum() < 1.0:  # narrower than a bin: interpolate at the centre
            w[:, i] = 0.0
            pos = c * n_fft / RATE_HZ
            j = int(pos)
            w[j, i], w[j + 1, i] = j + 1 - pos, pos - j
        w[:, i] /= w[:, i].sum()
    return w.astype(np.float32)


_FINE = _filters(LONG, _hz(FINE_LOW_MIDI + FINE_STEP_ST * np.arange(N_FINE)))
_SHORT_BANDS = _filters(SHORT, np.geomspace(80.0, 5800.0, N_SHORT))
_LONG_WINDOW = (np.hanning(LONG + 1)[:-1] * 2.0 / LONG).astype(np.float32)
_SHORT_WINDOW = (np.hanning(SHORT + 1)[:-1] * 2.0 / SHORT).astype(np.float32)


def frames_of(history: np.ndarray) -> np.ndarray:
    """Features (frames, N_FEATURES) float32 of ``history`` (frames, LONG): each row the
    last LONG samples at one hop."""
    long = np.abs(np.fft.rfft(history * _LONG_WINDOW, axis=-1)).astype(np.float32)
    short = np.abs(np.fft.rfft(history[:, -SHORT:] * _SHORT_WINDOW, axis=-1)).astype(np.float32)
    out = np.concatenate([long @ _FINE, short @ _SHORT_BANDS], axis=1)
    return np.log(out + FLOOR).astype(np.float32)


def level_db(frames: np.ndarray) -> np.ndarray:
    """Each frame's level (frames,) in dB from its short spectrum: what the last 21 ms
    held, so an attack rises within a hop and a note's end falls."""
    power = np.sum(np.exp(2.0 * frames[:, N_FINE:].astype(np.float64)), axis=1)
    return 10.0 * np.log10(power)


def features(x: np.ndarray) -> np.ndarray:
    """Frames (n // HOP, N_FEATURES) of ``x`` (n,) at RATE_HZ: frame t ends at sample
    (t + 1) * HOP, with silence before the start."""
    x = np.asarray(x, dtype=np.float32)
    n = x.size // HOP
    padded = np.concatenate([np.zeros(LONG - HOP, np.float32), x[: n * HOP]])
    view = np.lib.stride_tricks.sliding_window_view(padded, LONG)[::HOP][:n]
    out = np.empty((n, N_FEATURES), np.float32)
    for s in range(0, n, 4096):  # bounded memory on long files
        out[s: s + 4096] = frames_of(view[s: s + 4096])
    return out


class StreamingFrontEnd:
    """Hop-by-hop :func:`features`: ``push`` takes any number of 12 kHz samples and returns
    the frames completed, equal to the offline frames of the same signal."""

    def __init__(self) -> None:
        self.history = np.zeros(LONG, np.float32)
        self.pending = np.zeros(0, np.float32)

    def reset(self) -> None:
        self.history[:] = 0.0
        self.pending = np.zeros(0, np.float32)

    def push(self, x: np.ndarray) -> np.ndarray:
        buf = np.concatenate([self.pending, np.asarray(x, np.float32)])
        n = buf.size // HOP
        rows = np.empty((n, LONG), np.float32)
        for k in range(n):
            self.history[:-HOP] = self.history[HOP:]
            self.history[-HOP:] = buf[k * HOP: (k + 1) * HOP]
            rows[k] = self.history
        self.pending = buf[n * HOP:]
        return frames_of(rows) if n else np.zeros((0, N_FEATURES), np.float32)
