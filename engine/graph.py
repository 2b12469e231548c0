"""The engine's block function: one fixed, data-driven topology, shared by live and offline.

    input ─► input strip ─┬─► send ring ─► worker ─► return ring ─► worker stem ─┐
                          └────────────────────────────────────► dry stem ─────┤
                                              drum voices ─► drums stem ───────┤ mixer
                                                  sampler ─► sampler stem ─────┤
                                master ◄─ (gain, bus slots) ◄─ sum of stems ◄──┘
                                  └─► safety limiter ─► output (+ record ring, meters)

Everything the function touches is a numpy array handed in by the caller, so the same
code runs inside the PortAudio cfunc (engine/callback.py) and in the offline renderer
(engine/render.py). Settings live in arrays (parameters, config flags), so nothing
recompiles when they change. Rows of ``bus`` are planar stereo buffers; ``ROW_*`` name them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from engine import chain, ring
from engine.params import advance, db_to_gain, value_at
from presets.registry import INDEX, STEMS

MAX_BLOCK_FRAMES = 1024

# bus rows: each stem is a stereo pair, in STEMS order, then master and a raw input copy
ROW_STEM = 0  # stem s lives in rows 2s, 2s+1
ROW_MASTER = 2 * len(STEMS)
ROW_RAW_INPUT = ROW_MASTER + 2
N_ROWS = ROW_RAW_INPUT + 2
STEM_DRY, STEM_WORKER, STEM_DRUMS, STEM_SAMPLER = (
    STEMS.index(s) for s in ("dry", "worker", "drums", "sampler"))

# parameter slots used here
P_INPUT_GAIN = INDEX["input_gain_db"]
P_STEM_GAIN = np.array([INDEX[f"stem_{s}_gain_db"] for s in STEMS], dtype=np.int64)
P_STEM_PAN = np.array([INDEX[f"stem_{s}_pan"] for s in STEMS], dtype=np.int64)
P_MASTER_GAIN = INDEX["master_gain_db"]
P_DRUM_BLEND = INDEX["drum_blend"]

# config (int64): set before the stream starts, read-only for the callback
(C_WORKER_ACTIVE, C_WORKER_BLOCK, C_SEM_ADDR, C_RECORD_ON, C_IN_CH, C_OUT_CH, C_STRIP_ON,
 C_MASTER_ON, C_TRANSCRIBE_ON) = range(9)
CONFIG_LEN = 9

# state (float64): the callback's own scalars
(S_SAMPLE_RATE, S_FALLBACK_MIX, S_FALLBACK_STEP, S_LAST_WET_L, S_LAST_WET_R, S_SAFETY_GAIN,
 S_SAFETY_RELEASE, S_METER_DECAY) = range(8)
STATE_LEN = 16

# stats (int64): written only by the callback
(ST_BLOCKS, ST_FRAMES, ST_LATE_BLOCKS, ST_STATUS_OR, ST_OVER_BUDGET, ST_CALLBACK_MAX_NS,
 ST_WORKER_UNDERRUNS, ST_UNDERRUN_FRAMES, ST_NONFINITE, ST_SAFETY_BLOCKS, ST_RECORD_DROPPED,
 ST_SEND_DROPPED, ST_MIN_RETURN_FILL, ST_WORKER_POSITION, ST_OVER_BUDGET_CPU,
 ST_CALLBACK_CPU_MAX_NS) = range(16)
STATS_LEN = 16

# meters (float64): written only by the callback, read by anyone at any rate
(M_IN_PEAK_L, M_IN_PEAK_R, M_OUT_PEAK_L, M_OUT_PEAK_R, M_OUT_RMS_L, M_OUT_RMS_R,
 M_SAFETY_GR_DB, M_RETURN_FILL, M_FALLBACK_MIX) = range(9)
METERS_LEN = 16

# The safety stage keeps the output inside +-1 whatever happens upstream; the real
# true-peak limiter sits before it on the master.
SAFETY_CEILING = 0.999
SAFETY_RELEASE_MS = 50.0
FALLBACK_XFADE_MS = 5.0
METER_FALL_DB_PER_S = 20.0


def new_state(sample_rate_hz: float) -> np.ndarray:
    """The callback's scalar state with its time constants derived for the rate."""
    state = np.zeros(STATE_LEN, dtype=np.float64)
    state[S_SAMPLE_RATE] = sample_rate_hz
    state[S_FALLBACK_STEP] = 1.0 / (FALLBACK_XFADE_MS * 1e-3 * sample_rate_hz)
    state[S_SAFETY_GAIN] = 1.0
    state[S_SAFETY_RELEASE] = math.exp(-1.0 / (SAFETY_RELEASE_MS * 1e-3 * sample_rate_hz))
    state[S_METER_DECAY] = 10.0 ** (-METER_FALL_DB_PER_S / 20.0 / sample_rate_hz)
    return state


def new_stats() -> np.ndarray:
    stats = np.zeros(STATS_LEN, dtype=np.int64)
    stats[ST_MIN_RETURN_FILL] = np.iinfo(np.int64).max
    return stats


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
    for i in range(n):
        left = _finite(inp[i, 0], ST_NONFINITE, stats) if in_ch > 0 else 0.0
        right = _finite(inp[i, 1], ST_NONFINITE, stats) if in_ch > 1 else left
        bus[ROW_RAW_INPUT, i] = left
        bus[ROW_RAW_INPUT + 1, i] = right
        pl = max(pl, abs(left))
        pr = max(pr, abs(right))
    meters[M_IN_PEAK_L] = pl
    meters[M_IN_PEAK_R] = pr


@njit(nogil=True, cache=True)
def _input_strip(n, bus, p_target, p_current, p_step, dsp_blob, dsp_offsets, config):
    row = 2 * STEM_DRY
    for i in range(n):
        g = db_to_gain(value_at(p_current, p_target, p_step, P_INPUT_GAIN, i))
        bus[row, i] = bus[ROW_RAW_INPUT, i] * g
        bus[row + 1, i] = bus[ROW_RAW_INPUT + 1, i] * g
    if config[C_STRIP_ON]:
        chain.input_strip(dsp_blob, dsp_offsets, p_current, bus[row: row + 2, :n])


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
def _pan_gains(pan):
    # Constant power with unity at the centre: hard left is +3 dB on the left.
    theta = (pan + 1.0) * (math.pi / 4.0)
    return math.sqrt(2.0) * math.cos(theta), math.sqrt(2.0) * math.sin(theta)


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
        if not moving and db_to_gain(p_current[gslot]) == 0.0:
            continue  # a closed fader costs nothing
        g = db_to_gain(p_current[gslot]) * _blend_gain(s, p_current[bslot])
        gl, gr = _pan_gains(p_current[pslot])
        row = 2 * s
        for i in range(n):
            if moving:
                g = db_to_gain(value_at(p_current, p_target, p_step, gslot, i))
                g *= _blend_gain(s, value_at(p_current, p_target, p_step, bslot, i))
                gl, gr = _pan_gains(value_at(p_current, p_target, p_step, pslot, i))
            bus[m, i] += bus[row, i] * g * gl
            bus[m + 1, i] += bus[row + 1, i] * g * gr


@njit(nogil=True, cache=True)
def _master(n, bus, p_target, p_current, p_step, dsp_blob, dsp_offsets, config):
    m = ROW_MASTER
    if config[C_MASTER_ON]:
        chain.auto_mix(dsp_blob, dsp_offsets, p_current, bus[m: m + 2, :n])
    for i in range(n):
        g = db_to_gain(value_at(p_current, p_target, p_step, P_MASTER_GAIN, i))
        bus[m, i] *= g
        bus[m + 1, i] *= g
    if config[C_MASTER_ON]:
        chain.master_bus(dsp_blob, dsp_offsets, p_current, bus[m: m + 2, :n])


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
def process_block(inp, out, n, p_target, p_current, p_step, bus, to_w_data, to_w_idx,
                  from_w_data, from_w_idx, rec_data, rec_idx, config, state, stats, meters,
                  dsp_blob, dsp_offsets, trig_data, trig_idx, note_data, note_idx, bank,
                  hits_data, hits_idx, voice_data, voice_idx):
    """Process ``n <= MAX_BLOCK_FRAMES`` frames; returns True when the worker should wake.

    ``inp`` is ``(n, in_ch)`` and ``out`` ``(n, out_ch)`` interleaved float32, as PortAudio
    delivers them; everything else is engine state described at the top of this module.
    """
    decay_block = state[S_METER_DECAY] ** n
    _read_input(inp, n, bus, stats, meters, decay_block)
    _input_strip(n, bus, p_target, p_current, p_step, dsp_blob, dsp_offsets, config)
    wake = False
    if config[C_WORKER_ACTIVE]:
        wake = _worker_send(n, bus, to_w_data, to_w_idx, config, stats)
        _worker_return(n, bus, from_w_data, from_w_idx, state, stats, meters)
    else:
        row = 2 * STEM_WORKER
        for i in range(n):
            bus[row, i] = 0.0
            bus[row + 1, i] = 0.0
    for row in range(2 * STEM_DRUMS, 2 * STEM_SAMPLER + 2):
        for i in range(n):
            bus[row, i] = 0.0
    chain.drum_voices(dsp_blob, dsp_offsets, p_current, trig_data, trig_idx,
                      hits_data, hits_idx, bus[ROW_RAW_INPUT: ROW_RAW_INPUT + 2, :n], bank,
                      bus[2 * STEM_DRUMS: 2 * STEM_DRUMS + 2, :n])
    chain.sampler_voice(dsp_blob, dsp_offsets, p_current, note_data, note_idx, bank,
                        bus[2 * STEM_SAMPLER: 2 * STEM_SAMPLER + 2, :n])
    if config[C_TRANSCRIBE_ON]:
        chain.transcribe_voice(dsp_blob, dsp_offsets, bus[ROW_RAW_INPUT: ROW_RAW_INPUT + 2, :n],
                               voice_data, voice_idx)
    _mix_stems(n, bus, p_target, p_current, p_step)
    _master(n, bus, p_target, p_current, p_step, dsp_blob, dsp_offsets, config)
    _safety(n, bus, state, stats, meters)
    _write_output(out, n, bus, meters, decay_block)
    if config[C_RECORD_ON]:
        # master then raw input are adjacent rows: a 2-channel record ring takes the
        # output, a 4-channel one the output and the input.
        written = ring.write(rec_data, rec_idx, bus[ROW_MASTER: ROW_RAW_INPUT + 2], 0, n)
        stats[ST_RECORD_DROPPED] += n - written
    advance(p_current, p_target, p_step, n)
    stats[ST_BLOCKS] += 1
    stats[ST_FRAMES] += n
    return wake
