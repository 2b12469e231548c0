"""Procedural drum loops for training and testing the drum model.

Each clip is a random pattern played by the Numba drum synthesizer (``dsp/drums.py``) with
wide voice settings, then augmented. Everything is drawn from one seed, so clip ``k`` of a
split is the same on every machine and a resumed training run sees the same data.

Pattern: tempo 70-180 BPM on a 16th-note grid with swing 0-30 %; each voice is in the loop
with its own probability and step density (kick likelier on beats, hats on 8ths), velocity
0.3-1.0, plus occasional off-grid ghost notes and flams. Voices: tune -8..+8 st, decay
0.35-2.8x (log-uniform), level -14..0 dB. Augmentation: EQ (low shelf, high shelf, peak,
+-6 dB each), a room (exponentially decaying noise, RT60 0.05-0.5 s, wet 0-35 %) half the
time, peak level -24..-1 dBFS, and a noise floor 45-75 dB under the peak.

Splits draw from disjoint seed streams: ``train`` clips from ``seed`` = step-derived
numbers below 10**9, ``heldout`` from 10**9 up.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from dsp import biquad, drums
from dsp.units import db_to_gain, db_to_gain_array, gain_to_db

SAMPLE_RATE_HZ = 48000
HELDOUT_SEED_BASE = 10**9
# Per voice: probability that it plays in a loop, step-density range.
_PRESENCE = np.array([0.95, 0.85, 0.8, 0.35, 0.25, 0.25, 0.25, 0.3])
_DENSITY = ((0.15, 0.45), (0.1, 0.35), (0.3, 0.9), (0.05, 0.2), (0.03, 0.15), (0.03, 0.15),
            (0.03, 0.15), (0.05, 0.25))


def _pattern(rng: np.random.Generator, seconds: float) -> list[tuple[float, int, float]]:
    bpm = rng.uniform(70.0, 180.0)
    step_s = 60.0 / bpm / 4.0
    swing = rng.uniform(0.0, 0.3) * step_s
    # Start a little before 0 so clips also begin inside a sounding hit.
    t0 = -rng.uniform(0.0, 4 * step_s)
    events = []
    n_steps = int((seconds - t0) / step_s) + 1
    for voice in range(drums.N_VOICES):
        if rng.random() > _PRESENCE[voice]:
            continue
        density = rng.uniform(*_DENSITY[voice])
        for k in range(n_steps):
            weight = 1.0
            if voice == drums.KICK:
                weight = 2.0 if k % 4 == 0 else 0.6
            elif voice in (drums.HAT_CLOSED, drums.HAT_OPEN):
                weight = 1.5 if k % 2 == 0 else 0.8
            if rng.random() < min(1.0, density * weight):
                t = t0 + k * step_s + (swing if k % 2 else 0.0)
                events.append((t, voice, rng.uniform(0.3, 1.0)))
    for _ in range(rng.poisson(seconds * 1.5)):  # ghost notes and flams, off the grid
        events.append((rng.uniform(0.0, seconds), int(rng.integers(drums.N_VOICES)),
                       rng.uniform(0.1, 0.6)))
    return [(t, v, vel) for t, v, vel in events if t >= 0.0] or [(0.0, drums.KICK, 0.8)]


def _voice_params(rng: np.random.Generator) -> np.ndarray:
    p = drums.default_params()
    p[:, drums.PARAM_TUNE] = rng.uniform(-8.0, 8.0, drums.N_VOICES)
    p[:, drums.PARAM_DECAY] = np.exp(rng.uniform(np.log(0.35), np.log(2.8), drums.N_VOICES))
    p[:, drums.PARAM_LEVEL] = rng.uniform(-14.0, 0.0, drums.N_VOICES)
    return p


def _room(x: np.ndarray, rng: np.random.Generator, sr: int) -> np.ndarray:
    rt60 = rng.uniform(0.05, 0.5)
    n = int(rt60 * sr)
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * db_to_gain_array(-60.0 * t / rt60)  # -60 dB at rt60
    tail[: int(rng.uniform(0.002, 0.012) * sr)] = 0.0
    ir = rng.uniform(0.0, 0.35) * tail / np.sqrt(np.sum(tail**2) + 1e-20)
    ir[0] += 1.0
    return signal.fftconvolve(x, ir)[: x.size]


def _augment(x: np.ndarray, rng: np.random.Generator, sr: int) -> np.ndarray:
    for kind, lo, hi in ((biquad.LOWSHELF, 60.0, 300.0), (biquad.HIGHSHELF, 2000.0, 8000.0),
                         (biquad.PEAK, 150.0, 10000.0)):
        f = np.exp(rng.uniform(np.log(lo), np.log(hi)))
        b, a = biquad.coefficients(kind, f, rng.uniform(0.5, 2.0), rng.uniform(-6, 6), sr)
        x = signal.lfilter(b, a, x)
    if rng.random() < 0.5:
        x = _room(x, rng, sr)
    peak = np.max(np.abs(x))
    if peak > 0:
        x = x * (db_to_gain(rng.uniform(-24.0, -1.0)) / peak)
    floor_db = gain_to_db(np.max(np.abs(x)) + 1e-12) - rng.uniform(45.0, 75.0)
    return x + rng.standard_normal(x.size) * db_to_gain(floor_db)


def clip(seed: int, seconds: float, sr: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """One augmented loop: float32 ``(round(seconds * sr),)`` mono, peak at most -1 dBFS."""
    rng = np.random.default_rng(seed)
    events = _pattern(rng, seconds)
    stereo = drums.render_pattern(events, seconds, float(sr), _voice_params(rng),
                                  seed=int(rng.integers(1, 2**31)))
    return _augment(stereo.mean(axis=0).astype(np.float64), rng, sr).astype(np.float32)


def batch(first_seed: int, size: int, frames: int, sr: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """``size`` clips of ``frames`` samples from seeds ``first_seed...``: ``(size, 1, frames)``."""
    out = np.empty((size, 1, frames), np.float32)
    for i in range(size):
        out[i, 0] = clip(first_seed + i, frames / sr, sr)[:frames]
    return out


def heldout(index: int, seconds: float = 4.0, sr: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """Held-out loop ``index`` (seeds no training step draws)."""
    return clip(HELDOUT_SEED_BASE + index, seconds, sr)
