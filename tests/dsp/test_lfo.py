
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp import lfo

SR = 2000.0  # low rate keeps long periods cheap; the LFO only sees rate / sample rate


def render(state, n):
    out = np.zeros(n, dtype=np.float32)
    lfo.process(state, out)
    return out


@settings(max_examples=30, deadline=None)
@given(
    shape=st.integers(0, lfo.N_SHAPES - 1),
    rate_hz=st.floats(lfo.FREE_RATE_MIN_HZ, lfo.FREE_RATE_MAX_HZ),
    phase_deg=st.floats(-720.0, 720.0),
    seed=st.integers(0, 2**40),
)
def test_output_range(shape, rate_hz, phase_deg, seed):
    state = lfo.prepare(SR, rate_hz, shape, phase_deg, seed)
    out = render(state, 3000)
    assert np.all(out >= -1.0) and np.all(out <= 1.0)
    v = lfo.process_block(state, 64)
    assert -1.0 <= v <= 1.0
    assert 0.0 <= lfo.to_unipolar(v) <= 1.0


@settings(max_examples=25, deadline=None)
@given(rate_hz=st.floats(lfo.FREE_RATE_MIN_HZ, lfo.FREE_RATE_MAX_HZ))
def test_period_equals_inverse_rate(rate_hz):
    state = lfo.prepare(SR, rate_hz, lfo.SINE)
    n_periods = 3
    out = render(state, int(SR / rate_hz * n_periods) + 10).astype(np.float64)
    # Upward zero crossings, located by linear interpolation.
    idx = np.nonzero((out[:-1] < 0.0) & (out[1:] >= 0.0))[0]
    crossings = idx + (-out[idx]) / (out[idx + 1] - out[idx])
    assert len(crossings) >= n_periods - 1
    period = np.mean(np.diff(crossings))
    assert period == pytest.approx(SR / rate_hz, rel=1e-3)


@settings(max_examples=20, deadline=None)
@given(rate_hz=st.floats(lfo.FREE_RATE_MIN_HZ, lfo.FREE_RATE_MAX_HZ), block=st.integers(1, 500))
def test_block_rate_advances_like_audio_rate(rate_hz, block):
    a = lfo.prepare(SR, rate_hz, lfo.TRIANGLE, 30.0)
    b = lfo.prepare(SR, rate_hz, lfo.TRIANGLE, 30.0)
    ref = render(b, block * 5)
    values = [lfo.process_block(a, block) for _ in range(5)]
    np.testing.assert_allclose(values, ref[::block], atol=1e-6)


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        (lfo.SINE, [0.0, 1.0, 0.0, -1.0]),
        (lfo.TRIANGLE, [0.0, 1.0, 0.0, -1.0]),
        (lfo.SQUARE, [1.0, 1.0, -1.0, -1.0]),
        (lfo.SAW, [-1.0, -0.5, 0.0, 0.5]),
    ],
)
def test_shapes_at_known_phases(shape, expected):
    # 1 Hz at 2000 Hz: samples 0, 500, 1000, 1500 are phases 0, 1/4, 1/2, 3/4.
    out = render(lfo.prepare(SR, 1.0, shape), 2000)
    np.testing.assert_allclose(out[[0, 500, 1000, 1500]], expected, atol=1e-6)


def test_phase_offset_and_retrigger():
    state = lfo.prepare(SR, 1.0, lfo.SINE, phase_deg=90.0)
    out = render(state, 700)
    assert out[0] == pytest.approx(1.0, abs=1e-6)  # cos start
    lfo.retrigger(state)
    assert lfo.value_at(state) == pytest.approx(1.0, abs=1e-6)
    lfo.set_phase_offset(state, 0.0)  # moves the running phase back by 90 degrees
    assert lfo.value_at(state) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("bpm", "division", "kwargs", "hz"),
    [
        (120.0, "1/4", {}, 2.0),
        (120.0, 0.25, {}, 2.0),
        (120.0, "1/8", {}, 4.0),
        (120.0, "1/4.", {}, 2.0 / 1.5),
        (120.0, "1/4d", {}, 2.0 / 1.5),
        (120.0, 0.25, {"dotted": True}, 2.0 / 1.5),
        (120.0, "1/8t", {}, 6.0),
        (120.0, 0.125, {"triplet": True}, 6.0),
        (90.0, "1/1", {}, 90.0 / 240.0),
        (128.0, 2.0, {}, 128.0 / 480.0),
    ],
)
def test_tempo_sync_conversion(bpm, division, kwargs, hz):
    assert lfo.tempo_sync_hz(bpm, division, **kwargs) == pytest.approx(hz)


def test_tempo_synced_period():
    rate = lfo.tempo_sync_hz(150.0, "1/8")  # 5 Hz
    out = render(lfo.prepare(48000.0, rate, lfo.SAW), 48000)
    wraps = np.nonzero(np.diff(out) < -1.0)[0]
    assert len(wraps) >= 4
    assert np.all(np.abs(np.diff(wraps) - 48000.0 / rate) <= 1)


@pytest.mark.parametrize("shape", [lfo.SAMPLE_AND_HOLD, lfo.SMOOTH_RANDOM])
def test_random_is_deterministic_and_seeded(shape):
    a = render(lfo.prepare(SR, 8.0, shape, seed=42), 4000)
    b = render(lfo.prepare(SR, 8.0, shape, seed=42), 4000)
    c = render(lfo.prepare(SR, 8.0, shape, seed=43), 4000)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    state = lfo.prepare(SR, 8.0, shape, seed=42)
    render(state, 1234)
    lfo.reset(state)
    np.testing.assert_array_equal(render(state, 4000), a)


def test_random_shapes_behave():
    sh = render(lfo.prepare(SR, 4.0, lfo.SAMPLE_AND_HOLD, seed=3), 20000)
    steps = np.nonzero(np.diff(sh))[0]
    assert len(steps) >= 35  # about one new value per cycle (40 cycles)
    assert np.all(np.abs(np.diff(steps) - 500) <= 1)
    values = sh[steps + 1]
    assert values.std() > 0.4  # uniform on [-1, 1] has std 0.577
    smooth = render(lfo.prepare(SR, 4.0, lfo.SMOOTH_RANDOM, seed=3), 20000)
    assert np.max(np.abs(np.diff(smooth))) < 0.02  # continuous glide, no jumps


@pytest.mark.parametrize("shape", range(lfo.N_SHAPES))
def test_block_size_invariance(shape):
    n = 6000
    whole = render(lfo.prepare(SR, 7.3, shape, 45.0, seed=9), n)
    for block in (1, 7, 64, 128, 4096):
        state = lfo.prepare(SR, 7.3, shape, 45.0, seed=9)
        out = np.zeros(n, dtype=np.float32)
        for i in range(0, n, block):
            lfo.process(state, out[i : i + block])
        np.testing.assert_array_equal(out, whole)


def test_no_allocation_in_process(assert_no_nrt_alloc):
    state = lfo.prepare(SR)
    assert_no_nrt_alloc(lfo.process, state, np.zeros(8, dtype=np.float32))
    assert_no_nrt_alloc(lfo.process_block, state, 8)
    assert_no_nrt_alloc(lfo.reset, state)
    assert_no_nrt_alloc(lfo.retrigger, state)
    assert_no_nrt_alloc(lfo.set_rate, state, 3.0)
