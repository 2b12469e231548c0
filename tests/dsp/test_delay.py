import numba
import numpy as np
import pytest

from dsp import delay

SR = 48000.0


def _noise(n=5000):
    return (0.3 * np.random.default_rng(8).standard_normal((2, n))).astype(np.float32)


@pytest.mark.parametrize("d", [0, 1, 37, 1000])
def test_exact_integer_delay(d):
    x = _noise()
    y = np.empty_like(x)
    delay.process(delay.prepare(2, SR, 1000, d), float(d), x, y)
    np.testing.assert_array_equal(y[:, d:], x[:, :x.shape[1] - d])
    assert np.all(y[:, :d] == 0.0)


def test_fractional_delay_interpolates_linearly():
    x = _noise()
    y = np.empty_like(x)
    delay.process(delay.prepare(2, SR, 100, 10.25), 10.25, x, y)
    expected = 0.75 * x[:, 1:-10] + 0.25 * x[:, :-11]
    np.testing.assert_allclose(y[:, 11:], expected, rtol=0, atol=1e-7)


def test_delay_is_clamped_to_max():
    x = _noise(500)
    y = np.empty_like(x)
    delay.process(delay.prepare(2, SR, 50, 50.0), 80.0, x, y)
    np.testing.assert_array_equal(y[:, 50:], x[:, :-50])


def test_in_place():
    x = _noise(500)
    ref = x.copy()
    delay.process(delay.prepare(2, SR, 64, 5.0), 5.0, x, x)
    np.testing.assert_array_equal(x[:, 5:], ref[:, :-5])


def test_delay_change_glides():
    x = np.arange(2000, dtype=np.float32)[None]  # a ramp shows the read position directly
    y = np.empty_like(x)
    state = delay.prepare(1, SR, 500, 100.0, smoothing_ms=5.0)
    delay.process(state, 100.0, x[:, :1000], y[:, :1000])
    tail = np.empty((1, 1000), np.float32)
    delay.process(state, 340.0, np.ascontiguousarray(x[:, 1000:]), tail)
    d = x[0, 1000:] - tail[0]  # the delay in samples at each output sample
    np.testing.assert_allclose(d[:240], 100.0 + np.arange(1, 241), rtol=1e-5)
    np.testing.assert_array_equal(d[240:], 340.0)


@pytest.mark.parametrize("block", [1, 7, 64, 128, 4096])
def test_block_size_invariance(block):
    x = _noise()
    whole = np.empty_like(x)
    delay.process(delay.prepare(2, SR, 300, 0.0), 200.5, x, whole)
    state = delay.prepare(2, SR, 300, 0.0)
    y = np.empty_like(x)
    for i in range(0, x.shape[1], block):
        xb = np.ascontiguousarray(x[:, i:i + block])
        yb = np.empty_like(xb)
        delay.process(state, 200.5, xb, yb)
        y[:, i:i + block] = yb
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-6)


def test_process_does_not_allocate():
    x = _noise(64)
    fresh = numba.njit(delay.process.py_func)
    fresh(delay.prepare(2, SR, 100), 10.0, x, x)
    ir = fresh.inspect_llvm(fresh.signatures[0])
    assert "NRT_MemInfo_alloc" not in ir
    assert len(ir) > 10000  # really the compiled body, not a cached-code placeholder


def test_reset_silences_the_buffer():
    x = _noise(500)
    state = delay.prepare(2, SR, 100, 50.0)
    y = np.empty_like(x)
    delay.process(state, 50.0, x, y)
    delay.reset(state)
    delay.process(state, 50.0, np.zeros_like(x), y)
    assert np.all(y == 0.0)
