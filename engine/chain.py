"""The DSP kernels of the fixed topology: input strip and master bus.

Every kernel's state lives in one float64 *blob*; ``offsets[k]:offsets[k + 1]`` is kernel
``k``'s slice, so the callback reaches all of them through two arrays and adding a kernel
never changes the callback's signature. Kernels glide their own coefficients, so the
chain hands them the parameter store's current values once per block.

    input strip:  DC blocker → high-pass → gate → low shelf → mid peak → high shelf → compressor
    master bus:   auto-mix (style targets) → master fader → bus compressor → width (bass
                  kept mono) → true-peak limiter
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit

from dsp import (
    automix,
    beatbox,
    biquad,
    compressor,
    dc_blocker,
    drums,
    gate,
    limiter,
    sampler,
    stereo,
    transcriber,
)
from engine import ring
from presets.registry import DRUM_VOICES, INDEX

(K_DC, K_HPF, K_GATE, K_EQ_LOW, K_EQ_MID, K_EQ_HIGH, K_COMP, K_BUS_COMP, K_WIDTH,
 K_LIMITER, K_DRUMS, K_DRUM_PARAMS, K_BEATBOX, K_BEATBOX_WEIGHTS, K_BEATBOX_EVENTS,
 K_BEATBOX_FEATS, K_SAMPLER, K_SAMPLER_PARAMS, K_SAMPLER_TABLE, K_KIT, K_KIT_PARAMS,
 K_KIT_MAP, K_TRANSCRIBER, K_TRANSCRIBER_EVENTS, K_AUTOMIX) = range(25)
N_KERNELS = 25

DC_CUTOFF_HZ = 5.0
HPF_Q = 0.7071
EQ_LOW_HZ, EQ_HIGH_HZ, EQ_SHELF_Q, EQ_MID_Q = 150.0, 6000.0, 0.7071, 0.9
GATE_ATTACK_MS, GATE_HOLD_MS, GATE_RELEASE_MS, GATE_RATIO = 0.5, 20.0, 120.0, 4.0
COMP_KNEE_DB = 6.0
BUS_KNEE_DB, BUS_ATTACK_MS, BUS_RELEASE_MS = 6.0, 30.0, 300.0
WIDTH_CROSSOVER_HZ = 120.0
LIMITER_LOOKAHEAD_MS = 2.0

P_INPUT_HPF = INDEX["input_hpf_hz"]
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
P_BUS_THRESHOLD = INDEX["bus_comp_threshold_db"]
P_BUS_RATIO = INDEX["bus_comp_ratio"]
P_WIDTH = INDEX["master_width"]
P_CEILING = INDEX["limiter_ceiling_dbtp"]
P_LIMITER_RELEASE = INDEX["limiter_release_ms"]
P_AUTOMIX_AMOUNT = INDEX["automix_amount"]
P_AUTOMIX_LUFS = INDEX["automix_loudness_lufs"]
P_AUTOMIX_BRIGHT = INDEX["automix_brightness_db"]
P_AUTOMIX_WIDTH = INDEX["automix_width_db"]
# (voice, column) -> parameter slot, in dsp.drums' params layout
P_DRUM = np.array([[INDEX[f"drum_{v}_tune_st"], INDEX[f"drum_{v}_decay"],
                    INDEX[f"drum_{v}_level_db"]] for v in DRUM_VOICES], dtype=np.int64)
P_KIT_ON = INDEX["drum_kit_samples"]
KIT_RELEASE_MS = 15.0  # how fast a choked kit sample (an open hat cut by the voice) fades
MAX_TRIGGERS_PER_BLOCK = 64
P_BEATBOX_ON = INDEX["beatbox_trigger"]
P_BEATBOX_THRESHOLD = INDEX["beatbox_threshold_db"]
P_BEATBOX_RISE = INDEX["beatbox_sensitivity_db"]
P_BEATBOX_GATE = INDEX["beatbox_hat_gate_db"]
# registry slots in dsp.sampler's params order
P_SAMPLER = np.array([INDEX[k] for k in (
    "sampler_mode", "sampler_attack_ms", "sampler_release_ms", "grain_size_ms",
    "grain_density_hz", "grain_position", "grain_spray", "sampler_pitch_st")], dtype=np.int64)
MAX_NOTES_PER_BLOCK = 64


def prepare(sample_rate_hz: float, values: np.ndarray,
            bank_table: np.ndarray | None = None,
            kit_map: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Allocate every kernel, settled at the parameter ``values``; returns (blob, offsets).

    ``kit_map``: per drum voice, the bank slice its hits play instead of the synth (-1:
    the synth), see ``engine.bank.pack.kit_map``.
    """
    v = values
    states = [None] * N_KERNELS
    states[K_DC] = dc_blocker.prepare(2, sample_rate_hz, DC_CUTOFF_HZ)
    states[K_HPF] = biquad.prepare(2, sample_rate_hz, biquad.HIGHPASS, v[P_INPUT_HPF], HPF_Q)
    states[K_GATE] = gate.prepare(sample_rate_hz)
    states[K_EQ_LOW] = biquad.prepare(2, sample_rate_hz, biquad.LOWSHELF, EQ_LOW_HZ,
                                      EQ_SHELF_Q, v[P_EQ_LOW])
    states[K_EQ_MID] = biquad.prepare(2, sample_rate_hz, biquad.PEAK, v[P_EQ_MID_FREQ],
                                      EQ_MID_Q, v[P_EQ_MID])
    states[K_EQ_HIGH] = biquad.prepare(2, sample_rate_hz, biquad.HIGHSHELF, EQ_HIGH_HZ,
                                       EQ_SHELF_Q, v[P_EQ_HIGH])
    states[K_COMP] = compressor.prepare(sample_rate_hz, compressor.LINK_MAX)
    states[K_BUS_COMP] = compressor.prepare(sample_rate_hz, compressor.LINK_MAX)
    states[K_WIDTH] = stereo.prepare_width(sample_rate_hz, WIDTH_CROSSOVER_HZ, v[P_WIDTH])
    states[K_LIMITER] = limiter.prepare(2, sample_rate_hz, v[P_CEILING], v[P_LIMITER_RELEASE],
                                        LIMITER_LOOKAHEAD_MS)
    states[K_DRUMS] = drums.prepare(sample_rate_hz)
    states[K_DRUM_PARAMS] = drums.default_params().reshape(-1)
    states[K_BEATBOX] = beatbox.prepare(sample_rate_hz, v[P_BEATBOX_THRESHOLD],
                                        v[P_BEATBOX_RISE], gate_db=v[P_BEATBOX_GATE])
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
    if states[K_KIT_MAP].shape != (len(DRUM_VOICES),):
        raise ValueError(f"kit_map needs one slice (or -1) per drum voice ({len(DRUM_VOICES)})")
    offsets = np.zeros(N_KERNELS + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([s.shape[0] for s in states])
    return np.concatenate(states), offsets


def latency_frames(blob: np.ndarray, offsets: np.ndarray) -> int:
    """Frames of delay the chain adds (the limiter's lookahead)."""
    return limiter.latency_samples(blob[offsets[K_LIMITER]: offsets[K_LIMITER + 1]])


@njit(nogil=True, cache=True, inline="always")
def _state(blob, offsets, k):
    return blob[offsets[k]: offsets[k + 1]]


@njit(nogil=True, cache=True)
def input_strip(blob, offsets, p, x):
    """Process the dry stem ``x (2, n)`` in place with the parameter values ``p``."""
    dc_blocker.process(_state(blob, offsets, K_DC), DC_CUTOFF_HZ, x, x)
    biquad.process(_state(blob, offsets, K_HPF), biquad.HIGHPASS, p[P_INPUT_HPF], HPF_Q, 0.0,
                   x, x)
    gate.process(_state(blob, offsets, K_GATE), p[P_GATE_THRESHOLD], GATE_RATIO,
                 p[P_GATE_RANGE], GATE_ATTACK_MS, GATE_HOLD_MS, GATE_RELEASE_MS, x, x)
    biquad.process(_state(blob, offsets, K_EQ_LOW), biquad.LOWSHELF, EQ_LOW_HZ, EQ_SHELF_Q,
                   p[P_EQ_LOW], x, x)
    biquad.process(_state(blob, offsets, K_EQ_MID), biquad.PEAK, p[P_EQ_MID_FREQ], EQ_MID_Q,
                   p[P_EQ_MID], x, x)
    biquad.process(_state(blob, offsets, K_EQ_HIGH), biquad.HIGHSHELF, EQ_HIGH_HZ, EQ_SHELF_Q,
                   p[P_EQ_HIGH], x, x)
    compressor.process(_state(blob, offsets, K_COMP), p[P_COMP_THRESHOLD], p[P_COMP_RATIO],
                       COMP_KNEE_DB, p[P_COMP_ATTACK], p[P_COMP_RELEASE], p[P_COMP_MAKEUP],
                       x, x)


@njit(nogil=True, cache=True)
def auto_mix(blob, offsets, p, x):
    """The master's first stage, before the master fader (so the fader is not ridden
    back): the auto-mix on ``x (2, n)`` in place."""
    am = _state(blob, offsets, K_AUTOMIX)
    automix.set_params(am, p[P_AUTOMIX_AMOUNT], p[P_AUTOMIX_LUFS], p[P_AUTOMIX_BRIGHT],
                       p[P_AUTOMIX_WIDTH])
    automix.process(am, x)


@njit(nogil=True, cache=True)
def master_bus(blob, offsets, p, x):
    """Process the master ``x (2, n)`` in place with the parameter values ``p`` (after
    :func:`auto_mix` and the master fader)."""
    compressor.process(_state(blob, offsets, K_BUS_COMP), p[P_BUS_THRESHOLD], p[P_BUS_RATIO],
                       BUS_KNEE_DB, BUS_ATTACK_MS, BUS_RELEASE_MS, 0.0, x, x)
    width = _state(blob, offsets, K_WIDTH)
    stereo.set_width(width, p[P_WIDTH])
    stereo.process_width(width, x, x)
    lim = _state(blob, offsets, K_LIMITER)
    limiter.set_params(lim, p[P_CEILING], p[P_LIMITER_RELEASE])
    limiter.process(lim, x, x)


@njit(nogil=True, cache=True)
def _pop_pair(data, idx):
    """Take one (a, b) event from a 2-channel control ring: (False, 0, 0) when empty."""
    if ring.readable(data, idx) == 0:
        return False, 0.0, 0.0
    r = idx[ring.READ] & (data.shape[1] - 1)
    a, b = float(data[0, r]), float(data[1, r])
    ring.discard(data, idx, 1)
    return True, a, b


@functools.cache
def load_classifier() -> np.ndarray:
    """The shipped beatbox classifier, flat (``dsp.beatbox.pack_weights`` layout).

    Read once per process: every Engine copies it into its own kernel blob.
    """
    from models.beatbox.classifier import load_weights

    return load_weights()


@njit(nogil=True, cache=True, inline="always")
def _bank_table(blob, offsets):
    """The bank's slice table ``(slices, sampler.TABLE_COLS)``, shared by the sampler voice
    and the drum kit."""
    table = _state(blob, offsets, K_SAMPLER_TABLE)
    return table.reshape((table.shape[0] // sampler.TABLE_COLS, sampler.TABLE_COLS))


@njit(nogil=True, cache=True)
def _hit(st, kit, kit_slice, voice, velocity, offset, release) -> None:
    """One drum hit (or a hat's choke): the kit's slice for the voice, else the synth."""
    if kit_slice >= 0:
        if release:
            sampler.release_slice(kit, kit_slice, offset)
        else:
            sampler.trigger_slice(kit, kit_slice, velocity, offset)
    elif release:
        drums.release(st, voice, offset)
    else:
        drums.trigger(st, voice, velocity, offset)


@njit(nogil=True, cache=True)
def drum_voices(blob, offsets, p, trig_data, trig_idx, hits_data, hits_idx, raw_in, bank, x):
    """Start queued and beatbox-triggered hits and add the drum voices into ``x (2, n)``.

    The trigger ring carries (voice, velocity) pairs from one producer (the MIDI thread);
    those hits start at the top of this block. The beatbox trigger listens to ``raw_in
    (2, n)``, the unprocessed input, and starts its hits at the exact frame it decides;
    its events also go out through the hits ring (``EV_SIZE`` rows per event, the callback
    the only producer) for the MIDI-out thread. A full ring drops them: MIDI out is late,
    the audio is not. With ``drum_kit_samples`` on, voices that the kit map gives a bank
    slice play that slice (a second sampler, into the same stem) instead of the synth.
    """
    st = _state(blob, offsets, K_DRUMS)
    bb = _state(blob, offsets, K_BEATBOX)
    kit = _state(blob, offsets, K_KIT)
    kit_map = _state(blob, offsets, K_KIT_MAP)
    use_kit = p[P_KIT_ON] >= 0.5
    if p[P_BEATBOX_ON] >= 0.5:
        beatbox.set_params(bb, p[P_BEATBOX_THRESHOLD], p[P_BEATBOX_RISE], p[P_BEATBOX_GATE])
        events = _state(blob, offsets, K_BEATBOX_EVENTS).reshape(
            (beatbox.MAX_EVENTS, beatbox.EV_SIZE))
        n_ev = beatbox.process(bb, _state(blob, offsets, K_BEATBOX_WEIGHTS), raw_in,
                               x.shape[1], events, _state(blob, offsets, K_BEATBOX_FEATS))
        if n_ev > 0:
            ring.write(hits_data, hits_idx, events.T, 0, n_ev)
        for e in range(n_ev):
            voice = int(events[e, beatbox.EV_VOICE])
            if voice < 0:
                continue
            kit_slice = int(kit_map[voice]) if use_kit else -1
            release = events[e, beatbox.EV_KIND] == beatbox.EV_RELEASE
            _hit(st, kit, kit_slice, voice, events[e, beatbox.EV_VELOCITY],
                 int(events[e, beatbox.EV_OFFSET]), release)
    for _ in range(MAX_TRIGGERS_PER_BLOCK):
        ok, voice, velocity = _pop_pair(trig_data, trig_idx)
        if not ok:
            break
        kit_slice = int(kit_map[int(voice)]) if use_kit else -1
        _hit(st, kit, kit_slice, int(voice), velocity, 0, False)
    params = _state(blob, offsets, K_DRUM_PARAMS).reshape((P_DRUM.shape[0], 3))
    for v in range(P_DRUM.shape[0]):
        for c in range(3):
            params[v, c] = p[P_DRUM[v, c]]
    drums.process(st, params, x)
    sampler.process(kit, bank, _bank_table(blob, offsets), _state(blob, offsets, K_KIT_PARAMS),
                    x)


@njit(nogil=True, cache=True)
def sampler_voice(blob, offsets, p, note_data, note_idx, bank, x):
    """Start and release queued notes (from the note ring) and add the sampler into ``x``.

    The note ring carries (note, velocity) pairs, velocity 0 for a note-off, from one
    producer (the MIDI thread); they take effect at the top of this block.
    """
    st = _state(blob, offsets, K_SAMPLER)
    for _ in range(MAX_NOTES_PER_BLOCK):
        ok, note, vel = _pop_pair(note_data, note_idx)
        if not ok:
            break
        if vel > 0.0:
            sampler.note_on(st, int(note), vel, 0)
        else:
            sampler.note_off(st, int(note), 0)
    params = _state(blob, offsets, K_SAMPLER_PARAMS)
    for k in range(P_SAMPLER.shape[0]):
        params[k] = p[P_SAMPLER[k]]
    sampler.process(st, bank, _bank_table(blob, offsets), params, x)


@njit(nogil=True, cache=True)
def transcribe_voice(blob, offsets, raw_in, notes_data, notes_idx):
    """Run the note transcriber on ``raw_in (2, n)``, the unprocessed input, and write its
    events (``dsp.transcriber`` rows, the callback the only producer) to the voice-notes
    ring for the MIDI-out thread. A full ring drops them."""
    events = _state(blob, offsets, K_TRANSCRIBER_EVENTS).reshape(
        (transcriber.MAX_EVENTS, transcriber.EV_SIZE))
    n_ev = transcriber.process(_state(blob, offsets, K_TRANSCRIBER), raw_in, raw_in.shape[1],
                               events)
    if n_ev > 0:
        ring.write(notes_data, notes_idx, events.T, 0, n_ev)


def automix_readings(blob: np.ndarray, offsets: np.ndarray) -> dict[str, float | None]:
    """What the auto-mix measures and applies now (``dsp.automix.READINGS``); None for a
    measurement while nothing has been heard (JSON has no -inf)."""
    r = automix.readings(_state(blob, offsets, K_AUTOMIX))
    return {k: (v if math.isfinite(v) else None) for k, v in r.items()}


def gain_reduction_db(blob: np.ndarray, offsets: np.ndarray) -> dict[str, float]:
    """Current gain reduction of the dynamics kernels (positive dB), for meters."""
    return {
        "comp": float(_state(blob, offsets, K_COMP)[compressor.GR_DB]),
        "bus_comp": float(_state(blob, offsets, K_BUS_COMP)[compressor.GR_DB]),
        "gate": float(_state(blob, offsets, K_GATE)[gate.ATTENUATION_DB]),
        "limiter": float(limiter.gain_reduction_db(_state(blob, offsets, K_LIMITER))),
    }
