"""The shared parameter store: one float64 slot per registry parameter.

Writers (GUI, MIDI, presets, LFOs) set *targets* from any thread; the audio callback moves
the *current* values toward them with a per-sample slew limit, so a jump of the whole
range takes exactly the parameter's smoothing time and no step is ever larger than
``(max - min) / smoothing_samples``. Aligned float64 stores are atomic on the platforms
we support, so a reader sees either the old or the new target, never a torn value.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dsp.units import db_to_gain
from presets.registry import N_PARAMS, REGISTRY, SILENCE_DB, Param, param, slot_of


class ParameterStore:
    """Targets, current values and slew steps for every registered parameter."""

    def __init__(self, sample_rate_hz: float) -> None:
        # plugin slots (past the registry's) stay 0 until a plugin defines them
        self.sample_rate_hz = sample_rate_hz
        self.target = np.zeros(N_PARAMS, dtype=np.float64)
        self.current = self.target.copy()
        self.step = np.full(N_PARAMS, math.inf, dtype=np.float64)
        for i, p in enumerate(REGISTRY):
            self.define(i, p)

    def define(self, slot: int, p: Param, value: float | None = None) -> None:
        """Give ``slot`` to ``p`` at ``value`` (its default if None), without a glide."""
        smoothing_samples = p.smoothing_ms * 1e-3 * self.sample_rate_hz
        # Discrete parameters (and zero smoothing) jump: an infinite slew limit.
        jumps = p.discrete or smoothing_samples < 1
        self.step[slot] = math.inf if jumps else (p.max - p.min) / smoothing_samples
        self.target[slot] = p.default if value is None else p.check(value)
        self.current[slot] = self.target[slot]

    def set(self, id_: str, value: float) -> None:
        """Set a target, validated against the registry range."""
        self.target[_slot(id_)] = param(id_).check(value)

    def get(self, id_: str) -> float:
        """The current (smoothed) value."""
        return float(self.current[_slot(id_)])

    def jump_to_targets(self) -> None:
        """Make current equal target (before a stream or render starts: no fade-in)."""
        self.current[:] = self.target


def _slot(id_: str) -> int:
    return slot_of(id_)  # raises KeyError naming the closest id


@njit(nogil=True, cache=True, inline="always")
def value_at(current, target, step, slot, i):
    """The value of ``slot`` ``i`` samples into the block (block-size independent)."""
    v0 = current[slot]
    d = target[slot] - v0
    limit = step[slot] * i
    if d > limit:
        return v0 + limit
    if d < -limit:
        return v0 - limit
    return target[slot]


@njit(nogil=True, cache=True)
def settle_jumps(current, target, step) -> None:
    """Parameters that jump (no smoothing) take their target now."""
    for slot in range(current.shape[0]):
        if step[slot] == math.inf:
            current[slot] = target[slot]


@njit(nogil=True, cache=True)
def advance(current, target, step, n_frames) -> None:
    """Move every current value ``n_frames`` samples toward its target."""
    for slot in range(current.shape[0]):
        current[slot] = value_at(current, target, step, slot, n_frames)


@njit(nogil=True, cache=True, inline="always")
def fader_gain(db):
    """A fader's gain: ``dsp.units.db_to_gain``, and exactly 0 at or below the registry's
    silence floor, so a fader can fully close."""
    if db <= SILENCE_DB:
        return 0.0
    return db_to_gain(db)
