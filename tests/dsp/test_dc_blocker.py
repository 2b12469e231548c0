import numba
import numpy as np
import pytest

from dsp import dc_blocker

SR = 48000.0


def test_removes_dc():
    x = np.full((2, int(0.5 * SR)), 0.8, np.float32)
    x[1] = -0.3
    y = np.empty_like(x)
    dc_blocker.process(dc_blocker.prepare(2, SR, 10.0), 10.0, x, y)
    assert np.max(np.abs(y[:, int(0.25 * SR):])) < 1e-4


def test_passes_1khz_unchanged():
    n = 9600
    t = np.arange(n) / SR
    x = (0.5 * np.sin(2 * np.pi * 1000 * t) + 0.25)[None].astype(np.float32)
    y = np.empty_like(x)
    dc_blocker.process(dc_blocker.prepare(1, SR, 10.0), 10.0, x, y)
    # least-squares amplitude at 1 kHz over the settled half (exactly 100 periods)
    basis = np.stack([np.sin(2 * np.pi * 1000 * t), np.cos(2 * np.pi * 1000 * t)], axis=1)[4800:]
    coef, *_ = np.linalg.lstsq(basis, y[0, 4800:], rcond=None)
    assert 20 * np.log10(np.hypot(*coef) / 0.5) == pytest.approx(0.0, abs=0.01)


def test_cutoff_is_minus_3db():
    n = int(2 * SR)
    t = np.arange(n) / SR
    x = np.sin(2 * np.pi * 20 * t)[None].astype(np.float32)
    y = np.empty_like(x)
    dc_blocker.process(dc_blocker.prepare(1, SR, 20.0), 20.0, x, y)
    amp = np.sqrt(2) * np.std(y[0, n // 2:])
    assert 20 * np.log10(amp) == pytest.approx(-3.01, abs=0.05)


@pytest.mark.parametrize("block", [1, 7, 64, 128, 4096])
def test_block_size_invariance(block):
    x = (0.3 * np.random.default_rng(7).standard_normal((2, 5000)) + 0.5).astype(np.float32)
    whole = np.empty_like(x)
    dc_blocker.process(dc_blocker.prepare(2, SR, 5.0), 30.0, x, whole)  # glides 5 -> 30 Hz
    state = dc_blocker.prepare(2, SR, 5.0)
    y = np.empty_like(x)
    for i in range(0, x.shape[1], block):
        xb = np.ascontiguousarray(x[:, i:i + block])
        yb = np.empty_like(xb)
        dc_blocker.process(state, 30.0, xb, yb)
        y[:, i:i + block] = yb
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-6)


def test_process_does_not_allocate():
    x = np.zeros((2, 64), np.float32)
    fresh = numba.njit(dc_blocker.process.py_func)
    fresh(dc_blocker.prepare(2, SR), 15.0, x, x)
    ir = fresh.inspect_llvm(fresh.signatures[0])
    assert "llvm.exp" in ir
    assert "NRT_MemInfo_alloc" not in ir


def test_reset_restores_fresh_behaviour():
    x = np.full((2, 500), 0.5, np.float32)
    fresh, again = np.empty_like(x), np.empty_like(x)
    state = dc_blocker.prepare(2, SR, 10.0)
    dc_blocker.process(state, 10.0, x, fresh)
    dc_blocker.reset(state)
    dc_blocker.process(state, 10.0, x, again)
    np.testing.assert_array_equal(fresh, again)
