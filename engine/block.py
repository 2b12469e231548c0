"""The engine's block function: one fixed, data-driven topology, shared by live and offline.

    input ─► input strip ─► voice plugins ─┬─► send ring ─► worker (+ worker plugins) ─┐
                                           │   ─► return ring ─► worker stem ─────────┤
                                           └────────────────────► dry stem ─────────┤
                                              drum voices ─► drums stem ────────────┤ mixer
                                                  sampler ─► sampler stem ──────────┤
         master bus (engine/strips.py) ─► master plugins ─► limiter ◄─ sum of stems ◄┘
                                  └─► safety limiter ─► output (+ record ring, meters)

It reads every array through the pointer table (``engine/table.py``), so the same code
runs inside the PortAudio cfunc (``engine/callback.py``) and in the offline renderer
(``Engine.process``). Settings live in arrays (parameters, config flags), so nothing
recompiles when they change. Rows of the bus are planar stereo buffers (``engine.layout``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dsp import stereo
from engine import modulation, ring, strips, voices
from engine.layout import (
    C_ATOM_CHUNK,
    C_DENOISE_ON,
    C_MASTER_ON,
    C_RACK_BANK,
    C_RACK_ON,
    C_RECORD_ON,
    C_SCOPE_ON,
    C_STRIP_ON,
    C_TRANSCRIBE_ON,
    C_WORKER_ACTIVE,
    C_WORKER_BLOCK,
    CONTROL_FRAMES,
    M_DRUM_HITS,
    M_FALLBACK_MIX,
    M_IN_PEAK_L,
    M_IN_PEAK_R,
    M_IN_RMS_L,
    M_IN_RMS_R,
    M_OUT_PEAK_L,
    M_OUT_PEAK_R,
    M_OUT_RMS_L,
    M_OUT_RMS_R,
    M_RETURN_FILL,
    M_SAFETY_GR_DB,
    ROW_MASTER,
    ROW_RAW_INPUT,
    S_CONTROL_POS,
    S_FALLBACK_MIX,
    S_FALLBACK_STEP,
    S_LAST_WET_L,
    S_LAST_WET_R,
    S_LEARN_PRESSED,
    S_METER_DECAY,
    S_SAFETY_GAIN,
    S_SAFETY_RELEASE,
    SAFETY_CEILING,
    ST_BLOCKS,
    ST_FRAMES,
    ST_MIN_RETURN_FILL,
    ST_NONFINITE,
    ST_RECORD_DROPPED,
    ST_SAFETY_BLOCKS,
    ST_SEND_DROPPED,
    ST_UNDERRUN_FRAMES,
    ST_WORKER_POSITION,
    ST_WORKER_UNDERRUNS,
    STEM_DRUMS,
    STEM_DRY,
    STEM_SAMPLER,
    STEM_WORKER,
)
from engine.params import advance, fader_gain, settle_jumps, value_at
from engine.plugins import rack_kernel
from engine.pointers import load_acquire
from engine.table import Row, f32_2d, f64, f64_2d, i64, i64_2d
from presets.registry import DRUM_VOICES, INDEX, STEMS

# parameter slots used here
P_INPUT_GAIN = INDEX["input_gain_db"]
P_DENOISE_LEARN = INDEX["denoise_learn"]
P_DENOISE_LEARN_S = INDEX["denoise_learn_s"]
P_STEM_GAIN = np.array([INDEX[f"stem_{s}_gain_db"] for s in STEMS], dtype=np.int64)
P_STEM_PAN = np.array([INDEX[f"stem_{s}_pan"] for s in STEMS], dtype=np.int64)
P_DRUM_BLEND = INDEX["drum_blend"]
N_DRUM_VOICES = len(DRUM_VOICES)

@njit(nogil=True, cache=True, inline="always")
def _finite(x, counter, stats):
    if math.isfinite(x):
        return x
    stats[counter] += 1
    return 0.0


@njit(nogil=True, cache=True)
def _read_input(inp, n, bus, stats, meters, decay_block):
    # Deinterleave (frames, channels) into the dry stem and the raw-input rows; a mono
    # input feeds both sides, no input is silence. Non-finite samples become 0.
    in_ch = inp.shape[1]
    pl = meters[M_IN_PEAK_L] * decay_block
    pr = meters[M_IN_PEAK_R] * decay_block
    sl = 0.0
    sr = 0.0
    for i in range(n):
        left = _finite(inp[i, 0], ST_NONFINITE, stats) if in_ch > 0 else 0.0
        right = _finite(inp[i, 1], ST_NONFINITE, stats) if in_ch > 1 else left
        bus[ROW_RAW_INPUT, i] = left
        bus[ROW_RAW_INPUT + 1, i] = right
        pl = max(pl, abs(left))
        pr = max(pr, abs(right))
        sl += left * left
        sr += right * right
    meters[M_IN_PEAK_L] = pl
    meters[M_IN_PEAK_R] = pr
    meters[M_IN_RMS_L] = math.sqrt(sl / max(n, 1))
    meters[M_IN_RMS_R] = math.sqrt(sr / max(n, 1))


@njit(nogil=True, cache=True)
def _input_strip(n, bus, p_target, p_current, p_step, dsp_blob, dsp_offsets, config, state):
    row = 2 * STEM_DRY
    for i in range(n):
        g = fader_gain(value_at(p_current, p_target, p_step, P_INPUT_GAIN, i))
        bus[row, i] = bus[ROW_RAW_INPUT, i] * g
        bus[row + 1, i] = bus[ROW_RAW_INPUT + 1, i] * g
    # the learn-noise button acts once per press (its rising edge)
    pressed = p_target[P_DENOISE_LEARN] >= 0.5
    if pressed and state[S_LEARN_PRESSED] == 0.0:
        strips.learn_noise(dsp_blob, dsp_offsets, p_target[P_DENOISE_LEARN_S])
    state[S_LEARN_PRESSED] = 1.0 if pressed else 0.0
    if config[C_STRIP_ON]:
        strips.input_strip(dsp_blob, dsp_offsets, p_current, bus[row: row + 2, :n],
                           config[C_DENOISE_ON] != 0)


@njit(nogil=True, cache=True)
def _worker_send(n, bus, to_w_data, to_w_idx, config, stats):
    dry = bus[2 * STEM_DRY: 2 * STEM_DRY + 2]
    sent = ring.write(to_w_data, to_w_idx, dry, 0, n)
    stats[ST_SEND_DROPPED] += n - sent
    return ring.readable(to_w_data, to_w_idx) >= config[C_WORKER_BLOCK]


@njit(nogil=True, cache=True)
def _worker_return(n, bus, from_w_data, from_w_idx, state, stats, meters):
    """Fill the worker stem from the return ring at its fixed latency, or fall back to dry.

    The return ring was primed with the latency's worth of silence, so return frame ``j``
    belongs to timeline frame ``j`` (minus frames the send ring had to drop). From counters
    the callback owns it knows which return frame this block needs: frames that arrive
    after their time are discarded, frames not there yet are a miss. On a miss the wet side
    holds its last value fading out while the dry signal crossfades in; when frames return
    the wet side crossfades back. Nothing waits, and the latency never drifts.
    """
    wanted = stats[ST_WORKER_POSITION] - stats[ST_SEND_DROPPED]
    have = from_w_idx[ring.READ]
    if have < wanted:
        have += ring.discard(from_w_data, from_w_idx, wanted - have)
    fill = ring.readable(from_w_data, from_w_idx)
    stats[ST_MIN_RETURN_FILL] = min(stats[ST_MIN_RETURN_FILL], fill)
    meters[M_RETURN_FILL] = fill
    # Ahead of the timeline (after send drops) the first frames are a miss; behind it
    # (worker late) the missing frames are.
    skip = min(n, max(0, have - wanted))
    row = 2 * STEM_WORKER
    got = 0
    if have >= wanted:
        got = ring.read(from_w_data, from_w_idx, bus[row: row + 2, skip:], 0, n - skip)
    if skip + got < n or skip > 0:
        stats[ST_WORKER_UNDERRUNS] += 1
        stats[ST_UNDERRUN_FRAMES] += n - got
    stats[ST_WORKER_POSITION] += n

    mix = state[S_FALLBACK_MIX]
    step = state[S_FALLBACK_STEP]
    hold_l = state[S_LAST_WET_L]
    hold_r = state[S_LAST_WET_R]
    dry = 2 * STEM_DRY
    for i in range(n):
        if skip <= i < skip + got:
            wl = _finite(bus[row, i], ST_NONFINITE, stats)
            wr = _finite(bus[row + 1, i], ST_NONFINITE, stats)
            hold_l, hold_r = wl, wr
            mix = max(0.0, mix - step)
        else:
            fade = max(0.0, 1.0 - mix)  # the held value dies away as the dry comes in
            wl, wr = hold_l * fade, hold_r * fade
            mix = min(1.0, mix + step)
        bus[row, i] = (1.0 - mix) * wl + mix * bus[dry, i]
        bus[row + 1, i] = (1.0 - mix) * wr + mix * bus[dry + 1, i]
    state[S_FALLBACK_MIX] = mix
    state[S_LAST_WET_L] = hold_l
    state[S_LAST_WET_R] = hold_r
    meters[M_FALLBACK_MIX] = mix


@njit(nogil=True, cache=True, inline="always")
def _blend_gain(stem: int, blend: float) -> float:
    """The drum blend's factor for a stem: 0 = trigger path (drums stem) alone, 1 = the
    neural path (worker stem) alone, 0.5 = both at full level; other stems are untouched."""
    if stem == STEM_DRUMS:
        return min(1.0, 2.0 * (1.0 - blend))
    if stem == STEM_WORKER:
        return min(1.0, 2.0 * blend)
    return 1.0


@njit(nogil=True, cache=True)
def _mix_stems(n, bus, p_target, p_current, p_step):
    m = ROW_MASTER
    for i in range(n):
        bus[m, i] = 0.0
        bus[m + 1, i] = 0.0
    bslot = P_DRUM_BLEND
    for s in range(P_STEM_GAIN.shape[0]):
        gslot = P_STEM_GAIN[s]
        pslot = P_STEM_PAN[s]
        blended = s == STEM_DRUMS or s == STEM_WORKER
        moving = (p_current[gslot] != p_target[gslot]) or (p_current[pslot] != p_target[pslot])
        moving = moving or (blended and p_current[bslot] != p_target[bslot])
        if not moving and fader_gain(p_current[gslot]) == 0.0:
            continue  # a closed fader costs nothing
        g = fader_gain(p_current[gslot]) * _blend_gain(s, p_current[bslot])
        gl, gr = stereo.pan_gains(p_current[pslot])
        row = 2 * s
        for i in range(n):
            if moving:
                g = fader_gain(value_at(p_current, p_target, p_step, gslot, i))
                g *= _blend_gain(s, value_at(p_current, p_target, p_step, bslot, i))
                gl, gr = stereo.pan_gains(value_at(p_current, p_target, p_step, pslot, i))
            bus[m, i] += bus[row, i] * g * gl
            bus[m + 1, i] += bus[row + 1, i] * g * gr


@njit(nogil=True, cache=True)
def _safety(n, bus, state, stats, meters):
    """Last line of defence: finite, within +-SAFETY_CEILING, with a gentle release."""
    m = ROW_MASTER
    g = state[S_SAFETY_GAIN]
    release = state[S_SAFETY_RELEASE]
    min_g = 1.0
    for i in range(n):
        left = _finite(bus[m, i], ST_NONFINITE, stats)
        right = _finite(bus[m + 1, i], ST_NONFINITE, stats)
        g = 1.0 - (1.0 - g) * release
        peak = max(abs(left), abs(right))
        if peak * g > SAFETY_CEILING:
            g = SAFETY_CEILING / peak
        min_g = min(min_g, g)
        # the clamp only guards float rounding: g already keeps peak * g at the ceiling
        bus[m, i] = min(SAFETY_CEILING, max(-SAFETY_CEILING, left * g))
        bus[m + 1, i] = min(SAFETY_CEILING, max(-SAFETY_CEILING, right * g))
    state[S_SAFETY_GAIN] = g
    if min_g < 1.0:
        stats[ST_SAFETY_BLOCKS] += 1
    meters[M_SAFETY_GR_DB] = 20.0 * math.log10(min_g)


@njit(nogil=True, cache=True)
def _write_output(out, n, bus, meters, decay_block):
    m = ROW_MASTER
    out_ch = out.shape[1]
    pl = meters[M_OUT_PEAK_L] * decay_block
    pr = meters[M_OUT_PEAK_R] * decay_block
    sl = 0.0
    sr = 0.0
    for i in range(n):
        left = bus[m, i]
        right = bus[m + 1, i]
        if out_ch == 1:
            out[i, 0] = 0.5 * (left + right)
        else:
            out[i, 0] = left
            out[i, 1] = right
            for c in range(2, out_ch):
                out[i, c] = 0.0
        pl = max(pl, abs(left))
        pr = max(pr, abs(right))
        sl += left * left
        sr += right * right
    meters[M_OUT_PEAK_L] = pl
    meters[M_OUT_PEAK_R] = pr
    meters[M_OUT_RMS_L] = math.sqrt(sl / max(n, 1))
    meters[M_OUT_RMS_R] = math.sqrt(sr / max(n, 1))




@njit(nogil=True, cache=True)
def process_block(inp, out, n, table):
    """Process ``n <= CONTROL_FRAMES`` frames; returns True when the worker should wake.

    ``inp`` is ``(n, in_ch)`` and ``out`` ``(n, out_ch)`` interleaved float32, as PortAudio
    delivers them; everything else comes through the pointer ``table``.
    """
    p_target, p_current, p_step = f64(table, Row.EFFECTIVE), f64(table, Row.P_CURRENT), \
        f64(table, Row.P_STEP)
    bus, config, state = f32_2d(table, Row.BUS), i64(table, Row.CONFIG), f64(table, Row.STATE)
    stats, meters = i64(table, Row.STATS), f64(table, Row.METERS)
    blob, offsets = f64(table, Row.DSP_BLOB), i64(table, Row.DSP_OFFSETS)
    bank = f32_2d(table, Row.BANK)
    decay_block = state[S_METER_DECAY] ** n
    # parameters without smoothing take a new target from this block's first sample on,
    # not from the next block's (which would depend on the block size)
    settle_jumps(p_current, p_target, p_step)
    _read_input(inp, n, bus, stats, meters, decay_block)
    _input_strip(n, bus, p_target, p_current, p_step, blob, offsets, config, state)
    # the plugin chains: one bank for the whole block (a new chain starts between blocks)
    rack_on = config[C_RACK_ON] != 0
    rack_bank = load_acquire(config, C_RACK_BANK)
    if rack_on:
        rack_kernel.run_slot(i64_2d(table, Row.RACK), rack_bank, rack_kernel.SLOT_VOICE,
                             bus[2 * STEM_DRY: 2 * STEM_DRY + 2, :n], n, p_current, stats,
                             config[C_ATOM_CHUNK])
    wake = False
    if config[C_WORKER_ACTIVE]:
        wake = _worker_send(n, bus, f32_2d(table, Row.TO_W_DATA), i64(table, Row.TO_W_IDX),
                            config, stats)
        _worker_return(n, bus, f32_2d(table, Row.FROM_W_DATA), i64(table, Row.FROM_W_IDX),
                       state, stats, meters)
    else:
        row = 2 * STEM_WORKER
        for i in range(n):
            bus[row, i] = 0.0
            bus[row + 1, i] = 0.0
    for row in range(2 * STEM_DRUMS, 2 * STEM_SAMPLER + 2):
        for i in range(n):
            bus[row, i] = 0.0
    raw_in = bus[ROW_RAW_INPUT: ROW_RAW_INPUT + 2, :n]
    voices.drum_voices(blob, offsets, p_current, f32_2d(table, Row.TRIG_DATA),
                       i64(table, Row.TRIG_IDX), f32_2d(table, Row.HITS_DATA),
                       i64(table, Row.HITS_IDX), raw_in, bank,
                       bus[2 * STEM_DRUMS: 2 * STEM_DRUMS + 2, :n],
                       meters[M_DRUM_HITS: M_DRUM_HITS + N_DRUM_VOICES])
    voices.sampler_voice(blob, offsets, p_current, f32_2d(table, Row.NOTE_DATA),
                         i64(table, Row.NOTE_IDX), bank,
                         bus[2 * STEM_SAMPLER: 2 * STEM_SAMPLER + 2, :n])
    if config[C_TRANSCRIBE_ON]:
        voices.transcribe_voice(blob, offsets, raw_in, f32_2d(table, Row.VOICE_DATA),
                                i64(table, Row.VOICE_IDX))
    _mix_stems(n, bus, p_target, p_current, p_step)
    master = bus[ROW_MASTER: ROW_MASTER + 2, :n]
    strips.master_pre_limit(blob, offsets, p_target, p_current, p_step, master,
                            config[C_MASTER_ON] != 0)
    if rack_on:
        rack_kernel.run_slot(i64_2d(table, Row.RACK), rack_bank, rack_kernel.SLOT_MASTER,
                             master, n, p_current, stats, config[C_ATOM_CHUNK])
    if config[C_MASTER_ON] != 0:
        strips.master_limit(blob, offsets, p_current, master)
    _safety(n, bus, state, stats, meters)
    _write_output(out, n, bus, meters, decay_block)
    if config[C_RECORD_ON]:
        # master then raw input are adjacent rows: a 2-channel record ring takes the
        # output, a 4-channel one the output and the input.
        written = ring.write(f32_2d(table, Row.REC_DATA), i64(table, Row.REC_IDX),
                             bus[ROW_MASTER: ROW_RAW_INPUT + 2], 0, n)
        stats[ST_RECORD_DROPPED] += n - written
    if config[C_SCOPE_ON]:
        # the window's scope and spectrum: output and raw input, dropped when it is full
        # (the window reads ten times a second; the callback never waits for it)
        ring.write(f32_2d(table, Row.SCOPE_DATA), i64(table, Row.SCOPE_IDX),
                   bus[ROW_MASTER: ROW_RAW_INPUT + 2], 0, n)
    advance(p_current, p_target, p_step, n)
    stats[ST_BLOCKS] += 1
    stats[ST_FRAMES] += n
    return wake


@njit(nogil=True, cache=True)
def run_frames(inp, out, n_frames, table):
    """Any number of frames through modulation and the block function; True when a worker
    block is waiting (wake the worker).

    The frames are cut at the control grid (``CONTROL_FRAMES`` from the stream's start):
    modulation steps at each grid line, and the block function runs between them, so every
    parameter changes at the same sample whatever size the blocks come in.
    """
    effective = f64(table, Row.EFFECTIVE)
    state = f64(table, Row.STATE)
    pos = int(state[S_CONTROL_POS])  # frames into the current control period
    wake = False
    done = 0
    while done < n_frames:
        if pos == 0:
            modulation.apply(CONTROL_FRAMES, f64(table, Row.P_TARGET), effective,
                             f64_2d(table, Row.META), f64_2d(table, Row.ASSIGN),
                             f64_2d(table, Row.ROUTES), f64_2d(table, Row.LFO_STATES),
                             f64(table, Row.LFO_VALUES), i64_2d(table, Row.RETRIGGER),
                             f64(table, Row.MOD_OFFSETS), f64_2d(table, Row.MORPH_AB),
                             f64(table, Row.MORPH_STATE))
        n = min(CONTROL_FRAMES - pos, n_frames - done)
        wake |= process_block(inp[done: done + n], out[done: done + n], n, table)
        pos = (pos + n) % CONTROL_FRAMES
        done += n
    state[S_CONTROL_POS] = pos
    return wake
