"""Presets on an engine: all-or-nothing apply, capture round trip, two-preset morph."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.engine import Engine
from engine.modulation import MAX_ASSIGNMENTS
from engine.session.presets import (
    apply_preset,
    arm_two_preset_morph,
    capture,
    disarm_two_preset_morph,
    param_array,
)
from presets.factory_presets import load_factory
from presets.registry import CURVES, INDEX, MACROS, REGISTRY
from presets.schema import LfoRoute, MacroAssignment, Preset, PresetError, to_doc

SR = 48000
BLOCK = 128


def _engine() -> Engine:
    # The modulation stage is what presets drive; the DSP chain is not needed here.
    return Engine(SR, 2, 2, None, input_strip=False, master_bus=False)


def _run(e: Engine, seconds: float) -> None:
    x = np.zeros((BLOCK, 2), dtype=np.float32)
    y = np.zeros_like(x)
    for _ in range(max(1, int(seconds * SR / BLOCK))):
        e.process(x, y)


def _state(e: Engine) -> tuple[np.ndarray, ...]:
    m = e.modulation
    return (e.params.target.copy(), m.assignments.copy(), m.routes.copy(),
            m.morph_state.copy())


def _assert_unchanged(e: Engine, before: tuple[np.ndarray, ...]) -> None:
    for a, b in zip(_state(e), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_apply_sets_params_assignments_and_routes():
    e = _engine()
    e.modulation.assign_macro("user_4", "master_gain_db", -6.0, 0.0)  # replaced by the preset
    e.modulation.route_lfo(3, "stem_dry_gain_db", 0.5)
    preset = load_factory("Intense")
    apply_preset(e, preset)
    np.testing.assert_array_equal(e.params.target, param_array(preset))
    got = e.modulation.macro_assignments()
    assert [(a["macro"], a["target"], a["curve"]) for a in got] == [
        (f"macro_{m.macro}", m.target, m.curve) for m in preset.macros]
    for a, m in zip(got, preset.macros, strict=True):
        assert a["low"] == pytest.approx(m.low, rel=1e-12, abs=1e-12)
        assert a["high"] == pytest.approx(m.high, rel=1e-12, abs=1e-12)
    assert e.modulation.lfo_routes() == [
        {"lfo": r.lfo, "target": r.target, "amount": r.amount} for r in preset.lfo_routes]


def test_macros_drive_their_targets_after_apply():
    e = _engine()
    preset = load_factory("Balanced")
    preset.params["macro_energy"] = 1.0
    apply_preset(e, preset)
    _run(e, 0.01)
    energy = {m.target: m.high for m in preset.macros if m.macro == "energy"}
    for target, high in energy.items():
        assert e.effective[INDEX[target]] == pytest.approx(high), target


@pytest.mark.parametrize("breakage", [
    lambda p: p.params.__setitem__("master_gain_db", 40.0),
    lambda p: p.params.__setitem__("warp_factor", 1.0),
    lambda p: p.macros.append(MacroAssignment("energy", "comp_ratio", 1.0, 30.0)),
    lambda p: p.macros.append(MacroAssignment("vibe", "comp_ratio", 1.0, 2.0)),
    lambda p: p.lfo_routes.append(LfoRoute(7, "master_width", 0.5)),
    lambda p: p.lfo_routes.append(LfoRoute(1, "master_width", 2.0)),
    lambda p: p.macros.extend([MacroAssignment("energy", "master_width", 0.0, 1.0)]
                              * MAX_ASSIGNMENTS),
])
def test_an_invalid_preset_changes_nothing(breakage):
    e = _engine()
    apply_preset(e, load_factory("Calm"))
    before = _state(e)
    bad = load_factory("Chaotic")
    breakage(bad)
    with pytest.raises(PresetError):
        apply_preset(e, bad)
    _assert_unchanged(e, before)


def test_a_failure_while_applying_rolls_back(monkeypatch):
    e = _engine()
    apply_preset(e, load_factory("Calm"))
    before = _state(e)

    def fail(values, morph_ms=0.0):
        raise RuntimeError("engine went away")

    monkeypatch.setattr(e, "recall", fail)
    with pytest.raises(RuntimeError):
        apply_preset(e, load_factory("Chaotic"))
    _assert_unchanged(e, before)


def test_apply_with_morph_glides_then_settles():
    e = _engine()
    apply_preset(e, load_factory("Calm"))
    target = load_factory("Chaotic")
    apply_preset(e, target, morph_ms=50.0)
    # a capture during the glide already names the destination
    assert to_doc(capture(e, "x"))["params"] == to_doc(target)["params"]
    _run(e, 0.06)
    assert e.finish_recall()
    np.testing.assert_array_equal(e.params.target, param_array(target))


def test_capture_then_apply_on_a_fresh_engine_captures_the_same():
    e = _engine()
    apply_preset(e, load_factory("Chaotic"))
    e.params.set("master_gain_db", -7.5)
    e.modulation.assign_macro("user_3", "eq_mid_freq_hz", 321.0, 7654.3, "exp")
    e.modulation.assign_macro("texture", "comp_attack_ms", 0.3, 77.0, "log")
    e.modulation.route_lfo(2, "macro_user_3", -0.4)
    first = capture(e, "Snapshot", "taken live", midi={"mappings": []},
                    pattern_memory={"A": [[0.5, 1.5]]}, model="m1")
    fresh = _engine()
    apply_preset(fresh, first)
    second = capture(fresh, "Snapshot", "taken live", midi={"mappings": []},
                     pattern_memory={"A": [[0.5, 1.5]]}, model="m1")
    assert to_doc(second) == to_doc(first)
    assert first.params["master_gain_db"] == -7.5
    assert first.macros[-1] == MacroAssignment("texture", "comp_attack_ms", 0.3, 77.0, "log")


_ENGINES: list[Engine] = []


def _at(p, u: float) -> float:
    """The value a fraction ``u`` of the way through ``p``'s range (whole if discrete)."""
    value = p.min + (p.max - p.min) * u
    return float(round(value)) if p.discrete else value


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(MACROS),
                          st.sampled_from([p for p in REGISTRY if not p.id.startswith("macro_")]),
                          st.floats(0, 1), st.floats(0, 1), st.sampled_from(CURVES)),
                max_size=6))
def test_capture_apply_capture_is_exact_for_any_assignment(rows):
    if not _ENGINES:
        _ENGINES.extend([_engine(), _engine()])
    a, b = _ENGINES
    a.modulation.clear_macro()
    for macro, p, lo, hi, curve in rows:
        a.modulation.assign_macro(macro, p.id, _at(p, lo), _at(p, hi), curve)
    first = capture(a, "x")
    apply_preset(b, first)
    assert to_doc(capture(b, "x")) == to_doc(first)


def test_capture_refuses_a_bad_name():
    with pytest.raises(PresetError, match="contains '/'"):
        capture(_engine(), "a/b")


def _effective_except_morph(e: Engine) -> np.ndarray:
    keep = np.ones(e.effective.shape[0], dtype=bool)
    keep[INDEX["preset_morph"]] = False
    return e.effective[keep].copy(), keep


def test_two_preset_morph_reaches_each_preset_at_its_end():
    e = _engine()
    a, b = load_factory("Calm"), load_factory("Chaotic")
    arm_two_preset_morph(e, a, b)
    e.params.set("preset_morph", 0.0)
    _run(e, 0.01)
    got, keep = _effective_except_morph(e)
    np.testing.assert_allclose(got, param_array(a)[keep], rtol=1e-9, atol=1e-9)
    e.params.set("preset_morph", 1.0)
    _run(e, 0.01)
    got, keep = _effective_except_morph(e)
    np.testing.assert_allclose(got, param_array(b)[keep], rtol=1e-9, atol=1e-9)
    # halfway: a continuous parameter sits between, a discrete one has switched to b
    e.params.set("preset_morph", 0.5)
    _run(e, 0.01)
    ia, ib = param_array(a)[INDEX["input_gain_db"]], param_array(b)[INDEX["input_gain_db"]]
    assert min(ia, ib) < e.effective[INDEX["input_gain_db"]] < max(ia, ib)
    assert e.effective[INDEX["lfo1_shape"]] == b.params["lfo1_shape"]
    disarm_two_preset_morph(e)
    _run(e, 0.01)
    np.testing.assert_array_equal(e.effective, e.params.target)


def test_arming_with_an_invalid_preset_arms_nothing():
    e = _engine()
    bad = Preset(name="Bad", params={"master_width": 5.0})
    with pytest.raises(PresetError, match="master_width=5 is out of range"):
        arm_two_preset_morph(e, load_factory("Calm"), bad)
    assert e.modulation.morph_state[0] == 0.0


def test_arming_during_a_recall_glide_lands_the_glide_first():
    e = _engine()
    apply_preset(e, load_factory("Intense"), morph_ms=500.0)
    arm_two_preset_morph(e, load_factory("Calm"), load_factory("Balanced"))
    np.testing.assert_array_equal(e.params.target, param_array(load_factory("Intense")))
