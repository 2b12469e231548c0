import numba
import numpy as np
import pytest
import scipy.signal

from dsp import biquad, eq

SR = 48000.0


def _noise(n=5000):
    return (0.3 * np.random.default_rng(1).standard_normal((2, n))).astype(np.float32)


def _params():
    p = eq.make_params(4)
    p[0] = biquad.HIGHPASS, 40.0, 0.7, 0.0, 1.0
    p[1] = biquad.PEAK, 400.0, 1.5, -6.0, 1.0
    p[2] = biquad.PEAK, 2500.0, 3.0, 9.0, 0.0  # disabled
    p[3] = biquad.HIGHSHELF, 8000.0, 0.7, 4.0, 1.0
    return p


def _reference(p, x):
    y = x.astype(np.float64)
    for band in p:
        if band[eq.ENABLED]:
            b, a = biquad.coefficients(int(band[0]), *band[1:4], SR)
            y = scipy.signal.lfilter(b, a, y, axis=1)
    return y


def test_matches_cascade_of_enabled_bands():
    p, x = _params(), _noise()
    y = np.empty_like(x)
    eq.process(eq.prepare(2, SR, p), p, x, y)
    np.testing.assert_allclose(y, _reference(p, x), rtol=0, atol=1e-6)


def test_disabling_a_band_fades_it_out():
    p, x = _params(), _noise()
    state = eq.prepare(2, SR, p, smoothing_ms=2.0)
    y = np.empty_like(x)
    eq.process(state, p, x[:, :1000].copy(), y[:, :1000])
    p[1, eq.ENABLED] = 0.0
    tail = np.empty((2, 4000), np.float32)
    eq.process(state, p, x[:, 1000:].copy(), tail)
    ref = _reference(p, x)[:, 1000:]
    # the glide (96 samples) and the filters' decay differ at first, then match exactly
    assert np.max(np.abs(tail[:, :50] - ref[:, :50])) > 1e-3
    np.testing.assert_allclose(tail[:, 2000:], ref[:, 2000:], rtol=0, atol=1e-5)


def test_no_bands_is_identity():
    p, x = eq.make_params(0), _noise(64)
    y = np.empty_like(x)
    eq.process(eq.prepare(2, SR, p), p, x, y)
    np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("block", [1, 7, 64, 128, 4096])
def test_block_size_invariance(block):
    p, x = _params(), _noise()
    whole = np.empty_like(x)
    eq.process(eq.prepare(2, SR, p), p, x, whole)
    state = eq.prepare(2, SR, p)
    y = np.empty_like(x)
    for i in range(0, x.shape[1], block):
        xb = np.ascontiguousarray(x[:, i:i + block])
        yb = np.empty_like(xb)
        eq.process(state, p, xb, yb)
        y[:, i:i + block] = yb
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-6)


def test_process_does_not_allocate():
    p, x = _params(), _noise(64)
    fresh = numba.njit(eq.process.py_func)
    fresh(eq.prepare(2, SR, p), p, x, x)
    ir = fresh.inspect_llvm(fresh.signatures[0])
    assert "llvm.cos" in ir
    assert "NRT_MemInfo_alloc" not in ir


def test_reset_restores_fresh_behaviour():
    p, x = _params(), _noise(500)
    fresh, again = np.empty_like(x), np.empty_like(x)
    state = eq.prepare(2, SR, p)
    eq.process(state, p, x, fresh)
    eq.reset(state)
    eq.process(state, p, x, again)
    np.testing.assert_array_equal(fresh, again)
