"""The arrays the audio callback reaches, declared once.

PortAudio hands the callback one ``void*``: the address of an int64 *pointer table* with
one row per array (address, dim 0, dim 1). ``ARRAYS`` below is the only list of those
arrays: the rows (``Row``), the table the Engine builds (:func:`make_table`) and what the
block function reads all come from it, so adding an array is one line here plus the code
that uses it. A ring is two rows, ``NAME_DATA`` (its float32 frames) and ``NAME_IDX`` (its
counters).

The views are Numba intrinsics over raw addresses (``engine/pointers.py``): zero-cost and
safe without the GIL. The Engine owns the arrays and outlives the stream.
"""

from __future__ import annotations

import operator
from enum import IntEnum

import numpy as np
from numba import carray, njit

from engine.pointers import f32_ptr, f64_ptr, i64_ptr

F32, F64, I64 = np.float32, np.float64, np.int64
RING = "ring"

# (row name, dtype or RING, dimensions, where the Engine keeps the array)
ARRAYS: tuple[tuple[str, object, int, str], ...] = (
    ("P_TARGET", F64, 1, "params.target"),  # the base targets people set
    ("P_CURRENT", F64, 1, "params.current"),  # slewed values, advanced every block
    ("P_STEP", F64, 1, "params.step"),  # slew limit per sample
    ("EFFECTIVE", F64, 1, "effective"),  # targets with morph, macros and LFOs applied
    ("BUS", F32, 2, "bus"),  # planar stem, master and raw-input rows (engine.layout)
    ("CONFIG", I64, 1, "config"),
    ("STATE", F64, 1, "state"),
    ("STATS", I64, 1, "stats"),
    ("METERS", F64, 1, "meters"),
    ("HIST", I64, 1, "hist"),  # callback time histogram
    ("CLOCK", I64, 1, "clock"),  # two timespecs the libc clock writes into
    ("DSP_BLOB", F64, 1, "dsp_blob"),  # every kernel's state (engine/kernels.py)
    ("DSP_OFFSETS", I64, 1, "dsp_offsets"),
    ("BANK", F32, 2, "bank_audio"),  # the sample bank's audio
    ("META", F64, 2, "modulation.meta"),
    ("ASSIGN", F64, 2, "modulation.assignments"),
    ("ROUTES", F64, 2, "modulation.routes"),
    ("LFO_STATES", F64, 2, "modulation.lfo_states"),
    ("LFO_VALUES", F64, 1, "modulation.lfo_values"),
    ("RETRIGGER", I64, 2, "modulation.retrigger_counts"),
    ("MOD_OFFSETS", F64, 1, "modulation.offsets"),
    ("MORPH_AB", F64, 2, "modulation.morph_ab"),
    ("MORPH_STATE", F64, 1, "modulation.morph_state"),
    ("RACK", I64, 2, "rack.banks"),  # the plugin slots' two banks (engine/plugins)
    ("TO_W", RING, 2, "send_ring"),  # input blocks to the worker
    ("FROM_W", RING, 2, "return_ring"),  # its output, back at a fixed latency
    ("REC", RING, 2, "record_ring"),  # output (and raw input) to the recorder thread
    ("TRIG", RING, 2, "trigger_ring"),  # drum hits from the MIDI thread
    ("NOTE", RING, 2, "note_ring"),  # sampler notes from the MIDI thread
    ("HITS", RING, 2, "hits_ring"),  # beatbox events out to the MIDI-out thread
    ("VOICE", RING, 2, "voice_ring"),  # transcribed notes out to the MIDI-out thread
    ("SCOPE", RING, 2, "scope_ring"),  # output and raw input to the window's scope
)


def _rows() -> list[tuple[str, object, int, str, int | None]]:
    """``ARRAYS`` with each ring split into its two rows: (name, dtype, ndim, source, part)."""
    rows = []
    for name, dtype, ndim, source in ARRAYS:
        if dtype is RING:
            rows.append((f"{name}_DATA", F32, 2, source, 0))
            rows.append((f"{name}_IDX", I64, 1, source, 1))
        else:
            rows.append((name, dtype, ndim, source, None))
    return rows


_ROWS = _rows()


def table_rows() -> list[tuple[str, object, int, str, int | None]]:
    """The table's rows as declared: (name, dtype, dims, source, ring part or None)."""
    return list(_ROWS)
Row = IntEnum("Row", {name: i for i, (name, *_) in enumerate(_ROWS)})
N_ROWS = len(_ROWS)
ROW_LEN = 3  # address, dim 0, dim 1


def make_table(owner: object) -> np.ndarray:
    """The pointer table of ``owner``'s arrays (each checked against its declaration)."""
    table = np.zeros(N_ROWS * ROW_LEN, dtype=np.int64)
    for row, (name, dtype, ndim, source, part) in enumerate(_ROWS):
        a = operator.attrgetter(source)(owner)
        if part is not None:
            a = a[part]
        if a.dtype != dtype or a.ndim != ndim or not a.flags.c_contiguous:
            raise ValueError(f"{name} ({source}): needs a C-contiguous {ndim}-D "
                             f"{np.dtype(dtype).name} array, got {a.ndim}-D {a.dtype}")
        table[row * ROW_LEN] = a.ctypes.data
        table[row * ROW_LEN + 1] = a.shape[0]
        table[row * ROW_LEN + 2] = a.shape[1] if a.ndim > 1 else 1
    return table


@njit(nogil=True, cache=True, inline="always")
def f64(table, row):
    return carray(f64_ptr(table[row * ROW_LEN]), (table[row * ROW_LEN + 1],))


@njit(nogil=True, cache=True, inline="always")
def i64(table, row):
    return carray(i64_ptr(table[row * ROW_LEN]), (table[row * ROW_LEN + 1],))


@njit(nogil=True, cache=True, inline="always")
def f64_2d(table, row):
    base = row * ROW_LEN
    return carray(f64_ptr(table[base]), (table[base + 1], table[base + 2]))


@njit(nogil=True, cache=True, inline="always")
def i64_2d(table, row):
    base = row * ROW_LEN
    return carray(i64_ptr(table[base]), (table[base + 1], table[base + 2]))


@njit(nogil=True, cache=True, inline="always")
def f32_2d(table, row):
    base = row * ROW_LEN
    return carray(f32_ptr(table[base]), (table[base + 1], table[base + 2]))
