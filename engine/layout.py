"""What each slot of the engine's small arrays means: config, state, stats and meters.

Every array is allocated by the Engine and reached by the callback through the pointer
table (``engine/table.py``); these names are how Python readers (stats, the window) and
the block function agree on a slot.
"""

from __future__ import annotations

import math

import numpy as np

from dsp.units import db_to_gain
from presets.registry import STEMS

MAX_BLOCK_FRAMES = 1024
# Modulation (macros, LFOs, morphs) steps once per control period, on a grid counted from
# the start of the stream: parameters change at the same samples whatever the block size.
CONTROL_FRAMES = 64

# bus rows: each stem is a stereo pair, in STEMS order, then master and a raw input copy
ROW_STEM = 0  # stem s lives in rows 2s, 2s+1
ROW_MASTER = 2 * len(STEMS)
ROW_RAW_INPUT = ROW_MASTER + 2
N_ROWS = ROW_RAW_INPUT + 2
STEM_DRY, STEM_WORKER, STEM_DRUMS, STEM_SAMPLER = (
    STEMS.index(s) for s in ("dry", "worker", "drums", "sampler"))

# config (int64): set before the stream starts, read-only for the callback
(C_WORKER_ACTIVE, C_WORKER_BLOCK, C_SEM_ADDR, C_RECORD_ON, C_IN_CH, C_OUT_CH, C_STRIP_ON,
 C_MASTER_ON, C_TRANSCRIBE_ON, C_DENOISE_ON, C_RACK_BANK, C_RACK_ON, C_ATOM_CHUNK,
 C_SCOPE_ON) = range(14)
CONFIG_LEN = 14

# state (float64): the callback's own scalars
(S_SAMPLE_RATE, S_FALLBACK_MIX, S_FALLBACK_STEP, S_LAST_WET_L, S_LAST_WET_R, S_SAFETY_GAIN,
 S_SAFETY_RELEASE, S_METER_DECAY, S_CONTROL_POS, S_LEARN_PRESSED) = range(10)
STATE_LEN = 16

# stats (int64): written only by the callback
(ST_BLOCKS, ST_FRAMES, ST_LATE_BLOCKS, ST_STATUS_OR, ST_OVER_BUDGET, ST_CALLBACK_MAX_NS,
 ST_WORKER_UNDERRUNS, ST_UNDERRUN_FRAMES, ST_NONFINITE, ST_SAFETY_BLOCKS, ST_RECORD_DROPPED,
 ST_SEND_DROPPED, ST_MIN_RETURN_FILL, ST_WORKER_POSITION, ST_OVER_BUDGET_CPU,
 ST_CALLBACK_CPU_MAX_NS, ST_PLUGIN_FAULTS) = range(17)
STATS_LEN = 17

# meters (float64): written only by the callback, read by anyone at any rate
(M_IN_PEAK_L, M_IN_PEAK_R, M_OUT_PEAK_L, M_OUT_PEAK_R, M_OUT_RMS_L, M_OUT_RMS_R,
 M_SAFETY_GR_DB, M_RETURN_FILL, M_FALLBACK_MIX, M_IN_RMS_L, M_IN_RMS_R) = range(11)
# hits per drum voice since the start (the window flashes a voice when its count moves)
M_DRUM_HITS = 16
METERS_LEN = 24

# callback time histogram: 2 us bins up to 40 ms, the last bin catches the rest
HIST_BIN_NS = 2000
HIST_BINS = 20000

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
    state[S_METER_DECAY] = db_to_gain(-METER_FALL_DB_PER_S / sample_rate_hz)
    return state


def new_stats() -> np.ndarray:
    stats = np.zeros(STATS_LEN, dtype=np.int64)
    stats[ST_MIN_RETURN_FILL] = np.iinfo(np.int64).max
    return stats
