import numba
import numpy as np
import pytest

from dsp import compressor

SR = 48000.0


def _db(v):
    return 20 * np.log10(v)


def _theory_gr(level_db, threshold_db, ratio, knee_db):
    """Giannoulis et al. 2012, eq. 4, as gain reduction (dB)."""
    over = level_db - threshold_db
    if 2 * over < -knee_db:
        out = level_db
    elif 2 * abs(over) <= knee_db:
        out = level_db + (1 / ratio - 1) * (over + knee_db / 2) ** 2 / (2 * knee_db)
    else:
        out = threshold_db + over / ratio
    return level_db - out


def _dc(level_db, n, channels=1):
    return np.full((channels, n), 10 ** (level_db / 20), np.float32)


@pytest.mark.parametrize("level_db", [-40.0, -26.0, -22.0, -20.0, -18.5, -10.0, 0.0])
def test_static_curve_with_soft_knee(level_db):
    x = _dc(level_db, 4800)
    y = np.empty_like(x)
    state = compressor.prepare(SR)
    compressor.process(state, -20.0, 4.0, 6.0, 1.0, 10.0, 0.0, x, y)
    expected = _theory_gr(level_db, -20.0, 4.0, 6.0)
    assert _db(x[0, -1] / y[0, -1]) == pytest.approx(expected, abs=0.01)
    assert state[compressor.GR_DB] == pytest.approx(expected, abs=0.01)


def test_sine_ten_db_over_threshold_ratio_4():
    t = np.arange(int(0.5 * SR)) / SR
    x = (10 ** (-10 / 20) * np.sin(2 * np.pi * 1000 * t))[None].astype(np.float32)
    y = np.empty_like(x)
    compressor.process(compressor.prepare(SR), -20.0, 4.0, 0.0, 0.1, 500.0, 0.0, x, y)
    tail = slice(x.shape[1] // 2, None)
    gr = _db(np.max(np.abs(x[0, tail])) / np.max(np.abs(y[0, tail])))
    assert gr == pytest.approx(7.5, abs=0.2)


def test_attack_and_release_time_constants():
    attack_ms, release_ms = 10.0, 50.0
    x = np.concatenate([_dc(0.0, int(0.2 * SR)), _dc(-40.0, int(0.4 * SR))], axis=1)
    y = np.empty_like(x)
    compressor.process(compressor.prepare(SR), -20.0, 10.0, 0.0, attack_ms, release_ms, 0.0,
                       x, y)
    gr = _db(x[0] / y[0])
    full = _theory_gr(0.0, -20.0, 10.0, 0.0)  # 18 dB
    n_attack = np.argmax(gr >= (1 - np.exp(-1)) * full)
    assert n_attack == pytest.approx(attack_ms * 1e-3 * SR, abs=1.0)
    start = int(0.2 * SR)
    assert gr[start - 1] == pytest.approx(full, abs=1e-3)
    n_release = np.argmax(gr[start:] <= np.exp(-1) * gr[start - 1])
    assert n_release == pytest.approx(release_ms * 1e-3 * SR, abs=1.0)


def test_gain_reduction_meter():
    x = np.concatenate([_dc(-5.0, 4800), _dc(-15.0, 4800)], axis=1)
    y = np.empty_like(x)
    state = compressor.prepare(SR)
    compressor.process(state, -20.0, 4.0, 0.0, 1.0, 5.0, 0.0, x, y)
    gr = _db(x[0] / y[0])
    assert state[compressor.GR_DB] == pytest.approx(gr[-1], abs=1e-4)
    assert state[compressor.GR_DB] == pytest.approx(3.75, abs=0.01)
    assert state[compressor.GR_MAX_DB] == pytest.approx(gr.max(), abs=1e-4)
    assert state[compressor.GR_MAX_DB] == pytest.approx(11.25, abs=0.01)
    compressor.reset_meter(state)
    assert state[compressor.GR_MAX_DB] == state[compressor.GR_DB]
    compressor.reset(state)
    assert state[compressor.GR_DB] == 0.0 and state[compressor.GR_MAX_DB] == 0.0


def test_sidechain_drives_the_gain():
    n = 4800
    t = np.arange(n) / SR
    x = (0.01 * np.sin(2 * np.pi * 440 * t))[None].astype(np.float32)  # -40 dB: never compressed
    y = np.empty_like(x)
    loud = _dc(0.0, n, channels=2)
    state = compressor.prepare(SR)
    compressor.process_sidechain(state, -20.0, 4.0, 0.0, 1.0, 20.0, 0.0, x, loud, y)
    np.testing.assert_allclose(y[0, -480:], x[0, -480:] * 10 ** (-15 / 20), rtol=1e-4)
    compressor.reset(state)
    compressor.process_sidechain(state, -20.0, 4.0, 0.0, 1.0, 20.0, 0.0, x, 0 * loud, y)
    np.testing.assert_array_equal(y, x)


def test_stereo_link_modes():
    x = np.zeros((2, 4800), np.float32)
    x[0] = 1.0  # 0 dB on the left, silence on the right
    for link, level_db in ((compressor.LINK_MAX, 0.0), (compressor.LINK_MEAN, _db(0.5))):
        state = compressor.prepare(SR, link=link)
        y = np.empty_like(x)
        compressor.process(state, -20.0, 4.0, 0.0, 1.0, 20.0, 0.0, x, y)
        assert state[compressor.GR_DB] == pytest.approx(_theory_gr(level_db, -20, 4, 0), abs=1e-3)


def test_makeup_gain_glides_to_target():
    x = _dc(-40.0, 4800)
    y = np.empty_like(x)
    state = compressor.prepare(SR, makeup_db=0.0, smoothing_ms=5.0)
    compressor.process(state, -20.0, 4.0, 0.0, 1.0, 20.0, 6.0, x, y)
    ratio = y[0] / x[0]
    assert 1.0 < ratio[0] < ratio[100] < ratio[200] < 10 ** (6 / 20) - 1e-3
    np.testing.assert_allclose(ratio[240:], 10 ** (6 / 20), rtol=1e-6)


@pytest.mark.parametrize("block", [1, 7, 64, 128, 4096])
def test_block_size_invariance(block):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((2, 5000)) * np.linspace(0.01, 1, 5000)).astype(np.float32)
    args = (-24.0, 3.0, 6.0, 2.0, 40.0, 3.0)
    whole = np.empty_like(x)
    compressor.process(compressor.prepare(SR), *args, x, whole)
    state = compressor.prepare(SR)
    y = np.empty_like(x)
    for i in range(0, x.shape[1], block):
        xb = np.ascontiguousarray(x[:, i:i + block])
        yb = np.empty_like(xb)
        compressor.process(state, *args, xb, yb)
        y[:, i:i + block] = yb
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-6)


def test_process_does_not_allocate():
    x = _dc(-10.0, 64, channels=2)
    fresh = numba.njit(compressor.process.py_func)
    fresh(compressor.prepare(SR), -20.0, 4.0, 6.0, 1.0, 20.0, 0.0, x, x)
    ir = fresh.inspect_llvm(fresh.signatures[0])
    assert "log10" in ir
    assert "NRT_MemInfo_alloc" not in ir
