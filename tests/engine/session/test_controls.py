"""The one control path: the console, the window and MIDI reach the engine the same way."""

from __future__ import annotations

import numpy as np
import pytest

from engine.session.console import Console
from engine.session.controls import Controls
from engine.session.presets import param_array
from engine.session.setup import build_engine
from gui.controller import Controller
from midi.dispatcher import MidiDispatcher
from midi.mapping import Mapping, MappingTable
from presets.factory_presets import load_factory
from presets.registry import INDEX

SR = 48000
CC = 21


def _controls() -> Controls:
    controls = Controls(build_engine(SR, 2, 2, None))
    controls.assign_macro("energy", "master_width", 0.5, 1.5)
    controls.assign_macro("energy", "comp_ratio", 1.0, 4.0)
    return controls


def _run(controls: Controls) -> None:
    x = np.zeros((256, 2), np.float32)
    controls.engine.process(x, np.zeros_like(x))


def _by_console(controls: Controls) -> None:
    assert Console(controls).handle("set master_width 2") == \
        "master_width = 2 x (its macro assignment removed)"


def _by_window(controls: Controls) -> None:
    assert Controller(controls).set_value("master_width", 2.0) == \
        "master_width = 2 x (its macro assignment removed)"


def _by_midi(controls: Controls) -> None:
    dispatcher = MidiDispatcher(controls, MappingTable([Mapping("master_width", "cc", CC)]))
    assert dispatcher.handle([0xB0, CC, 127]) == 1  # the top of the CC's travel: 2.0


@pytest.mark.parametrize("writer", [_by_console, _by_window, _by_midi])
def test_a_value_set_on_a_macro_driven_parameter_releases_the_macro(writer):
    controls = _controls()
    controls.set("macro_energy", 1.0)
    writer(controls)
    _run(controls)
    engine = controls.engine
    assert engine.params.target[INDEX["master_width"]] == 2.0
    assert engine.effective[INDEX["master_width"]] == 2.0  # the macro no longer overrides it
    # the macro still drives its other target
    assert [a["target"] for a in engine.modulation.macro_assignments()] == ["comp_ratio"]
    assert engine.effective[INDEX["comp_ratio"]] == pytest.approx(4.0)


def test_the_three_writers_leave_the_same_state():
    states = []
    for writer in (_by_console, _by_window, _by_midi):
        controls = _controls()
        writer(controls)
        _run(controls)
        e = controls.engine
        states.append((e.params.target.copy(), e.effective.copy(), e.modulation.assignments.copy()))
    for target, effective, assignments in states[1:]:
        np.testing.assert_array_equal(target, states[0][0])
        np.testing.assert_array_equal(effective, states[0][1])
        np.testing.assert_array_equal(assignments, states[0][2])


def test_preset_morph_moves_every_parameter_between_two_armed_presets():
    controls = Controls(build_engine(SR, 2, 2, None))
    console = Console(controls)
    assert console.handle("preset morph Calm Intense") == \
        "preset_morph now morphs Calm (0) to Intense (1)"
    calm, intense = param_array(load_factory("Calm")), param_array(load_factory("Intense"))
    keep = np.arange(len(calm)) != INDEX["preset_morph"]
    for position, expected in ((0.0, calm), (1.0, intense)):
        console.handle(f"set preset_morph {position}")
        _run(controls)
        np.testing.assert_allclose(controls.engine.effective[keep], expected[keep], rtol=1e-9,
                                   atol=1e-9)
    console.handle("set preset_morph 0.5")
    _run(controls)
    gain = controls.engine.effective[INDEX["input_gain_db"]]
    lo, hi = sorted((calm[INDEX["input_gain_db"]], intense[INDEX["input_gain_db"]]))
    assert lo < gain < hi
    assert console.handle("preset morph off") == "preset morph off"
    _run(controls)
    np.testing.assert_array_equal(controls.engine.effective[keep],
                                  controls.engine.params.target[keep])
    assert console.handle("preset morph Calm Nope").startswith("error: unknown preset 'Nope'")
    assert console.handle("preset morph").startswith("error: usage: preset load")


def test_program_change_and_notes_go_through_the_controls():
    controls = Controls(build_engine(SR, 2, 2, None), morph_ms=0.0)
    hits = []
    controls.engine.trigger_drum = lambda voice, velocity: hits.append((voice, velocity))
    dispatcher = MidiDispatcher(controls, on_program=controls.program_change,
                                on_note=controls.note)
    dispatcher.handle([0xC0, 2])  # program 3: the third factory preset
    np.testing.assert_array_equal(controls.engine.params.target,
                                  param_array(load_factory("Intense")))
    assert controls.preset_name == "Intense"
    dispatcher.handle([0x99, 36, 127])  # GM kick on channel 10
    assert hits == [(0, 1.0)]
