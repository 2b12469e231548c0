"""The voices the callback plays: drums (synth or kit samples, beatbox-triggered or from
MIDI), the sampler, and the note transcriber listening to the raw input.

Events reach them through SPSC control rings (one producer thread each) and leave through
event rings to the MIDI-out thread; a full ring drops events, never audio.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from dsp import beatbox, drums, sampler, transcriber
from engine import ring
from engine.kernels import (
    K_BEATBOX,
    K_BEATBOX_EVENTS,
    K_BEATBOX_FEATS,
    K_BEATBOX_WEIGHTS,
    K_DRUM_PARAMS,
    K_DRUMS,
    K_KIT,
    K_KIT_MAP,
    K_KIT_PARAMS,
    K_SAMPLER,
    K_SAMPLER_PARAMS,
    K_SAMPLER_TABLE,
    K_TRANSCRIBER,
    K_TRANSCRIBER_EVENTS,
    view,
)
from presets.registry import DRUM_VOICES, INDEX

# (voice, column) -> parameter slot, in dsp.drums' params layout
P_DRUM = np.array([[INDEX[f"drum_{v}_tune_st"], INDEX[f"drum_{v}_decay"],
                    INDEX[f"drum_{v}_level_db"]] for v in DRUM_VOICES], dtype=np.int64)
P_KIT_ON = INDEX["drum_kit_samples"]
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


@njit(nogil=True, cache=True)
def _pop_pair(data, idx):
    """Take one (a, b) event from a 2-channel control ring: (False, 0, 0) when empty."""
    if ring.readable(data, idx) == 0:
        return False, 0.0, 0.0
    r = idx[ring.READ] & (data.shape[1] - 1)
    a, b = float(data[0, r]), float(data[1, r])
    ring.discard(data, idx, 1)
    return True, a, b


@njit(nogil=True, cache=True, inline="always")
def _bank_table(blob, offsets):
    """The bank's slice table ``(slices, sampler.TABLE_COLS)``, shared by the sampler voice
    and the drum kit."""
    table = view(blob, offsets, K_SAMPLER_TABLE)
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
def drum_voices(blob, offsets, p, trig_data, trig_idx, hits_data, hits_idx, raw_in, bank, x,
                hit_counts):
    """Start queued and beatbox-triggered hits and add the drum voices into ``x (2, n)``.

    The trigger ring carries (voice, velocity) pairs from one producer (the MIDI thread);
    those hits start at the top of this block. The beatbox trigger listens to ``raw_in
    (2, n)``, the unprocessed input, and starts its hits at the exact frame it decides;
    its events also go out through the hits ring (``EV_SIZE`` rows per event, the callback
    the only producer) for the MIDI-out thread. A full ring drops them: MIDI out is late,
    the audio is not. With ``drum_kit_samples`` on, voices that the kit map gives a bank
    slice play that slice (a second sampler, into the same stem) instead of the synth.
    ``hit_counts`` (one per voice) counts the hits started, for the window's flashes.
    """
    st = view(blob, offsets, K_DRUMS)
    bb = view(blob, offsets, K_BEATBOX)
    kit = view(blob, offsets, K_KIT)
    kit_map = view(blob, offsets, K_KIT_MAP)
    use_kit = p[P_KIT_ON] >= 0.5
    if p[P_BEATBOX_ON] >= 0.5:
        beatbox.set_params(bb, p[P_BEATBOX_THRESHOLD], p[P_BEATBOX_RISE], p[P_BEATBOX_GATE])
        events = view(blob, offsets, K_BEATBOX_EVENTS).reshape(
            (beatbox.MAX_EVENTS, beatbox.EV_SIZE))
        n_ev = beatbox.process(bb, view(blob, offsets, K_BEATBOX_WEIGHTS), raw_in,
                               x.shape[1], events, view(blob, offsets, K_BEATBOX_FEATS))
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
            if not release:
                hit_counts[voice] += 1.0
    for _ in range(MAX_TRIGGERS_PER_BLOCK):
        ok, voice, velocity = _pop_pair(trig_data, trig_idx)
        if not ok:
            break
        kit_slice = int(kit_map[int(voice)]) if use_kit else -1
        _hit(st, kit, kit_slice, int(voice), velocity, 0, False)
        hit_counts[int(voice)] += 1.0
    params = view(blob, offsets, K_DRUM_PARAMS).reshape((P_DRUM.shape[0], 3))
    for v in range(P_DRUM.shape[0]):
        for c in range(3):
            params[v, c] = p[P_DRUM[v, c]]
    drums.process(st, params, x)
    sampler.process(kit, bank, _bank_table(blob, offsets), view(blob, offsets, K_KIT_PARAMS),
                    x)


@njit(nogil=True, cache=True)
def sampler_voice(blob, offsets, p, note_data, note_idx, bank, x):
    """Start and release queued notes (from the note ring) and add the sampler into ``x``.

    The note ring carries (note, velocity) pairs, velocity 0 for a note-off, from one
    producer (the MIDI thread); they take effect at the top of this block.
    """
    st = view(blob, offsets, K_SAMPLER)
    for _ in range(MAX_NOTES_PER_BLOCK):
        ok, note, vel = _pop_pair(note_data, note_idx)
        if not ok:
            break
        if vel > 0.0:
            sampler.note_on(st, int(note), vel, 0)
        else:
            sampler.note_off(st, int(note), 0)
    params = view(blob, offsets, K_SAMPLER_PARAMS)
    for k in range(P_SAMPLER.shape[0]):
        params[k] = p[P_SAMPLER[k]]
    sampler.process(st, bank, _bank_table(blob, offsets), params, x)


@njit(nogil=True, cache=True)
def transcribe_voice(blob, offsets, raw_in, notes_data, notes_idx):
    """Run the note transcriber on ``raw_in (2, n)``, the unprocessed input, and write its
    events (``dsp.transcriber`` rows, the callback the only producer) to the voice-notes
    ring for the MIDI-out thread. A full ring drops them."""
    events = view(blob, offsets, K_TRANSCRIBER_EVENTS).reshape(
        (transcriber.MAX_EVENTS, transcriber.EV_SIZE))
    n_ev = transcriber.process(view(blob, offsets, K_TRANSCRIBER), raw_in, raw_in.shape[1],
                               events)
    if n_ev > 0:
        ring.write(notes_data, notes_idx, events.T, 0, n_ev)
