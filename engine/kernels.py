"""Every DSP kernel of the fixed topology, its state in one float64 blob.

``offsets[k]:offsets[k + 1]`` is kernel ``k``'s slice of the blob, so the callback reaches
all of them through two arrays, and adding a kernel never changes the callback's
signature. Kernels glide their own coefficients, so the stages hand them the parameter
store's current values once per block. Which stage runs which kernel: ``engine/strips.py``
(input strip, master bus) and ``engine/voices.py`` (drums, sampler, transcriber).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from dsp import (
    automix,
    beatbox,
    biquad,
    compressor,
    dc_blocker,
    denoise,
    drums,
    gate,
    limiter,
    sampler,
    stereo,
    transcriber,
)
from dsp.io.jsonfile import json_number
from presets.registry import DRUM_VOICES, INDEX

(K_DC, K_HPF, K_GATE, K_EQ_LOW, K_EQ_MID, K_EQ_HIGH, K_COMP, K_BUS_COMP, K_WIDTH,
 K_LIMITER, K_DRUMS, K_DRUM_PARAMS, K_BEATBOX, K_BEATBOX_WEIGHTS, K_BEATBOX_EVENTS,
 K_BEATBOX_FEATS, K_SAMPLER, K_SAMPLER_PARAMS, K_SAMPLER_TABLE, K_KIT, K_KIT_PARAMS,
 K_KIT_MAP, K_TRANSCRIBER, K_TRANSCRIBER_EVENTS, K_AUTOMIX, K_DENOISE) = range(26)
N_KERNELS = 26

DC_CUTOFF_HZ = 5.0
HPF_Q = 0.7071
EQ_LOW_HZ, EQ_HIGH_HZ, EQ_SHELF_Q, EQ_MID_Q = 150.0, 6000.0, 0.7071, 0.9
GATE_ATTACK_MS, GATE_HOLD_MS, GATE_RELEASE_MS, GATE_RATIO = 0.5, 20.0, 120.0, 4.0
COMP_KNEE_DB = 6.0
BUS_KNEE_DB, BUS_ATTACK_MS, BUS_RELEASE_MS = 6.0, 30.0, 300.0
WIDTH_CROSSOVER_HZ = 120.0
LIMITER_LOOKAHEAD_MS = 2.0

KIT_RELEASE_MS = 15.0  # how fast a choked kit sample (an open hat cut by the voice) fades

def prepare(sample_rate_hz: float, values: np.ndarray,
            bank_table: np.ndarray | None = None,
            kit_map: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Allocate every kernel, settled at the parameter ``values``; returns (blob, offsets).

    ``kit_map``: per drum voice, the bank slice its hits play instead of the synth (-1:
    the synth), see ``models.samplebank.pack.kit_map``.
    """
    def v(id_: str) -> float:
        return values[INDEX[id_]]

    states = [None] * N_KERNELS
    states[K_DC] = dc_blocker.prepare(2, sample_rate_hz, DC_CUTOFF_HZ)
    states[K_HPF] = biquad.prepare(2, sample_rate_hz, biquad.HIGHPASS, v("input_hpf_hz"), HPF_Q)
    states[K_GATE] = gate.prepare(sample_rate_hz)
    states[K_EQ_LOW] = biquad.prepare(2, sample_rate_hz, biquad.LOWSHELF, EQ_LOW_HZ,
                                      EQ_SHELF_Q, v("eq_low_gain_db"))
    states[K_EQ_MID] = biquad.prepare(2, sample_rate_hz, biquad.PEAK, v("eq_mid_freq_hz"),
                                      EQ_MID_Q, v("eq_mid_gain_db"))
    states[K_EQ_HIGH] = biquad.prepare(2, sample_rate_hz, biquad.HIGHSHELF, EQ_HIGH_HZ,
                                       EQ_SHELF_Q, v("eq_high_gain_db"))
    states[K_COMP] = compressor.prepare(sample_rate_hz, compressor.LINK_MAX)
    states[K_BUS_COMP] = compressor.prepare(sample_rate_hz, compressor.LINK_MAX)
    states[K_WIDTH] = stereo.prepare_width(sample_rate_hz, WIDTH_CROSSOVER_HZ, v("master_width"))
    states[K_LIMITER] = limiter.prepare(2, sample_rate_hz, v("limiter_ceiling_dbtp"),
                                        v("limiter_release_ms"), LIMITER_LOOKAHEAD_MS)
    states[K_DRUMS] = drums.prepare(sample_rate_hz)
    states[K_DRUM_PARAMS] = drums.default_params().reshape(-1)
    states[K_BEATBOX] = beatbox.prepare(sample_rate_hz, v("beatbox_threshold_db"),
                                        v("beatbox_sensitivity_db"),
                                        gate_db=v("beatbox_hat_gate_db"))
    states[K_BEATBOX_WEIGHTS] = load_classifier()
    states[K_BEATBOX_EVENTS] = np.zeros(beatbox.MAX_EVENTS * beatbox.EV_SIZE)
    states[K_BEATBOX_FEATS] = np.zeros(beatbox.N_FEATURES)
    states[K_SAMPLER] = sampler.prepare(sample_rate_hz)
    states[K_SAMPLER_PARAMS] = sampler.default_params()
    table = sampler.empty_bank()[1] if bank_table is None else bank_table
    states[K_SAMPLER_TABLE] = np.ascontiguousarray(table, dtype=np.float64).ravel()
    # The drum kit: a second sampler over the same bank, playing slices at their own pitch
    # into the drums stem, with its own fixed envelope (no attack ramp on a drum hit).
    states[K_KIT] = sampler.prepare(sample_rate_hz)
    kit_params = sampler.default_params()
    kit_params[sampler.P_MODE] = sampler.MODE_INDEX
    kit_params[sampler.P_ATTACK_MS] = 0.0
    kit_params[sampler.P_RELEASE_MS] = KIT_RELEASE_MS
    states[K_KIT_PARAMS] = kit_params
    states[K_KIT_MAP] = (np.full(len(DRUM_VOICES), -1.0) if kit_map is None
                         else np.asarray(kit_map, dtype=np.float64).copy())
    states[K_TRANSCRIBER] = transcriber.prepare(sample_rate_hz)
    states[K_TRANSCRIBER_EVENTS] = np.zeros(transcriber.MAX_EVENTS * transcriber.EV_SIZE)
    states[K_AUTOMIX] = automix.prepare(sample_rate_hz)
    states[K_DENOISE] = denoise.prepare(sample_rate_hz)
    if states[K_KIT_MAP].shape != (len(DRUM_VOICES),):
        raise ValueError(f"kit_map needs one slice (or -1) per drum voice ({len(DRUM_VOICES)})")
    offsets = np.zeros(N_KERNELS + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([s.shape[0] for s in states])
    return np.concatenate(states), offsets


def latency_frames(blob: np.ndarray, offsets: np.ndarray) -> int:
    """Frames of delay the master bus adds (the limiter's lookahead)."""
    return limiter.latency_samples(view(blob, offsets, K_LIMITER))


def denoise_latency_frames(blob: np.ndarray, offsets: np.ndarray) -> int:
    """Frames of delay the input strip's noise reduction adds when it is on."""
    return denoise.latency_samples(view(blob, offsets, K_DENOISE))


@njit(nogil=True, cache=True, inline="always")
def view(blob, offsets, k):
    """Kernel ``k``'s state: a slice of the blob."""
    return blob[offsets[k]: offsets[k + 1]]


@functools.cache
def load_classifier() -> np.ndarray:
    """The shipped beatbox classifier, flat (``dsp.beatbox.pack_weights`` layout).

    Read once per process: every Engine copies it into its own kernel blob.
    """
    from models.beatbox.classifier import load_weights

    return load_weights()


def automix_readings(blob: np.ndarray, offsets: np.ndarray) -> dict[str, float | None]:
    """What the auto-mix measures and applies now (``dsp.automix.READINGS``); None for a
    measurement while nothing has been heard (JSON has no -inf)."""
    r = automix.readings(view(blob, offsets, K_AUTOMIX))
    return {k: json_number(v) for k, v in r.items()}


def gain_reduction_db(blob: np.ndarray, offsets: np.ndarray) -> dict[str, float]:
    """Current gain reduction of the dynamics kernels (positive dB), for meters."""
    return {
        "comp": float(view(blob, offsets, K_COMP)[compressor.GR_DB]),
        "bus_comp": float(view(blob, offsets, K_BUS_COMP)[compressor.GR_DB]),
        "gate": float(view(blob, offsets, K_GATE)[gate.ATTENUATION_DB]),
        "limiter": float(limiter.gain_reduction_db(view(blob, offsets, K_LIMITER))),
    }
