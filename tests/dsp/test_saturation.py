import numba
import numpy as np
import pytest
import scipy.signal

from dsp import saturation

SR = 48000.0
F0 = 5000.0


def _alias_db(y):
    """Energy (dB) of every FFT bin that is not a harmonic of F0 (periodic, exact bins)."""
    spectrum = np.fft.rfft(y.astype(np.float64)) / len(y)
    f = np.fft.rfftfreq(len(y), 1 / SR)
    harmonic = np.abs(f - np.round(f / F0) * F0) < 1e-6
    return 10 * np.log10(np.sum(np.abs(spectrum[~harmonic]) ** 2))


def _alias_reduction_db(drive_db, oversampling):
    # 4800 samples = 500 periods of 5 kHz at 48 kHz; the first 480 cover the filter delay
    n = 4800 + 480
    x = np.sin(2 * np.pi * F0 * np.arange(n) / SR)[None].astype(np.float32)
    g = 10 ** (drive_db / 20)
    naive = np.tanh(g * x[0, -4800:].astype(np.float64)) / g
    y = np.empty_like(x)
    saturation.process(saturation.prepare(1, SR, drive_db, oversampling), drive_db, x, y)
    return _alias_db(naive) - _alias_db(y[0, -4800:])


@pytest.mark.parametrize("drive_db, oversampling, min_reduction_db", [
    (9.0, 2, 40.0),   # measured 45.7 dB
    (12.0, 2, 33.0),  # measured 33.7 dB: an ideal 2x brickwall gives 33.7 dB too (see report)
    (12.0, 4, 40.0),  # measured 61.2 dB
    (18.0, 4, 40.0),  # measured 55.1 dB
])
def test_oversampling_suppresses_aliasing(drive_db, oversampling, min_reduction_db):
    assert _alias_reduction_db(drive_db, oversampling) >= min_reduction_db


@pytest.mark.parametrize("oversampling", [2, 4])
def test_small_signals_pass_at_unity_gain_with_reported_latency(oversampling):
    state = saturation.prepare(1, SR, 12.0, oversampling)
    n = 4800
    x = (1e-4 * np.sin(2 * np.pi * 1000 * np.arange(n) / SR))[None].astype(np.float32)
    y = np.empty_like(x)
    saturation.process(state, 12.0, x, y)
    gain_db = 20 * np.log10(np.std(y[0, 2400:]) / np.std(x[0, 2400:]))
    assert gain_db == pytest.approx(0.0, abs=0.02)
    impulse = np.zeros((1, 256), np.float32)
    impulse[0, 0] = 1e-3
    saturation.reset(state)
    saturation.process(state, 12.0, impulse, y[:, :256])
    latency = saturation.latency_samples(state)
    assert latency == (79.0 if oversampling == 2 else 83.5)
    assert np.argmax(np.abs(y[0, :256])) == int(latency)


def test_heavy_drive_clips_softly_at_one_over_gain():
    x = np.sin(2 * np.pi * 100 * np.arange(4800) / SR)[None].astype(np.float32)
    y = np.empty_like(x)
    saturation.process(saturation.prepare(1, SR, 20.0), 20.0, x, y)
    assert np.max(np.abs(y[0, 480:])) == pytest.approx(0.1, rel=0.01)


@pytest.mark.parametrize("oversampling", [2, 4])
@pytest.mark.parametrize("block", [1, 7, 64, 128, 4096])
def test_block_size_invariance(block, oversampling):
    x = (0.5 * np.random.default_rng(5).standard_normal((2, 5000))).astype(np.float32)
    whole = np.empty_like(x)
    saturation.process(saturation.prepare(2, SR, 15.0, oversampling), 15.0, x, whole)
    state = saturation.prepare(2, SR, 15.0, oversampling)
    y = np.empty_like(x)
    for i in range(0, x.shape[1], block):
        xb = np.ascontiguousarray(x[:, i:i + block])
        yb = np.empty_like(xb)
        saturation.process(state, 15.0, xb, yb)
        y[:, i:i + block] = yb
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-6)


def _drive_step_response(smoothing_ms):
    x = np.full((1, 480), 0.01, np.float32)
    state = saturation.prepare(1, SR, 0.0, smoothing_ms=smoothing_ms)
    y = np.empty_like(x)
    saturation.process(state, 0.0, x, y)
    saturation.process(state, 40.0, x, y)
    return y[0]


def test_drive_change_glides():
    smooth, instant = _drive_step_response(5.0), _drive_step_response(0.0)
    # 0.01 into tanh(g x)/g falls from 0.01 to tanh(1)/100 either way, but gliding g over
    # 240 samples spreads the fall instead of stepping it
    assert smooth[-1] == pytest.approx(np.tanh(1.0) / 100, rel=3e-3)
    assert instant[-1] == pytest.approx(smooth[-1], rel=1e-6)
    assert np.all(np.diff(smooth[100:270]) < 0)
    assert np.max(np.abs(np.diff(smooth))) < 0.05 * np.max(np.abs(np.diff(instant)))


def test_process_does_not_allocate():
    x = np.zeros((2, 64), np.float32)
    fresh = numba.njit(saturation.process.py_func)
    fresh(saturation.prepare(2, SR, 6.0, 4), 6.0, x, x)
    ir = fresh.inspect_llvm(fresh.signatures[0])
    assert "tanh" in ir
    assert "NRT_MemInfo_alloc" not in ir
    # the kernels it calls, compiled afresh with the same options and argument types
    for helper in (saturation._even_branch, saturation._tanh_over_g, saturation._shift,
                   saturation._stage2):
        assert helper.signatures
        options = {k: v for k, v in helper.targetoptions.items()
                   if k not in ("nopython", "cache")}
        fresh_helper = numba.njit(**options)(helper.py_func)
        for sig in helper.signatures:
            fresh_helper.compile(sig)
            assert "NRT_MemInfo_alloc" not in fresh_helper.inspect_llvm(sig)


@pytest.mark.parametrize("n_taps, passband", [
    (saturation.STAGE1_TAPS, 23.0 / 96.0), (saturation.STAGE2_TAPS, 0.125),
])
def test_halfband_odd_taps_are_exactly_zero(n_taps, passband):
    h = saturation.halfband(n_taps, passband)
    centre = (n_taps - 1) // 2
    odd = np.delete(h[1::2], centre // 2)  # every odd tap except the centre one
    assert centre % 2 == 1 and h[centre] == 0.5
    assert np.all(odd == 0.0)
    assert np.all(h[0::2] != 0.0)
    np.testing.assert_array_equal(h, h[::-1])
    assert np.sum(h) == pytest.approx(1.0, abs=1e-3)


def _reference(x, drive_db, oversampling):
    """Zero-stuff and filter (upfirdn), np.tanh, filter and drop: the textbook signal path."""
    g = 10 ** (drive_db / 20)
    h1 = saturation.halfband(saturation.STAGE1_TAPS, 23.0 / 96.0)
    h2 = saturation.halfband(saturation.STAGE2_TAPS, 0.125)
    n = x.shape[1]
    y = np.empty((x.shape[0], n))
    for c, xc in enumerate(x.astype(np.float64)):
        u = scipy.signal.upfirdn(2 * h1, xc, up=2)[:2 * n]
        if oversampling == 4:
            u = scipy.signal.upfirdn(2 * h2, u, up=2)[:4 * n]
        w = np.tanh(g * u) / g
        if oversampling == 4:
            w = scipy.signal.upfirdn(h2, w, down=2)[:2 * n]
        y[c] = scipy.signal.upfirdn(h1, w, down=2)[:n]
    return y


@pytest.mark.parametrize("oversampling", [2, 4])
@pytest.mark.parametrize("drive_db", [0.0, 6.0, 18.0, 36.0])
def test_process_matches_upfirdn_reference(drive_db, oversampling):
    x = (0.5 * np.random.default_rng(11).standard_normal((2, 3000))).astype(np.float32)
    y = np.empty_like(x)
    saturation.process(saturation.prepare(2, SR, drive_db, oversampling), drive_db, x, y)
    np.testing.assert_allclose(y, _reference(x, drive_db, oversampling), rtol=0, atol=1e-5)


@numba.njit
def _process_views(state, big, y_big, n_blocks):
    for b in range(n_blocks):
        x = big[0:2, b * 128:(b + 1) * 128]  # non-contiguous 2-D views (layout 'A')
        y = y_big[3:5, b * 128:(b + 1) * 128]
        saturation.process(state, 6.0, x, y)


@pytest.mark.parametrize("oversampling", [2, 4])
def test_jitted_caller_with_strided_views(oversampling):
    big = (0.5 * np.random.default_rng(2).standard_normal((10, 1024))).astype(np.float32)
    y_big = np.zeros((10, 1024), np.float32)
    blob = np.concatenate([np.ones(7), saturation.prepare(2, SR, 6.0, oversampling)])
    _process_views(blob[7:], big, y_big, 8)  # a slice of a bigger state blob, too
    whole = np.empty((2, 1024), np.float32)
    saturation.process(saturation.prepare(2, SR, 6.0, oversampling), 6.0,
                       np.ascontiguousarray(big[0:2]), whole)
    np.testing.assert_array_equal(y_big[3:5], whole)
    assert np.all(blob[:7] == 1.0) and np.all(y_big[:3] == 0.0) and np.all(y_big[5:] == 0.0)
