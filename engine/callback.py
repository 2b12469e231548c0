"""The PortAudio callback: a Numba ``@cfunc`` that runs without the GIL.

PortAudio calls ``callback(input, output, frames, time_info, status, user_data)`` from its
real-time thread. ``user_data`` is the Engine's pointer table (``engine/table.py``), through
which the cfunc views every engine array and runs the same block function the offline
renderer uses (``engine/block.py``). The cfunc touches no Python object: it reads the clock
and posts the worker's semaphore through libc calls that Numba emits as plain C calls.
"""

from __future__ import annotations

import numpy as np
from numba import carray, cfunc, njit, types

from engine import block
from engine.layout import (
    C_IN_CH,
    C_OUT_CH,
    C_SEM_ADDR,
    HIST_BIN_NS,
    HIST_BINS,
    S_SAMPLE_RATE,
    ST_CALLBACK_CPU_MAX_NS,
    ST_CALLBACK_MAX_NS,
    ST_LATE_BLOCKS,
    ST_OVER_BUDGET,
    ST_OVER_BUDGET_CPU,
    ST_STATUS_OR,
)
from engine.pointers import address_of, f32_ptr, i64_ptr, void_ptr
from engine.table import N_ROWS, ROW_LEN, Row, f64, i64

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


@njit(nogil=True, cache=True)
def now_ns(table) -> int:
    """CLOCK_MONOTONIC in ns, read into the clock array's first timespec."""
    _clock_gettime(CLOCK_MONOTONIC, void_ptr(table[Row.CLOCK * ROW_LEN]))
    clock = i64(table, Row.CLOCK)
    return clock[0] * 1_000_000_000 + clock[1]


@njit(nogil=True, cache=True)
def thread_cpu_ns(table) -> int:
    """CPU time of the calling thread in ns, read into the clock array's second timespec."""
    _clock_gettime(CLOCK_THREAD_CPUTIME_ID,
                   void_ptr(table[Row.CLOCK * ROW_LEN] + _TIMESPEC_BYTES))
    clock = i64(table, Row.CLOCK)
    return clock[2] * 1_000_000_000 + clock[3]


@cfunc(CALLBACK_SIGNATURE, nopython=True, cache=True)
def pa_callback(input_ptr, output_ptr, frames, time_info, status, user_data):
    table = carray(i64_ptr(address_of(user_data)), (N_ROWS * ROW_LEN,))
    t0 = now_ns(table)
    cpu0 = thread_cpu_ns(table)
    stats = i64(table, Row.STATS)
    state = f64(table, Row.STATE)
    n = np.int64(frames)
    config = i64(table, Row.CONFIG)
    in_ch = config[C_IN_CH]
    out_ch = config[C_OUT_CH]
    out = carray(f32_ptr(address_of(output_ptr)), (n, out_ch))
    if address_of(input_ptr) != 0 and in_ch > 0:
        inp = carray(f32_ptr(address_of(input_ptr)), (n, in_ch))
    else:
        inp = carray(f32_ptr(address_of(output_ptr)), (n, 0))
    if status & PA_LATE_FLAGS:
        stats[ST_LATE_BLOCKS] += 1
        stats[ST_STATUS_OR] |= np.int64(status)
    if block.run_frames(inp, out, n, table) and config[C_SEM_ADDR] != 0:
        _sem_post(void_ptr(config[C_SEM_ADDR]))
    elapsed = now_ns(table) - t0
    cpu = thread_cpu_ns(table) - cpu0
    hist = i64(table, Row.HIST)
    hist[min(elapsed // HIST_BIN_NS, HIST_BINS - 1)] += 1
    stats[ST_CALLBACK_MAX_NS] = max(stats[ST_CALLBACK_MAX_NS], elapsed)
    stats[ST_CALLBACK_CPU_MAX_NS] = max(stats[ST_CALLBACK_CPU_MAX_NS], cpu)
    if elapsed * state[S_SAMPLE_RATE] > n * 1e9:
        stats[ST_OVER_BUDGET] += 1
    if cpu * state[S_SAMPLE_RATE] > n * 1e9:
        stats[ST_OVER_BUDGET_CPU] += 1
    return PA_CONTINUE
