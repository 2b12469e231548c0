"""The rack kernel on its own: a C function standing in for a plugin's ``run`` (a Numba
cfunc, called through its address exactly as an LV2 ``run`` is), so faults can be made."""

from __future__ import annotations

import numpy as np
from numba import carray, cfunc, types

from engine.layout import ST_PLUGIN_FAULTS, STATS_LEN
from engine.plugins import rack_kernel as rk
from engine.pointers import address_of, f32_ptr

FRAMES = 64
_alive: list[np.ndarray] = []


@cfunc(types.void(types.voidptr, types.uint32))
def _halve(handle, n):
    # the "instance" is its own buffers: in row then out row, FRAMES floats each
    buf = carray(f32_ptr(address_of(handle)), (2, FRAMES))
    for i in range(n):
        buf[1, i] = 0.5 * buf[0, i]


@cfunc(types.void(types.voidptr, types.uint32))
def _nan_after_100_runs(handle, n):
    buf = carray(f32_ptr(address_of(handle)), (3, FRAMES))
    buf[2, 0] += 1.0  # a run counter in the third row
    for i in range(n):
        buf[1, i] = np.nan if buf[2, 0] > 100 else buf[0, i]


def _entry(fn, buffers, status, cells, cin, channel=rk.STEREO):
    e = np.zeros(rk.N_FIELDS, np.int64)
    e[rk.E_SLOT] = rk.SLOT_MASTER
    e[rk.E_RUN], e[rk.E_HANDLE] = fn.address, buffers.ctypes.data
    e[rk.E_CHANNEL], e[rk.E_N_IN], e[rk.E_N_OUT] = channel, 1, 1
    e[rk.E_IN], e[rk.E_OUT] = buffers[0].ctypes.data, buffers[1].ctypes.data
    e[rk.E_CELLS], e[rk.E_N_CELLS] = cells.ctypes.data, cells.shape[0]
    e[rk.E_CIN], e[rk.E_N_CIN] = cin.ctypes.data, 1
    e[rk.E_ATOM_OUT], e[rk.E_N_ATOM_OUT] = cin.ctypes.data, 0
    e[rk.E_BYPASS_SLOT] = 0
    e[rk.E_STATUS], e[rk.E_FRAMES] = status.ctypes.data, FRAMES
    return e


def _rack(fn, rows=2, channel=rk.STEREO):
    buffers = np.zeros((rows, FRAMES), np.float32)
    status = np.zeros(rk.STATUS_LEN, np.int64)
    cells = np.zeros(4, np.float32)
    cin = np.array([[2, 1]], np.int64)  # port 2 reads parameter slot 1
    banks = rk.new_banks()
    banks[0] = _entry(fn, buffers, status, cells, cin, channel)
    _alive.append(cin)  # the entry holds its address: keep it for the test's life
    return banks, buffers, status, cells


def test_a_mono_plugin_on_stereo_gets_the_mid_and_controls_come_from_the_parameters():
    banks, _, status, cells = _rack(_halve)
    x = np.stack([np.full(FRAMES, 0.4, np.float32), np.full(FRAMES, 0.2, np.float32)])
    p = np.array([0.0, 3.25])
    stats = np.zeros(STATS_LEN, np.int64)
    rk.run_slot(banks, 0, rk.SLOT_MASTER, x, FRAMES, p, stats, 0)
    np.testing.assert_allclose(x, 0.15, rtol=1e-6)  # 0.5 * (0.4 + 0.2) / 2 on both sides
    assert cells[2] == np.float32(3.25) and status[rk.S_RUNS] == 1
    p[0] = 1.0  # bypass
    rk.run_slot(banks, 0, rk.SLOT_MASTER, x, FRAMES, p, stats, 0)
    np.testing.assert_allclose(x, 0.15, rtol=1e-6)
    rk.run_slot(banks, 1, rk.SLOT_MASTER, x, FRAMES, p, stats, 0)  # the empty bank
    assert status[rk.S_RUNS] == 1


def test_a_plugin_writing_nan_is_bypassed_from_that_block_on():
    banks, _, status, _ = _rack(_nan_after_100_runs, rows=3)
    p = np.zeros(2)
    stats = np.zeros(STATS_LEN, np.int64)
    rng = np.random.default_rng(0)
    for k in range(200):
        x = rng.standard_normal((2, FRAMES)).astype(np.float32)
        expect = x.copy() if k >= 100 else np.repeat(x.mean(0, keepdims=True), 2, 0)
        rk.run_slot(banks, 0, rk.SLOT_MASTER, x, FRAMES, p, stats, 0)
        assert np.all(np.isfinite(x))
        np.testing.assert_allclose(x, expect, rtol=1e-6, atol=1e-7)
    assert status[rk.S_FAULT] == 1 and status[rk.S_NONFINITE] == 1
    assert stats[ST_PLUGIN_FAULTS] == 1 and status[rk.S_RUNS] == 100


def test_the_slot_kernel_does_not_allocate(assert_no_nrt_alloc):
    banks, _, _, _ = _rack(_halve)
    x = np.zeros((2, FRAMES), np.float32)
    assert_no_nrt_alloc(rk.run_slot, banks, 0, rk.SLOT_MASTER, x, FRAMES, np.zeros(2),
                        np.zeros(STATS_LEN, np.int64), 0)
