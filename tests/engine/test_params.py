import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.engine import Engine
from engine.params import ParameterStore, advance, fader_gain, value_at
from presets.registry import INDEX, REGISTRY, SILENCE_DB, param

SR = 48000


def test_targets_are_validated_against_the_registry():
    store = ParameterStore(SR)
    with pytest.raises(ValueError, match=r"master_gain_db=50 is out of range \[-80, 12\] dB"):
        store.set("master_gain_db", 50)
    with pytest.raises(KeyError, match="unknown parameter 'nope'"):
        store.set("nope", 0)
    with pytest.raises(ValueError, match="out of range"):
        store.set("master_gain_db", float("nan"))


def test_a_full_range_jump_takes_exactly_the_smoothing_time():
    store = ParameterStore(SR)
    p = param("master_gain_db")
    store.target[INDEX[p.id]] = p.max
    store.current[INDEX[p.id]] = p.min
    n = int(p.smoothing_ms * 1e-3 * SR)
    advance(store.current, store.target, store.step, n - 1)
    assert store.get(p.id) < p.max
    advance(store.current, store.target, store.step, 1)
    assert store.get(p.id) == pytest.approx(p.max, abs=1e-9)


@given(st.lists(st.integers(1, 300), min_size=1, max_size=20))
def test_smoothing_does_not_depend_on_block_size(blocks):
    a = ParameterStore(SR)
    b = ParameterStore(SR)
    for s in (a, b):
        s.set("input_gain_db", 24.0)
    total = sum(blocks)
    for n in blocks:
        advance(a.current, a.target, a.step, n)
    advance(b.current, b.target, b.step, total)
    assert np.allclose(a.current, b.current, atol=1e-9)


def test_a_gain_jump_from_silence_to_unity_has_no_step_beyond_the_smoothing_limit():
    # DC in, dry fader from closed to 0 dB: the output is the gain curve itself.
    engine = Engine(SR, 1, 1, processor=None, input_strip=False, master_bus=False,
                    params={"stem_dry_gain_db": SILENCE_DB})
    engine.params.set("stem_dry_gain_db", 0.0)
    x = np.full((SR // 10, 1), 0.5, dtype=np.float32)
    y = np.zeros_like(x)
    for start in range(0, x.shape[0], 128):
        engine.process(x[start:start + 128], y[start:start + 128])
    gain = y[:, 0] / 0.5
    p = param("stem_dry_gain_db")
    step_db = (p.max - p.min) / (p.smoothing_ms * 1e-3 * SR)
    # d(gain)/d(dB) is largest at the top of the ramp (0 dB): ln(10)/20 per dB
    bound = math.log(10) / 20 * step_db * 1.0001
    assert gain[0] == 0.0
    assert gain[-1] == pytest.approx(1.0, abs=1e-6)
    assert np.abs(np.diff(gain)).max() <= bound
    # and the ramp does move: it is not a smoothing time of zero
    assert np.count_nonzero((gain > 0.01) & (gain < 0.99)) > 10


def test_value_at_is_a_slew_limit():
    cur = np.array([0.0])
    tgt = np.array([1.0])
    step = np.array([0.1])
    assert value_at(cur, tgt, step, 0, 3) == pytest.approx(0.3)
    assert value_at(cur, tgt, step, 0, 30) == 1.0


def test_fader_gain_closes_at_the_silence_floor():
    assert fader_gain(SILENCE_DB) == 0.0
    assert fader_gain(-6.0) == pytest.approx(10 ** (-6 / 20))


def test_registry_defaults_are_in_range_and_ids_unique():
    assert len({p.id for p in REGISTRY}) == len(REGISTRY)
    for p in REGISTRY:
        assert p.min <= p.default <= p.max


def test_a_new_target_is_heard_in_the_next_block_and_settles_within_the_smoothing_time():
    engine = Engine(SR, 1, 1, processor=None, input_strip=False, master_bus=False,
                    params={"master_gain_db": -20.0})
    x = np.full((128, 1), 0.5, dtype=np.float32)
    y = np.zeros_like(x)
    engine.process(x, y)
    before = y[-1, 0]
    engine.params.set("master_gain_db", 0.0)  # what a MIDI CC or a GUI knob does
    engine.process(x, y)
    assert y[1, 0] > before  # the next block already moves (from its second sample)
    smoothing = int(param("master_gain_db").smoothing_ms * 1e-3 * SR)
    for _ in range(smoothing // 128 + 1):
        engine.process(x, y)
    assert y[-1, 0] == pytest.approx(0.5, abs=1e-6)
