"""gui.controller: what the widgets do to an engine, without a window."""

from __future__ import annotations

import math

import pytest

from engine.inserts import make_insert
from engine.session.controls import Controls
from engine.session.setup import build_engine
from gui.controller import Controller, describe_mapping
from midi.dispatcher import MidiDispatcher
from midi.learn import Learner
from midi.mapping import Mapping, MappingTable
from presets.factory_presets import factory_params
from presets.registry import from_normalized, param

SR = 48000


@pytest.fixture
def ctl() -> Controller:
    engine = build_engine(SR, 2, 2, make_insert("passthrough", SR, None, "auto"))
    return Controller(Controls(engine, "passthrough"))


def _midi(ctl: Controller, tmp_path) -> MidiDispatcher:
    table = MappingTable()
    controls = ctl.controls
    controls.dispatcher = MidiDispatcher(controls, table, learner=Learner(table))
    controls.map_path = tmp_path / "map.json"
    return controls.dispatcher


def test_positions_follow_the_parameter_curve(ctl):
    assert ctl.set_position("input_hpf_hz", 0.5).startswith("input_hpf_hz = ")
    # a log curve: half way is the geometric mean of 10 and 500 Hz
    assert ctl.target("input_hpf_hz") == pytest.approx(math.sqrt(10.0 * 500.0))
    assert ctl.position("input_hpf_hz") == pytest.approx(0.5)
    ctl.set_position("lfo1_shape", 0.61)  # discrete: rounded to a whole position
    assert ctl.target("lfo1_shape") == from_normalized(param("lfo1_shape"), 0.61) == 3.0


def test_a_move_frees_the_parameter_from_its_macro(ctl):
    assert ctl.assign_macro("energy", "master_width", 0.5, 1.5) == \
        "energy -> master_width (0.5 .. 1.5)"
    assert ctl.modulation_rows() == ["energy -> master_width  0.5 .. 1.5"]
    answer = ctl.set_value("master_width", 1.2)
    assert answer.endswith("(its macro assignment removed)")
    assert ctl.modulation_rows() == []
    assert ctl.target("master_width") == 1.2


def test_bad_values_are_answers_not_exceptions(ctl):
    assert ctl.set_value("master_width", 7.0).startswith("error: master_width=7 is out of range")
    assert ctl.assign_macro("energy", "nope", 0, 1).startswith("error: unknown parameter")
    assert ctl.route_lfo(9, "master_width", 0.5).startswith("error: LFO 9 does not exist")
    assert ctl.save_preset("  ") == "error: give the preset a name"
    assert ctl.learn("macro_energy").startswith("error: no MIDI input")
    assert ctl.save_mappings().startswith("error: no mapping file")


def test_lfo_routes_listed_and_cleared(ctl):
    assert ctl.route_lfo(2, "stem_dry_pan", -0.25) == "LFO 2 -> stem_dry_pan (-0.25)"
    assert ctl.modulation_rows() == ["LFO 2 -> stem_dry_pan  -0.25"]
    assert ctl.clear_lfo(2) == "LFO 2: 1 route removed"
    assert ctl.modulation_rows() == []


def test_presets_load_and_save(ctl):
    assert {"Calm", "Balanced", "Intense", "Chaotic"} <= set(ctl.preset_names())
    assert ctl.load_preset("Intense") == "loaded Intense"
    for id_, value in factory_params("Intense").items():
        assert ctl.target(id_) == pytest.approx(value)
    ctl.set_value("macro_chaos", 0.75)
    assert ctl.save_preset("My set") == "saved My set"
    assert "My set" in ctl.preset_names()
    ctl.load_preset("Calm")
    assert ctl.load_preset("My set") == "loaded My set"
    assert ctl.target("macro_chaos") == 0.75


def test_tap_tempo(ctl):
    assert ctl.tap(10.0) is None  # one tap is not a tempo
    assert ctl.tap(10.05) is None  # a bounce, ignored
    assert ctl.tap(10.5) == pytest.approx(120.0)
    assert ctl.tap(11.0) == pytest.approx(120.0)
    assert ctl.target("tempo_bpm") == pytest.approx(120.0)


def test_midi_learn_maps_the_next_control_and_saves(ctl, tmp_path):
    dispatcher = _midi(ctl, tmp_path)
    assert ctl.learn_status() == "idle"
    assert ctl.learn("macro_texture") == "move a control for macro_texture"
    assert ctl.learn_status() == "waiting for a control for macro_texture"
    dispatcher.handle([0xB2, 74, 10])  # CC 74 on channel 3
    assert ctl.learn_status() == "learned cc 74 ch 3 -> macro_texture"
    dispatcher.handle([0xB2, 74, 127])  # learned: now it moves the macro
    assert ctl.target("macro_texture") == 1.0
    assert ctl.mapping_rows() == ["cc 74 ch 3 -> macro_texture"]
    assert ctl.save_mappings() == f"saved 1 mappings to {tmp_path / 'map.json'}"
    assert [describe_mapping(m) for m in MappingTable.load(tmp_path / "map.json")] == \
        ["cc 74 ch 3 -> macro_texture"]
    assert ctl.unlearn("macro_texture") == "macro_texture: 1 mapping removed"
    assert ctl.mapping_rows() == []


def test_describe_mapping_any_channel_and_no_number():
    assert describe_mapping(Mapping("master_width", "pitch_bend")) == \
        "pitch_bend any ch -> master_width"


def test_readings_before_any_audio(ctl):
    r = ctl.readings()
    assert r["input_peak_db"] == r["output_peak_db"] == -math.inf
    assert r["late_blocks"] == r["worker_underruns"] == 0
    assert r["worker_latency_ms"] > 0  # the passthrough insert's ring
    assert math.isnan(r["automix_loudness_lufs"])  # nothing heard yet
    assert r["automix_gain_db"] == r["automix_shelf_db"] == r["automix_side_db"] == 0.0


def test_model_commands_need_a_model_insert(ctl, tmp_path):
    assert ctl.load_model("  ") == "error: give the model file's path"
    assert ctl.load_model(str(tmp_path / "missing.ts")).startswith("error: ")
    assert ctl.capture(4.0).startswith("error: no model insert is running")


def test_capture_with_the_drum_model():
    import numpy as np

    engine = build_engine(SR, 2, 2, make_insert("drums", SR, None, "auto"))
    ctl = Controller(Controls(engine, "drums"))
    assert ctl.capture(4.0) == "error: nothing encoded yet (the voice path has not run)"
    proc = engine.worker.processor
    block = np.zeros((2, proc.block_frames), np.float32)
    for _ in range(8):
        proc.process(block)
    assert ctl.capture(0.5).startswith("captured ")
    assert ctl.capture(40.0) == "error: capture takes 0..16 seconds"

