import ctypes

import numba
import numpy as np
import pytest
import scipy.signal
from numba import carray, cfunc, types

from dsp import biquad

SR = 48000.0
KINDS = [biquad.LOWPASS, biquad.HIGHPASS, biquad.BANDPASS, biquad.NOTCH, biquad.PEAK,
         biquad.LOWSHELF, biquad.HIGHSHELF]


def _noise(n_channels=2, n=5000, seed=0):
    return (0.3 * np.random.default_rng(seed).standard_normal((n_channels, n))).astype(np.float32)


def _in_blocks(process, x, block):
    y = np.empty_like(x)
    for i in range(0, x.shape[1], block):
        xb = np.ascontiguousarray(x[:, i:i + block])
        yb = np.empty_like(xb)
        process(xb, yb)
        y[:, i:i + block] = yb
    return y


def _mag_db(kind, f_hz, freq_hz, q, gain_db):
    b, a = biquad.coefficients(kind, freq_hz, q, gain_db, SR)
    _, h = scipy.signal.freqz(b, a, worN=[f_hz], fs=SR)
    return 20 * np.log10(np.abs(h[0]))


@pytest.mark.parametrize("kind", KINDS)
def test_matches_scipy_lfilter(kind):
    x = _noise()
    params = (1234.0, 0.9, 7.5)
    state = biquad.prepare(2, SR, kind, *params)
    y = np.empty_like(x)
    biquad.process(state, kind, *params, x, y)
    b, a = biquad.coefficients(kind, *params, SR)
    ref = scipy.signal.lfilter(b, a, x.astype(np.float64), axis=1)
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-6)


def test_in_place():
    x = _noise()
    y = np.empty_like(x)
    s1 = biquad.prepare(2, SR, biquad.PEAK, 500.0, 2.0, -6.0)
    s2 = s1.copy()
    biquad.process(s1, biquad.PEAK, 500.0, 2.0, -6.0, x, y)
    biquad.process(s2, biquad.PEAK, 500.0, 2.0, -6.0, x, x)
    np.testing.assert_array_equal(x, y)


def test_cookbook_magnitudes():
    fc, q = 1000.0, 1 / np.sqrt(2)
    assert _mag_db(biquad.LOWPASS, fc, fc, q, 0.0) == pytest.approx(-3.0103, abs=0.01)
    assert _mag_db(biquad.HIGHPASS, fc, fc, q, 0.0) == pytest.approx(-3.0103, abs=0.01)
    assert _mag_db(biquad.LOWPASS, 10.0, fc, q, 0.0) == pytest.approx(0.0, abs=0.01)
    assert _mag_db(biquad.HIGHPASS, 20000.0, fc, q, 0.0) == pytest.approx(0.0, abs=0.1)
    assert _mag_db(biquad.BANDPASS, fc, fc, 3.0, 0.0) == pytest.approx(0.0, abs=0.01)
    assert _mag_db(biquad.NOTCH, fc, fc, 3.0, 0.0) < -100.0
    for g in (-12.0, 4.5, 18.0):
        assert _mag_db(biquad.PEAK, fc, fc, 2.0, g) == pytest.approx(g, abs=0.01)
        assert _mag_db(biquad.LOWSHELF, 1.0, fc, q, g) == pytest.approx(g, abs=0.01)
        assert _mag_db(biquad.LOWSHELF, fc, fc, q, g) == pytest.approx(g / 2, abs=0.01)
        assert _mag_db(biquad.HIGHSHELF, SR / 2, fc, q, g) == pytest.approx(g, abs=0.01)
        assert _mag_db(biquad.HIGHSHELF, fc, fc, q, g) == pytest.approx(g / 2, abs=0.01)
    assert _mag_db(biquad.BYPASS, fc, fc, q, 12.0) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("block", [1, 7, 64, 128, 4096])
def test_block_size_invariance(block):
    x = _noise()
    params = (biquad.PEAK, 300.0, 4.0, 9.0)
    whole = np.empty_like(x)
    biquad.process(biquad.prepare(2, SR, *params), *params, x, whole)
    state = biquad.prepare(2, SR, *params)
    y = _in_blocks(lambda xb, yb: biquad.process(state, *params, xb, yb), x, block)
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-6)


def test_parameter_change_glides_then_settles():
    state = biquad.prepare(1, SR, biquad.LOWPASS, 500.0, 0.7, 0.0, smoothing_ms=1.0)
    ramp = int(round(1e-3 * SR))
    old = biquad.coefficients(biquad.LOWPASS, 500.0, 0.7, 0.0, SR)
    new = biquad.coefficients(biquad.LOWPASS, 5000.0, 0.7, 0.0, SR)
    x = np.zeros((1, ramp // 2), np.float32)
    biquad.process(state, biquad.LOWPASS, 5000.0, 0.7, 0.0, x, x)
    b0 = state[8]  # current b0, halfway through the glide
    assert min(old[0][0], new[0][0]) < b0 < max(old[0][0], new[0][0])
    np.testing.assert_allclose(b0, 0.5 * (old[0][0] + new[0][0]), rtol=1e-9)
    biquad.process(state, biquad.LOWPASS, 5000.0, 0.7, 0.0, x, x)
    np.testing.assert_array_equal(state[8:13], np.r_[new[0], new[1][1:]])
    # unchanged parameters must not restart a glide
    biquad.process(state, biquad.LOWPASS, 5000.0, 0.7, 0.0, x, x)
    assert state[3] == 0.0


def test_fast_sweeps_stay_stable():
    rng = np.random.default_rng(3)
    x = _noise(n=32 * 400)
    state = biquad.prepare(2, SR, biquad.LOWPASS, 1000.0, 0.7, 0.0, smoothing_ms=0.5)
    y = np.empty_like(x)
    for i in range(400):
        kind = int(rng.integers(0, 7))
        f, q, g = 10 ** rng.uniform(1.5, 4.3), 10 ** rng.uniform(-0.5, 1.2), rng.uniform(-18, 18)
        sl = slice(32 * i, 32 * (i + 1))
        xb = np.ascontiguousarray(x[:, sl])
        yb = np.empty_like(xb)
        biquad.process(state, kind, f, q, g, xb, yb)
        y[:, sl] = yb
    assert np.all(np.isfinite(y)) and np.max(np.abs(y)) < 100.0


def test_process_does_not_allocate():
    x = _noise(n=64)
    state = biquad.prepare(2, SR, biquad.LOWPASS, 1000.0, 0.7, 0.0)
    fresh = numba.njit(biquad.process.py_func)
    fresh(state, biquad.LOWPASS, 1000.0, 0.7, 0.0, x, x)
    ir = fresh.inspect_llvm(fresh.signatures[0])
    assert "llvm.cos" in ir  # the callees' bodies are part of the inspected module
    assert "NRT_MemInfo_alloc" not in ir


def test_callable_from_cfunc():
    sig = types.void(types.CPointer(types.float64), types.intp, types.CPointer(types.float32),
                     types.intp)

    @cfunc(sig, nogil=True)
    def callback(state_ptr, state_len, buf_ptr, n):
        state = carray(state_ptr, (state_len,))
        buf = carray(buf_ptr, (2, n))
        biquad.process(state, biquad.HIGHPASS, 200.0, 0.7, 0.0, buf, buf)

    x = _noise(n=256)
    ref = np.empty_like(x)
    biquad.process(biquad.prepare(2, SR, biquad.HIGHPASS, 200.0, 0.7, 0.0),
                   biquad.HIGHPASS, 200.0, 0.7, 0.0, x, ref)
    state = biquad.prepare(2, SR, biquad.HIGHPASS, 200.0, 0.7, 0.0)
    buf = x.copy()
    callback.ctypes(state.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), state.size,
                    buf.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), 256)
    np.testing.assert_array_equal(buf, ref)


def test_reset_restores_fresh_behaviour():
    x = _noise(n=500)
    args = (biquad.BANDPASS, 700.0, 2.0, 0.0)
    fresh, again = np.empty_like(x), np.empty_like(x)
    state = biquad.prepare(2, SR, *args)
    biquad.process(state, *args, x, fresh)
    biquad.reset(state)
    biquad.process(state, *args, x, again)
    np.testing.assert_array_equal(fresh, again)


def _reference_glide(state, changes, x):
    """Per-sample TDF-II in plain Python, gliding as documented: after a parameter change
    the coefficients move linearly from where they are to the new design, reaching it on
    the ``ramp``-th sample; ``changes`` maps a sample index to new (kind, freq, q, gain)."""
    ramp = int(state[2])
    b, a = biquad.coefficients(int(state[4]), *state[5:8], SR)
    cur = np.r_[b, a[1:]]
    start, target, k = cur, cur, ramp
    z = np.zeros((x.shape[0], 2))
    y = np.empty(x.shape)
    for i in range(x.shape[1]):
        if i in changes:
            b, a = biquad.coefficients(*changes[i], SR)
            start, target, k = cur, np.r_[b, a[1:]], 0
        if k < ramp:
            k += 1
            cur = target if k == ramp else start + (target - start) * (k / ramp)
        b0, b1, b2, a1, a2 = cur
        for c in range(x.shape[0]):
            xi = float(x[c, i])
            yi = b0 * xi + z[c, 0]
            z[c, 0] = b1 * xi - a1 * yi + z[c, 1]
            z[c, 1] = b2 * xi - a2 * yi
            y[c, i] = yi
    return y, z


@numba.njit
def _process_views(blob, a, b, planar, k, kinds, freqs, qs, gains, block):
    """Like the engine: state slice of a bigger blob, in place on a layout-'A' view."""
    n = planar.shape[2]
    for j in range(0, n, block):
        m = min(block, n - j)
        x = planar[k, :, j:j + m]
        p = j // block
        biquad.process(blob[a:b], kinds[p], freqs[p], qs[p], gains[p], x, x)


@pytest.mark.parametrize("n_channels", [1, 2, 3])
@pytest.mark.parametrize("block", [1, 7, 128, 1000])
def test_fast_paths_match_per_sample_reference(n_channels, block):
    """The optimised run (channel pairs, coefficients in registers, glide only where one is
    under way) equals a straightforward per-sample loop: scipy's lfilter while parameters
    are steady, a plain Python glide while they move. Called from jitted code on a state
    slice and a non-contiguous view, in place, with glides that start and end mid-block
    and a change that interrupts a glide."""
    n = 2000
    x = _noise(n_channels, n, seed=n_channels)
    steady = (biquad.PEAK, 900.0, 1.5, 6.0)
    state = biquad.prepare(n_channels, SR, *steady, smoothing_ms=5.0)  # 240-sample glide
    pad = 11
    blob = np.concatenate([np.full(pad, 7.0), state, np.full(5, 7.0)])
    planar = np.zeros((3, n_channels, n), np.float32)
    planar[1] = x
    # per block: steady, a change from sample ~600 that one near 700 interrupts mid-glide,
    # a change of type near 1500
    n_blocks = -(-n // block)
    params, changes, prev = [], {}, steady
    for p in range(n_blocks):
        s = p * block
        cur = (steady if s < 600 else (biquad.PEAK, 3000.0, 0.7, -9.0) if s < 700
               else (biquad.LOWSHELF, 200.0, 0.7, 4.0) if s < 1500
               else (biquad.HIGHPASS, 120.0, 0.9, 0.0))
        if cur != prev:
            changes[s] = cur
        prev = cur
        params.append(cur)
    kinds, freqs, qs, gains = np.array(params).T
    _process_views(blob, pad, pad + state.size, planar, 1, kinds.astype(np.int64), freqs, qs,
                   gains, block)
    y = planar[1]
    assert np.all(planar[0] == 0.0) and np.all(planar[2] == 0.0)
    assert np.all(blob[:pad] == 7.0) and np.all(blob[pad + state.size:] == 7.0)

    ref, z = _reference_glide(state, changes, x)
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-6)
    np.testing.assert_allclose(blob[pad + biquad.STATE_HEADER:pad + state.size], z.ravel(),
                               rtol=0, atol=1e-9)
    # before the first change the filter is time-invariant: lfilter it
    first = min(changes)
    b, a = biquad.coefficients(*steady, SR)
    np.testing.assert_allclose(y[:, :first], scipy.signal.lfilter(b, a, x[:, :first], axis=1),
                               rtol=0, atol=1e-6)
    last = max(changes) + 240  # the last glide is over: lfilter the rest from its state
    b, a = biquad.coefficients(*changes[max(changes)], SR)
    _, z_last = _reference_glide(state, changes, x[:, :last])  # lfilter's zi is (z1, z2)
    tail = scipy.signal.lfilter(b, a, x[:, last:], axis=1, zi=z_last)[0]
    np.testing.assert_allclose(y[:, last:], tail, rtol=0, atol=1e-6)
