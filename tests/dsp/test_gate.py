import numba
import numpy as np
import pytest

from dsp import gate

SR = 48000.0


def _dc(level_db, n):
    return np.full((1, n), 10 ** (level_db / 20), np.float32)


def _att_db(x, y):
    return 20 * np.log10(x[0] / y[0])


@pytest.mark.parametrize("range_db", [20.0, 40.0, 80.0])
def test_attenuation_below_threshold_is_range(range_db):
    x = _dc(-60.0, 4800)
    y = np.empty_like(x)
    state = gate.prepare(SR)
    gate.process(state, -30.0, 1000.0, range_db, 1.0, 0.0, 5.0, x, y)
    assert _att_db(x, y)[-1] == pytest.approx(range_db, abs=0.01)
    assert state[gate.ATTENUATION_DB] == pytest.approx(range_db, abs=0.01)


def test_expansion_ratio_and_unity_above_threshold():
    for level_db, expected in ((-40.0, 10.0), (-35.0, 5.0), (-30.0, 0.0), (-10.0, 0.0)):
        x = _dc(level_db, 4800)
        y = np.empty_like(x)
        gate.process(gate.prepare(SR), -30.0, 2.0, 80.0, 1.0, 0.0, 5.0, x, y)
        assert _att_db(x, y)[-1] == pytest.approx(expected, abs=0.01)


def test_attack_hold_release():
    hold_ms, release_ms, attack_ms = 20.0, 10.0, 2.0
    n_loud, n_quiet = 4800, 9600
    x = np.concatenate([_dc(-60.0, 4800), _dc(-10.0, n_loud), _dc(-60.0, n_quiet)], axis=1)
    y = np.empty_like(x)
    gate.process(gate.prepare(SR), -30.0, 1000.0, 40.0, attack_ms, hold_ms, release_ms, x, y)
    att = _att_db(x, y)
    # opening: 1 - 1/e of the 40 dB swing after attack_ms
    n_open = np.argmax(att[4800:] <= 40.0 * np.exp(-1))
    assert n_open == pytest.approx(attack_ms * 1e-3 * SR, abs=1.0)
    # held fully open for hold_ms after the signal drops, then released
    drop = 4800 + n_loud
    hold_n = int(hold_ms * 1e-3 * SR)
    assert np.all(att[drop:drop + hold_n] < 1e-3)
    n_close = np.argmax(att[drop + hold_n:] >= 40.0 * (1 - np.exp(-1)))
    assert n_close == pytest.approx(release_ms * 1e-3 * SR, abs=1.5)


def test_sidechain_keys_the_gate():
    x = _dc(-10.0, 4800)
    y = np.empty_like(x)
    key = np.zeros((2, 4800), np.float32)
    gate.process_sidechain(gate.prepare(SR), -30.0, 1000.0, 30.0, 1.0, 0.0, 5.0, x, key, y)
    assert _att_db(x, y)[-1] == pytest.approx(30.0, abs=0.01)


@pytest.mark.parametrize("block", [1, 7, 64, 128, 4096])
def test_block_size_invariance(block):
    rng = np.random.default_rng(4)
    env = np.where((np.arange(5000) // 700) % 2, 0.5, 0.001)
    x = (rng.standard_normal((2, 5000)) * env).astype(np.float32)
    args = (-30.0, 4.0, 50.0, 1.0, 3.0, 20.0)
    whole = np.empty_like(x)
    gate.process(gate.prepare(SR), *args, x, whole)
    state = gate.prepare(SR)
    y = np.empty_like(x)
    for i in range(0, x.shape[1], block):
        xb = np.ascontiguousarray(x[:, i:i + block])
        yb = np.empty_like(xb)
        gate.process(state, *args, xb, yb)
        y[:, i:i + block] = yb
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-6)


def test_process_does_not_allocate():
    x = _dc(-10.0, 64)
    fresh = numba.njit(gate.process.py_func)
    fresh(gate.prepare(SR), -30.0, 4.0, 40.0, 1.0, 5.0, 20.0, x, x)
    ir = fresh.inspect_llvm(fresh.signatures[0])
    assert "log10" in ir
    assert "NRT_MemInfo_alloc" not in ir
