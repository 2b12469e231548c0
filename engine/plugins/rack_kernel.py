"""The plugin slots in the block function: each LV2 instance's ``run`` called through its C
function pointer, from Numba, without the GIL.

The rack is an int64 table of *entries*, one per LV2 instance, in two banks: the Python
side (``rack.py``) writes a whole new chain into the bank the callback is not reading and
then flips ``config[C_RACK_BANK]``, so a chain changes between two blocks and the callback
never waits. An entry holds addresses only (the run function, the instance, its buffers,
its control cells); the arrays behind them belong to the plugin objects, which outlive
any bank that names them.

Per block and entry: control cells <- the parameter array (float64 -> the port's float),
output atom sequences reset to empty chunks, audio copied into the instance's input
buffers, ``run(handle, n)``, the outputs checked finite and copied back. A plugin that
writes NaN or Inf is bypassed from that block on and counted (``ST_PLUGIN_FAULTS``).
"""

from __future__ import annotations

import numpy as np
from numba import carray, njit

from engine.layout import ST_PLUGIN_FAULTS
from engine.pointers import call_lv2_run, f32_ptr, i32_ptr, i64_ptr

SLOT_NAMES = ("voice", "worker", "master")
SLOT_VOICE, SLOT_WORKER, SLOT_MASTER = range(3)
MAX_PER_SLOT = 8
# a plugin with one audio input and one output runs twice (left, right): two entries
MAX_ENTRIES = 2 * MAX_PER_SLOT * len(SLOT_NAMES)
# entry columns
(E_SLOT, E_RUN, E_HANDLE, E_CHANNEL, E_N_IN, E_N_OUT, E_IN, E_OUT, E_CELLS, E_CIN, E_N_CIN,
 E_ATOM_OUT, E_N_ATOM_OUT, E_BYPASS_SLOT, E_STATUS, E_FRAMES, E_N_CELLS) = range(17)
N_FIELDS = 17
EMPTY = -1  # E_SLOT of an unused entry
STEREO = -1  # E_CHANNEL of an instance that takes both channels
# status columns (int64, per plugin): fault flag, blocks with non-finite output, runs
S_FAULT, S_NONFINITE, S_RUNS = range(3)
STATUS_LEN = 4
# atom port buffers: this many bytes, or the port's rsz:minimumSize up to the largest
# (LSP's analysers ask for megabytes to talk to their UIs)
ATOM_CAPACITY_BYTES = 8192
ATOM_MAX_BYTES = 64 << 20
ATOM_HEADER_WORDS = 2  # LV2_Atom: size, type (uint32 each)
EXPONENT_BITS = np.int32(0x7F800000)  # of a float32


def new_banks() -> np.ndarray:
    banks = np.zeros((2 * MAX_ENTRIES, N_FIELDS), dtype=np.int64)
    banks[:, E_SLOT] = EMPTY
    return banks


@njit(nogil=True, cache=True, inline="always")
def _i64(address, n):
    return carray(i64_ptr(address), (n,))


@njit(nogil=True, cache=True)
def _reset_atoms(entry, chunk_urid):
    # an output atom port starts each run as an empty chunk of its buffer's capacity;
    # E_ATOM_OUT holds (address, capacity in bytes) pairs
    outs = carray(i64_ptr(entry[E_ATOM_OUT]), (max(1, entry[E_N_ATOM_OUT]), 2))
    for k in range(entry[E_N_ATOM_OUT]):
        head = carray(i32_ptr(outs[k, 0]), (ATOM_HEADER_WORDS,))
        head[0] = outs[k, 1] - 4 * ATOM_HEADER_WORDS
        head[1] = chunk_urid


@njit(nogil=True, cache=True, inline="always")
def _copy(src, dst, n):
    for i in range(n):
        dst[i] = src[i]


@njit(nogil=True, cache=True)
def _all_finite(bits, rows, n):
    # on the float bits: an all-ones exponent is Inf or NaN; an integer max reduction
    # vectorizes where a float test with an early exit would not
    top = np.int32(0)
    for c in range(rows):
        for i in range(n):
            top = max(top, bits[c, i] & EXPONENT_BITS)
    return top != EXPONENT_BITS


@njit(nogil=True, cache=True)
def run_entry(entry, x, n, p, chunk_urid):
    """Run one instance on ``x (2, >= n)`` in place with parameter values ``p``; False if
    its output was not finite (then ``x`` is left as it was)."""
    frames = entry[E_FRAMES]
    cells = carray(f32_ptr(entry[E_CELLS]), (entry[E_N_CELLS],))
    cin = carray(i64_ptr(entry[E_CIN]), (max(1, entry[E_N_CIN]), 2))
    for k in range(entry[E_N_CIN]):
        cells[cin[k, 0]] = np.float32(p[cin[k, 1]])
    _reset_atoms(entry, chunk_urid)
    n_in, n_out, ch = entry[E_N_IN], entry[E_N_OUT], entry[E_CHANNEL]
    ins = carray(f32_ptr(entry[E_IN]), (max(1, n_in), frames))
    outs = carray(f32_ptr(entry[E_OUT]), (max(1, n_out), frames))
    if ch != STEREO:
        _copy(x[ch], ins[0], n)
    elif n_in == 1:
        for i in range(n):
            ins[0, i] = 0.5 * (x[0, i] + x[1, i])
    elif n_in >= 2:
        _copy(x[0], ins[0], n)
        _copy(x[1], ins[1], n)
    call_lv2_run(entry[E_RUN], entry[E_HANDLE], n)
    if not _all_finite(carray(i32_ptr(entry[E_OUT]), (max(1, n_out), frames)), n_out, n):
        return False
    if ch != STEREO:
        _copy(outs[0], x[ch], n)
    elif n_out == 1:
        _copy(outs[0], x[0], n)
        _copy(outs[0], x[1], n)
    elif n_out >= 2:
        _copy(outs[0], x[0], n)
        _copy(outs[1], x[1], n)
    return True


@njit(nogil=True, cache=True)
def run_slot(banks, bank, slot, x, n, p, stats, chunk_urid):
    """The chain of ``slot`` in bank ``bank`` on ``x (2, n)`` in place."""
    base = bank * MAX_ENTRIES
    run_rows(banks[base: base + MAX_ENTRIES], slot, x, n, p, stats, chunk_urid)


@njit(nogil=True, cache=True)
def run_rows(rows, slot, x, n, p, stats, chunk_urid):
    """The entries of ``rows`` in ``slot`` on ``x (2, n)`` in place, in order; bypassed and
    faulted plugins are skipped. ``n`` is at most the entries' buffer length."""
    for e in range(rows.shape[0]):
        entry = rows[e]
        if entry[E_SLOT] == EMPTY:
            break  # a bank's entries are packed from its first row
        if entry[E_SLOT] != slot:
            continue
        status = _i64(entry[E_STATUS], STATUS_LEN)
        if status[S_FAULT] != 0 or p[entry[E_BYPASS_SLOT]] >= 0.5:
            continue
        if run_entry(entry, x, n, p, chunk_urid):
            status[S_RUNS] += 1
        else:
            status[S_FAULT] = 1
            status[S_NONFINITE] += 1
            stats[ST_PLUGIN_FAULTS] += 1
