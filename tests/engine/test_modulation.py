import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.engine import Engine
from presets.registry import INDEX, SYNC_DIVISIONS, param

SR = 48000
BLOCK = 128


def _engine(**params) -> Engine:
    return Engine(SR, 2, 2, None, input_strip=False, master_bus=False, params=params)


def _trace(e: Engine, target: str, seconds: float) -> np.ndarray:
    """The effective target of ``target`` after every block of silence."""
    x = np.zeros((BLOCK, 2), dtype=np.float32)
    y = np.zeros_like(x)
    out = []
    for _ in range(int(seconds * SR / BLOCK)):
        e.process(x, y)
        out.append(e.effective[INDEX[target]])
    return np.array(out)


def test_a_macro_drives_its_target_between_low_and_high():
    e = _engine(macro_energy=0.0)
    e.modulation.assign_macro("energy", "input_gain_db", -6.0, 6.0)
    assert _trace(e, "input_gain_db", 0.01)[-1] == pytest.approx(-6.0)
    e.params.set("macro_energy", 1.0)
    assert _trace(e, "input_gain_db", 0.01)[-1] == pytest.approx(6.0)
    e.params.set("macro_energy", 0.25)
    assert _trace(e, "input_gain_db", 0.01)[-1] == pytest.approx(-3.0)


def test_a_macro_on_a_log_parameter_moves_geometrically():
    e = _engine(macro_texture=0.5)
    e.modulation.assign_macro("texture", "eq_mid_freq_hz", 500.0, 5000.0)
    assert _trace(e, "eq_mid_freq_hz", 0.01)[-1] == pytest.approx(np.sqrt(500 * 5000), rel=1e-9)


def test_macro_curve_shapes_the_sweep():
    e = _engine(macro_chaos=0.5)
    e.modulation.assign_macro("chaos", "master_width", 0.0, 2.0, curve="exp")
    assert _trace(e, "master_width", 0.01)[-1] == pytest.approx(0.5)  # 2 * 0.5**2


def test_lfo_moves_its_target_around_the_base_with_the_rate_as_period():
    e = _engine(lfo1_depth=0.5, lfo1_rate_hz=2.0, master_width=1.0)
    e.modulation.route_lfo(1, "master_width", 1.0)
    w = _trace(e, "master_width", 2.0)
    # depth 0.5 of the full 0..2 range around 1.0
    assert w.max() == pytest.approx(2.0, abs=0.01)
    assert w.min() == pytest.approx(0.0, abs=0.01)
    spectrum = np.abs(np.fft.rfft(w - w.mean()))
    freq_hz = np.argmax(spectrum) / (w.size * BLOCK / SR)
    assert freq_hz == pytest.approx(2.0, abs=0.5 / 2.0)


def test_modulators_add_and_are_clamped_to_the_range():
    e = _engine(lfo1_depth=1.0, lfo2_depth=1.0, lfo1_rate_hz=0.5, lfo2_rate_hz=0.5,
                lfo1_shape=2, lfo2_shape=2)  # squares in phase: both at +1 first
    e.modulation.route_lfo(1, "stem_worker_pan", 1.0)
    e.modulation.route_lfo(2, "stem_worker_pan", 1.0)
    pan = _trace(e, "stem_worker_pan", 2.0)
    assert pan.max() == 1.0 and pan.min() == -1.0
    p = param("stem_worker_pan")
    assert np.all((pan >= p.min) & (pan <= p.max))


def test_tempo_sync_sets_the_period_from_the_tempo():
    quarter = [label for label, _, _ in SYNC_DIVISIONS].index("1/4")
    e = _engine(tempo_bpm=120.0, lfo1_sync=quarter, lfo1_depth=1.0, lfo1_shape=3)  # saw
    e.modulation.route_lfo(1, "master_width", 1.0)
    w = _trace(e, "master_width", 2.0)
    # a saw wraps once a cycle: 120 BPM quarter notes are 2 Hz, so 4 wraps in 2 s
    wraps = np.count_nonzero(np.diff(w) < -0.5)
    assert wraps in (3, 4)


def test_retrigger_restarts_the_cycle():
    e = _engine(lfo1_depth=1.0, lfo1_rate_hz=0.3, lfo1_shape=3)
    e.modulation.route_lfo(1, "master_width", 1.0)
    before = _trace(e, "master_width", 1.0)[-1]
    e.modulation.retrigger(1)
    after = _trace(e, "master_width", BLOCK / SR)[-1]
    assert after < before  # back near the start of the saw


def test_an_lfo_can_move_a_macro_which_moves_its_targets():
    e = _engine(macro_user_1=0.5, lfo1_depth=1.0, lfo1_rate_hz=1.0)
    e.modulation.assign_macro("user_1", "input_gain_db", -12.0, 0.0)
    e.modulation.route_lfo(1, "macro_user_1", 0.5)
    g = _trace(e, "input_gain_db", 2.0)
    assert g.max() == pytest.approx(0.0, abs=0.05)
    assert g.min() == pytest.approx(-12.0, abs=0.05)


def test_discrete_targets_stay_whole():
    e = _engine(lfo1_depth=1.0)
    e.modulation.route_lfo(1, "lfo2_shape", 1.0)
    shapes = _trace(e, "lfo2_shape", 1.0)
    assert np.array_equal(shapes, np.round(shapes))


def test_routing_api_validates_and_round_trips():
    e = _engine()
    with pytest.raises(ValueError, match="LFO 9 does not exist"):
        e.modulation.route_lfo(9, "master_width")
    with pytest.raises(KeyError, match="unknown parameter"):
        e.modulation.assign_macro("energy", "nope", 0, 1)
    with pytest.raises(ValueError, match="out of range"):
        e.modulation.assign_macro("energy", "master_width", 0, 5)
    e.modulation.assign_macro("energy", "comp_ratio", 1.5, 6.0, "log")
    assert e.modulation.macro_assignments() == [
        {"macro": "macro_energy", "target": "comp_ratio", "low": pytest.approx(1.5),
         "high": pytest.approx(6.0), "curve": "log"}]
    assert e.modulation.clear_macro("energy") == 1
    assert e.modulation.macro_assignments() == []


@settings(max_examples=30, deadline=None)
@given(amounts=st.lists(st.floats(-1, 1), min_size=1, max_size=4),
       depth=st.floats(0, 1), base=st.floats(0, 2))
def test_modulated_values_never_leave_the_range(amounts, depth, base):
    e = _engine(lfo1_depth=depth, lfo1_rate_hz=7.0, lfo1_shape=4, master_width=base)
    for a in amounts:
        e.modulation.route_lfo(1, "master_width", a)
    w = _trace(e, "master_width", 0.3)
    assert np.all((w >= 0.0) & (w <= 2.0))


def test_recall_with_morph_glides_continuous_and_switches_discrete_at_midpoint():
    e = _engine(master_width=0.0, lfo1_shape=0)
    e.recall({"master_width": 2.0, "lfo1_shape": 3}, morph_ms=100.0)
    w = _trace(e, "master_width", 0.12)
    assert w[0] < 0.1 and w[-1] == pytest.approx(2.0)
    assert np.all(np.diff(w) >= -1e-12)  # monotonic glide
    mid = np.searchsorted(w, 1.0)
    assert 15 <= mid <= 22  # 100 ms is 37.5 blocks; halfway near block 19
    assert e.effective[INDEX["lfo1_shape"]] == 3
    assert e.finish_recall()
    assert e.params.target[INDEX["master_width"]] == 2.0


def test_two_preset_morph_follows_the_control():
    e = _engine()
    a = e.params.target.copy()
    b = a.copy()
    b[INDEX["input_gain_db"]] = 12.0
    e.modulation.arm_morph(a, b)
    e.params.set("preset_morph", 0.5)
    assert _trace(e, "input_gain_db", 0.01)[-1] == pytest.approx(6.0)
    e.params.set("preset_morph", 1.0)
    assert _trace(e, "input_gain_db", 0.01)[-1] == pytest.approx(12.0)


def test_a_bad_recall_changes_nothing():
    e = _engine(master_width=0.5)
    before = e.params.target.copy()
    with pytest.raises(ValueError, match="out of range"):
        e.recall({"master_width": 1.5, "input_gain_db": 99.0})
    assert np.array_equal(e.params.target, before)
