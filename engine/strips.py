"""The input strip and the master bus: which kernels run, in which order, on what.

    input strip:  DC blocker → high-pass → [noise reduction] → gate → low shelf → mid peak →
                  high shelf → compressor
    master bus:   auto-mix (style targets) → master fader → bus compressor → width (bass
                  kept mono) → [master plugin slot] → true-peak limiter

:func:`master` is the one definition of the master bus's order: the live block function
and the offline mix (``engine/offline/mix.py``) both run it.
"""

from __future__ import annotations

from numba import njit

from dsp import automix, biquad, compressor, dc_blocker, denoise, gate, limiter, stereo
from engine.kernels import (
    BUS_ATTACK_MS,
    BUS_KNEE_DB,
    BUS_RELEASE_MS,
    COMP_KNEE_DB,
    DC_CUTOFF_HZ,
    EQ_HIGH_HZ,
    EQ_LOW_HZ,
    EQ_MID_Q,
    EQ_SHELF_Q,
    GATE_ATTACK_MS,
    GATE_HOLD_MS,
    GATE_RATIO,
    GATE_RELEASE_MS,
    HPF_Q,
    K_AUTOMIX,
    K_BUS_COMP,
    K_COMP,
    K_DC,
    K_DENOISE,
    K_EQ_HIGH,
    K_EQ_LOW,
    K_EQ_MID,
    K_GATE,
    K_HPF,
    K_LIMITER,
    K_WIDTH,
    view,
)
from engine.params import fader_gain, value_at
from presets.registry import INDEX

P_STRIP_ON = INDEX["input_strip_on"]
P_BUS_ON = INDEX["master_bus_on"]
P_INPUT_HPF = INDEX["input_hpf_hz"]
P_DENOISE = INDEX["denoise_amount"]
P_GATE_THRESHOLD = INDEX["gate_threshold_db"]
P_GATE_RANGE = INDEX["gate_range_db"]
P_EQ_LOW = INDEX["eq_low_gain_db"]
P_EQ_MID = INDEX["eq_mid_gain_db"]
P_EQ_MID_FREQ = INDEX["eq_mid_freq_hz"]
P_EQ_HIGH = INDEX["eq_high_gain_db"]
P_COMP_THRESHOLD = INDEX["comp_threshold_db"]
P_COMP_RATIO = INDEX["comp_ratio"]
P_COMP_ATTACK = INDEX["comp_attack_ms"]
P_COMP_RELEASE = INDEX["comp_release_ms"]
P_COMP_MAKEUP = INDEX["comp_makeup_db"]
P_MASTER_GAIN = INDEX["master_gain_db"]
P_BUS_THRESHOLD = INDEX["bus_comp_threshold_db"]
P_BUS_RATIO = INDEX["bus_comp_ratio"]
P_WIDTH = INDEX["master_width"]
P_CEILING = INDEX["limiter_ceiling_dbtp"]
P_LIMITER_RELEASE = INDEX["limiter_release_ms"]
P_AUTOMIX_AMOUNT = INDEX["automix_amount"]
P_AUTOMIX_LUFS = INDEX["automix_loudness_lufs"]
P_AUTOMIX_BRIGHT = INDEX["automix_brightness_db"]
P_AUTOMIX_WIDTH = INDEX["automix_width_db"]


@njit(nogil=True, cache=True)
def input_strip(blob, offsets, p, x, denoise_on):
    """Process the dry stem ``x (2, n)`` in place with the parameter values ``p``; the noise
    reduction runs when ``denoise_on`` (it adds its latency, so it is chosen at start)."""
    on = p[P_STRIP_ON] >= 0.5
    if on:
        dc_blocker.process(view(blob, offsets, K_DC), DC_CUTOFF_HZ, x, x)
        biquad.process(view(blob, offsets, K_HPF), biquad.HIGHPASS, p[P_INPUT_HPF], HPF_Q,
                       0.0, x, x)
    if denoise_on:  # even with the strip off: its latency must not come and go
        denoise.process(view(blob, offsets, K_DENOISE), p[P_DENOISE], x, x)
    if not on:
        return
    gate.process(view(blob, offsets, K_GATE), p[P_GATE_THRESHOLD], GATE_RATIO,
                 p[P_GATE_RANGE], GATE_ATTACK_MS, GATE_HOLD_MS, GATE_RELEASE_MS, x, x)
    biquad.process(view(blob, offsets, K_EQ_LOW), biquad.LOWSHELF, EQ_LOW_HZ, EQ_SHELF_Q,
                   p[P_EQ_LOW], x, x)
    biquad.process(view(blob, offsets, K_EQ_MID), biquad.PEAK, p[P_EQ_MID_FREQ], EQ_MID_Q,
                   p[P_EQ_MID], x, x)
    biquad.process(view(blob, offsets, K_EQ_HIGH), biquad.HIGHSHELF, EQ_HIGH_HZ, EQ_SHELF_Q,
                   p[P_EQ_HIGH], x, x)
    compressor.process(view(blob, offsets, K_COMP), p[P_COMP_THRESHOLD], p[P_COMP_RATIO],
                       COMP_KNEE_DB, p[P_COMP_ATTACK], p[P_COMP_RELEASE], p[P_COMP_MAKEUP],
                       x, x)


@njit(nogil=True, cache=True)
def auto_mix(blob, offsets, p, x):
    """The master's first stage, before the master fader (so the fader is not ridden
    back): the auto-mix on ``x (2, n)`` in place."""
    am = view(blob, offsets, K_AUTOMIX)
    automix.set_params(am, p[P_AUTOMIX_AMOUNT], p[P_AUTOMIX_LUFS], p[P_AUTOMIX_BRIGHT],
                       p[P_AUTOMIX_WIDTH])
    automix.process(am, x)


@njit(nogil=True, cache=True)
def master_bus(blob, offsets, p, x):
    """Process the master ``x (2, n)`` in place with the parameter values ``p`` (after
    :func:`auto_mix` and the master fader)."""
    master_dynamics(blob, offsets, p, x)
    master_limit(blob, offsets, p, x)


@njit(nogil=True, cache=True)
def master_dynamics(blob, offsets, p, x):
    """The bus compressor and the width stage (when the bus is on)."""
    if p[P_BUS_ON] >= 0.5:
        compressor.process(view(blob, offsets, K_BUS_COMP), p[P_BUS_THRESHOLD],
                           p[P_BUS_RATIO], BUS_KNEE_DB, BUS_ATTACK_MS, BUS_RELEASE_MS, 0.0, x, x)
        width = view(blob, offsets, K_WIDTH)
        stereo.set_width(width, p[P_WIDTH])
        stereo.process_width(width, x, x)


@njit(nogil=True, cache=True)
def master_limit(blob, offsets, p, x):
    """The true-peak limiter: the master's last stage."""
    lim = view(blob, offsets, K_LIMITER)
    limiter.set_params(lim, p[P_CEILING], p[P_LIMITER_RELEASE])
    limiter.process(lim, x, x)


@njit(nogil=True, cache=True)
def learn_noise(blob, offsets, seconds):
    """The noise reduction takes the next ``seconds`` as the room's noise."""
    denoise.capture(view(blob, offsets, K_DENOISE), seconds)


@njit(nogil=True, cache=True)
def master(blob, offsets, p_target, p_current, p_step, x, bus_on):
    """The master bus on ``x (2, n)`` in place: the auto-mix, the master fader (gliding per
    sample), then the bus stages; with ``bus_on`` False the fader alone."""
    master_pre_limit(blob, offsets, p_target, p_current, p_step, x, bus_on)
    if bus_on:
        master_limit(blob, offsets, p_current, x)


@njit(nogil=True, cache=True)
def master_pre_limit(blob, offsets, p_target, p_current, p_step, x, bus_on):
    """:func:`master` up to the limiter (the master plugin slot sits between the two)."""
    if bus_on:
        auto_mix(blob, offsets, p_current, x)
    for i in range(x.shape[1]):
        g = fader_gain(value_at(p_current, p_target, p_step, P_MASTER_GAIN, i))
        x[0, i] *= g
        x[1, i] *= g
    if bus_on:
        master_dynamics(blob, offsets, p_current, x)
