"""The PortAudio callback: a Numba ``@cfunc`` that runs without the GIL.

PortAudio calls ``callback(input, output, frames, time_info, status, user_data)`` from its
real-time thread. ``user_data`` points at an int64 *table*: for every engine array the
table holds its address and shape, so the cfunc can view the arrays with ``carray`` and
call the same ``graph.process_block`` the offline renderer uses. The cfunc touches no
Python object: it reads the clock and posts the worker's semaphore through libc calls
that Numba emits as plain C calls.
"""

from __future__ import annotations

import numpy as np
from numba import carray, cfunc, njit, types

from engine import graph, modulation
from engine.pointers import address_of, f32_ptr, f64_ptr, i64_ptr, void_ptr

# one table row per array: address, dim0, dim1
(T_P_TARGET, T_P_CURRENT, T_P_STEP, T_BUS, T_TO_W_DATA, T_TO_W_IDX, T_FROM_W_DATA,
 T_FROM_W_IDX, T_REC_DATA, T_REC_IDX, T_CONFIG, T_STATE, T_STATS, T_METERS, T_HIST,
 T_CLOCK, T_DSP_BLOB, T_DSP_OFFSETS, T_EFFECTIVE, T_META, T_ASSIGN, T_ROUTES, T_LFO_STATES,
 T_LFO_VALUES, T_RETRIGGER, T_MOD_OFFSETS, T_MORPH_AB, T_MORPH_STATE, T_TRIG_DATA,
 T_TRIG_IDX, T_NOTE_DATA, T_NOTE_IDX, T_BANK, T_HITS_DATA, T_HITS_IDX, T_VOICE_DATA,
 T_VOICE_IDX) = range(37)
N_TABLE_ROWS = 37
TABLE_ROW = 3

# callback time histogram: 2 us bins up to 40 ms, the last bin catches the rest
HIST_BIN_NS = 2000
HIST_BINS = 20000

PA_CONTINUE = 0
# paInputUnderflow | paInputOverflow | paOutputUnderflow | paOutputOverflow
PA_LATE_FLAGS = 0x0F
CLOCK_MONOTONIC = 1
# The calling thread's CPU time. The kernel's task clock leaves out time the thread was not
# running, hypervisor steal included (CONFIG_PARAVIRT_TIME_ACCOUNTING, on in these VMs), so a
# callback over budget on the wall clock but not on this one was preempted, not slow.
CLOCK_THREAD_CPUTIME_ID = 3
_TIMESPEC_BYTES = 16

# Declared by symbol name (resolved from libc at link time) rather than as ctypes
# pointers, so Numba can cache the compiled callback between runs.
_clock_gettime = types.ExternalFunction("clock_gettime", types.intc(types.intc, types.voidptr))
_sem_post = types.ExternalFunction("sem_post", types.intc(types.voidptr))

CALLBACK_SIGNATURE = types.intc(
    types.voidptr, types.voidptr, types.uint64, types.voidptr, types.uint64, types.voidptr
)


def make_table(arrays: dict[int, np.ndarray]) -> np.ndarray:
    """Build the pointer table for ``arrays`` keyed by ``T_*`` row; keep the arrays alive."""
    table = np.zeros(N_TABLE_ROWS * TABLE_ROW, dtype=np.int64)
    for row, a in arrays.items():
        if not a.flags.c_contiguous:
            raise ValueError(f"table row {row}: array must be C-contiguous")
        table[row * TABLE_ROW] = a.ctypes.data
        table[row * TABLE_ROW + 1] = a.shape[0]
        table[row * TABLE_ROW + 2] = a.shape[1] if a.ndim > 1 else 1
    return table


@njit(nogil=True, cache=True, inline="always")
def _f64(table, row):
    return carray(f64_ptr(table[row * TABLE_ROW]), (table[row * TABLE_ROW + 1],))


@njit(nogil=True, cache=True, inline="always")
def _i64(table, row):
    return carray(i64_ptr(table[row * TABLE_ROW]), (table[row * TABLE_ROW + 1],))


@njit(nogil=True, cache=True, inline="always")
def _f64_2d(table, row):
    base = row * TABLE_ROW
    return carray(f64_ptr(table[base]), (table[base + 1], table[base + 2]))


@njit(nogil=True, cache=True, inline="always")
def _i64_2d(table, row):
    base = row * TABLE_ROW
    return carray(i64_ptr(table[base]), (table[base + 1], table[base + 2]))


@njit(nogil=True, cache=True, inline="always")
def _f32_2d(table, row):
    base = row * TABLE_ROW
    return carray(f32_ptr(table[base]), (table[base + 1], table[base + 2]))


@njit(nogil=True, cache=True)
def now_ns(table) -> int:
    """CLOCK_MONOTONIC in ns, read into the clock array's first timespec."""
    _clock_gettime(CLOCK_MONOTONIC, void_ptr(table[T_CLOCK * TABLE_ROW]))
    clock = _i64(table, T_CLOCK)
    return clock[0] * 1_000_000_000 + clock[1]


@njit(nogil=True, cache=True)
def thread_cpu_ns(table) -> int:
    """CPU time of the calling thread in ns, read into the clock array's second timespec."""
    _clock_gettime(CLOCK_THREAD_CPUTIME_ID,
                   void_ptr(table[T_CLOCK * TABLE_ROW] + _TIMESPEC_BYTES))
    clock = _i64(table, T_CLOCK)
    return clock[2] * 1_000_000_000 + clock[3]


@njit(nogil=True, cache=True)
def run_frames(inp, out, n_frames, table):
    """Process any number of frames through the graph in MAX_BLOCK_FRAMES chunks."""
    config = _i64(table, T_CONFIG)
    effective = _f64(table, T_EFFECTIVE)
    wake = False
    done = 0
    while done < n_frames:
        n = min(graph.MAX_BLOCK_FRAMES, n_frames - done)
        modulation.apply(n, _f64(table, T_P_TARGET), effective, _f64_2d(table, T_META),
                         _f64_2d(table, T_ASSIGN), _f64_2d(table, T_ROUTES),
                         _f64_2d(table, T_LFO_STATES), _f64(table, T_LFO_VALUES),
                         _i64_2d(table, T_RETRIGGER), _f64(table, T_MOD_OFFSETS),
                         _f64_2d(table, T_MORPH_AB), _f64(table, T_MORPH_STATE))
        wake |= graph.process_block(
            inp[done: done + n], out[done: done + n], n,
            effective, _f64(table, T_P_CURRENT), _f64(table, T_P_STEP),
            _f32_2d(table, T_BUS), _f32_2d(table, T_TO_W_DATA), _i64(table, T_TO_W_IDX),
            _f32_2d(table, T_FROM_W_DATA), _i64(table, T_FROM_W_IDX),
            _f32_2d(table, T_REC_DATA), _i64(table, T_REC_IDX),
            config, _f64(table, T_STATE), _i64(table, T_STATS), _f64(table, T_METERS),
            _f64(table, T_DSP_BLOB), _i64(table, T_DSP_OFFSETS),
            _f32_2d(table, T_TRIG_DATA), _i64(table, T_TRIG_IDX),
            _f32_2d(table, T_NOTE_DATA), _i64(table, T_NOTE_IDX), _f32_2d(table, T_BANK),
            _f32_2d(table, T_HITS_DATA), _i64(table, T_HITS_IDX),
            _f32_2d(table, T_VOICE_DATA), _i64(table, T_VOICE_IDX),
        )
        done += n
    if wake and config[graph.C_SEM_ADDR] != 0:
        _sem_post(void_ptr(config[graph.C_SEM_ADDR]))


@cfunc(CALLBACK_SIGNATURE, nopython=True, cache=True)
def pa_callback(input_ptr, output_ptr, frames, time_info, status, user_data):
    table = carray(i64_ptr(address_of(user_data)), (N_TABLE_ROWS * TABLE_ROW,))
    t0 = now_ns(table)
    cpu0 = thread_cpu_ns(table)
    stats = _i64(table, T_STATS)
    state = _f64(table, T_STATE)
    n = np.int64(frames)
    config = _i64(table, T_CONFIG)
    in_ch = config[graph.C_IN_CH]
    out_ch = config[graph.C_OUT_CH]
    out = carray(f32_ptr(address_of(output_ptr)), (n, out_ch))
    if address_of(input_ptr) != 0 and in_ch > 0:
        inp = carray(f32_ptr(address_of(input_ptr)), (n, in_ch))
    else:
        inp = carray(f32_ptr(address_of(output_ptr)), (n, 0))
    if status & PA_LATE_FLAGS:
        stats[graph.ST_LATE_BLOCKS] += 1
        stats[graph.ST_STATUS_OR] |= np.int64(status)
    run_frames(inp, out, n, table)
    elapsed = now_ns(table) - t0
    cpu = thread_cpu_ns(table) - cpu0
    hist = _i64(table, T_HIST)
    hist[min(elapsed // HIST_BIN_NS, HIST_BINS - 1)] += 1
    stats[graph.ST_CALLBACK_MAX_NS] = max(stats[graph.ST_CALLBACK_MAX_NS], elapsed)
    stats[graph.ST_CALLBACK_CPU_MAX_NS] = max(stats[graph.ST_CALLBACK_CPU_MAX_NS], cpu)
    if elapsed * state[graph.S_SAMPLE_RATE] > n * 1e9:
        stats[graph.ST_OVER_BUDGET] += 1
    if cpu * state[graph.S_SAMPLE_RATE] > n * 1e9:
        stats[graph.ST_OVER_BUDGET_CPU] += 1
    return PA_CONTINUE
