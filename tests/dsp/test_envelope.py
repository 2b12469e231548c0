import numba
import numpy as np
import pytest

from dsp import envelope

SR = 48000.0


def _sine(n=int(0.5 * SR), amp=1.0):
    return (amp * np.sin(2 * np.pi * 1000 * np.arange(n) / SR))[None].astype(np.float32)


def test_peak_mode_reaches_sine_amplitude():
    x = _sine()
    env = np.empty_like(x)
    envelope.process(envelope.prepare(1, SR, envelope.PEAK), 0.0, 100.0, x, env)
    tail = env[0, -480:]
    assert tail.max() == pytest.approx(1.0, rel=1e-6)
    assert tail.min() == pytest.approx(1.0, rel=0.01)


def test_rms_mode_reaches_sine_rms():
    x = _sine()
    env = np.empty_like(x)
    envelope.process(envelope.prepare(1, SR, envelope.RMS), 50.0, 50.0, x, env)
    tail = env[0, -480:]
    assert tail.min() == pytest.approx(np.sqrt(0.5), rel=0.01)
    assert tail.max() == pytest.approx(np.sqrt(0.5), rel=0.01)


def test_attack_and_release_time_constants():
    x = np.concatenate([np.full(4800, 0.5), np.zeros(4800)])[None].astype(np.float32)
    env = np.empty_like(x)
    envelope.process(envelope.prepare(1, SR, envelope.PEAK), 5.0, 20.0, x, env)
    assert np.argmax(env[0] >= 0.5 * (1 - np.exp(-1))) == pytest.approx(240, abs=1)
    top = env[0, 4799]
    assert np.argmax(env[0, 4800:] <= top * np.exp(-1)) == pytest.approx(960, abs=1)


def test_channels_are_independent():
    x = np.concatenate([_sine(4800), _sine(4800, 0.25)])
    env = np.empty_like(x)
    envelope.process(envelope.prepare(2, SR, envelope.PEAK), 0.0, 100.0, x, env)
    assert env[0, -1] == pytest.approx(1.0, rel=0.01)
    assert env[1, -1] == pytest.approx(0.25, rel=0.01)


@pytest.mark.parametrize("mode", [envelope.PEAK, envelope.RMS])
@pytest.mark.parametrize("block", [1, 7, 64, 128, 4096])
def test_block_size_invariance(block, mode):
    x = (0.3 * np.random.default_rng(9).standard_normal((2, 5000))).astype(np.float32)
    whole = np.empty_like(x)
    envelope.process(envelope.prepare(2, SR, mode), 1.0, 30.0, x, whole)
    state = envelope.prepare(2, SR, mode)
    y = np.empty_like(x)
    for i in range(0, x.shape[1], block):
        xb = np.ascontiguousarray(x[:, i:i + block])
        yb = np.empty_like(xb)
        envelope.process(state, 1.0, 30.0, xb, yb)
        y[:, i:i + block] = yb
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-6)


def test_process_does_not_allocate():
    x = _sine(64)
    env = np.empty_like(x)
    fresh = numba.njit(envelope.process.py_func)
    fresh(envelope.prepare(1, SR), 1.0, 10.0, x, env)
    ir = fresh.inspect_llvm(fresh.signatures[0])
    assert "llvm.exp" in ir
    assert "NRT_MemInfo_alloc" not in ir


def test_reset_restores_fresh_behaviour():
    x = _sine(500)
    fresh, again = np.empty_like(x), np.empty_like(x)
    state = envelope.prepare(1, SR, envelope.RMS)
    envelope.process(state, 1.0, 10.0, x, fresh)
    envelope.reset(state)
    envelope.process(state, 1.0, 10.0, x, again)
    np.testing.assert_array_equal(fresh, again)
