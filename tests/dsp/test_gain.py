import numba
import numpy as np
import pytest

from dsp import gain

SR = 48000.0


def _noise(n=5000):
    return (0.3 * np.random.default_rng(6).standard_normal((2, n))).astype(np.float32)


def test_constant_gain():
    x = _noise()
    y = np.empty_like(x)
    gain.process(gain.prepare(SR, -6.0), -6.0, x, y)
    np.testing.assert_allclose(y, x * 10 ** (-6 / 20), rtol=1e-6)


def test_change_ramps_linearly_per_sample():
    x = np.ones((2, 480), np.float32)
    y = np.empty_like(x)
    state = gain.prepare(SR, 0.0, smoothing_ms=5.0)  # 240-sample ramp
    gain.process(state, 20.0, x, y)
    expected = np.r_[1.0 + 9.0 * np.arange(1, 241) / 240, np.full(240, 10.0)]
    np.testing.assert_allclose(y[0], expected, rtol=1e-5)
    np.testing.assert_array_equal(y[0], y[1])


def test_ramp_restarts_from_current_value():
    x = np.ones((1, 120), np.float32)
    y = np.empty_like(x)
    state = gain.prepare(SR, 0.0, smoothing_ms=5.0)
    gain.process(state, 20.0, x, y)  # halfway: gain 5.5
    gain.process(state, 0.0, x, y)  # back down to 1 over 240 samples, from 5.5
    assert y[0, 0] == pytest.approx(5.5 - 4.5 / 240, rel=1e-5)
    assert np.all(np.diff(y[0]) < 0)


@pytest.mark.parametrize("block", [1, 7, 64, 128, 4096])
def test_block_size_invariance(block):
    x = _noise()
    whole = np.empty_like(x)
    state = gain.prepare(SR, 0.0)
    gain.process(state, 12.0, x, whole)  # includes a ramp at the start
    state = gain.prepare(SR, 0.0)
    y = np.empty_like(x)
    for i in range(0, x.shape[1], block):
        xb = np.ascontiguousarray(x[:, i:i + block])
        yb = np.empty_like(xb)
        gain.process(state, 12.0, xb, yb)
        y[:, i:i + block] = yb
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-6)


def test_process_does_not_allocate():
    x = _noise(64)
    fresh = numba.njit(gain.process.py_func)
    fresh(gain.prepare(SR), -3.0, x, x)
    ir = fresh.inspect_llvm(fresh.signatures[0])
    assert "llvm.pow" in ir
    assert "NRT_MemInfo_alloc" not in ir


def test_reset_ends_the_glide():
    x = np.ones((1, 10), np.float32)
    state = gain.prepare(SR, 0.0)
    gain.process(state, 20.0, x, x.copy())
    gain.reset(state)
    y = np.empty_like(x)
    gain.process(state, 20.0, x, y)
    np.testing.assert_allclose(y, 10.0, rtol=1e-6)
