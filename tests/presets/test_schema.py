"""The preset document: exact round trip, strict messages, lenient loading."""

from __future__ import annotations

import copy
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from presets.registry import CURVES, MACROS, N_LFOS, REGISTRY, param
from presets.schema import (
    SCHEMA_VERSION,
    LfoRoute,
    MacroAssignment,
    Preset,
    PresetError,
    check_name,
    dumps,
    parse,
    to_doc,
)

SRC = "user/Foo.json"


def _value(p):
    if p.discrete:
        return st.integers(int(p.min), int(p.max)).map(float)
    return st.floats(p.min, p.max, allow_nan=False)


_params = st.fixed_dictionaries({}, optional={p.id: _value(p) for p in REGISTRY})
_targets = st.sampled_from([p for p in REGISTRY if not p.id.startswith("macro_")])


@st.composite
def _macro(draw):
    p = draw(_targets)
    return MacroAssignment(draw(st.sampled_from(MACROS)), p.id, draw(_value(p)),
                           draw(_value(p)), draw(st.sampled_from(CURVES)))


_route = st.builds(LfoRoute, st.integers(1, N_LFOS), st.sampled_from([p.id for p in REGISTRY]),
                   st.floats(-1.0, 1.0, allow_nan=False))
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**31, 2**31) | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=10)
_snapshot = st.integers(1, 4).flatmap(lambda w: st.lists(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=w, max_size=w),
    min_size=1, max_size=4))
_name = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs"),
                              exclude_characters='/\\:*?"<>|.'), min_size=1, max_size=20)

presets = st.builds(
    Preset, name=_name, description=st.text(max_size=30), params=_params,
    macros=st.lists(_macro(), max_size=5), lfo_routes=st.lists(_route, max_size=5),
    midi=st.none() | st.dictionaries(st.text(max_size=5), _json, max_size=3),
    pattern_memory=st.dictionaries(st.text(min_size=1, max_size=6), _snapshot, max_size=3),
    model=st.none() | st.text(min_size=1, max_size=10), app_version=st.text(max_size=8))


@settings(max_examples=150, deadline=None)
@given(presets.filter(lambda p: _valid_name(p.name)))
def test_to_doc_parse_round_trip_is_exact(preset):
    doc = to_doc(preset)
    again, warnings = parse(doc, SRC)
    assert warnings == []
    assert to_doc(again) == doc
    # and through JSON text, as on disk
    text_again, _ = parse(dumps(preset), SRC)
    assert to_doc(text_again) == doc
    assert json.loads(dumps(text_again)) == doc


def _valid_name(name: str) -> bool:
    try:
        check_name(name)
    except ValueError:
        return False
    return True


def _doc(**changes):
    doc = to_doc(Preset(name="Foo", macros=[MacroAssignment("energy", "comp_ratio", 1.5, 6.0)],
                        lfo_routes=[LfoRoute(1, "master_width", 0.5)],
                        pattern_memory={"A": [[0.0, 1.0], [2.0, 3.0]]}))
    doc.update(changes)
    return doc


def test_a_saved_document_holds_every_parameter_and_the_app_version():
    doc = to_doc(Preset(name="Foo", params={"master_gain_db": -6.0}))
    assert list(doc["params"]) == [p.id for p in REGISTRY]
    assert doc["params"]["master_gain_db"] == -6.0
    assert doc["schema_version"] == SCHEMA_VERSION
    assert isinstance(doc["app_version"], str) and doc["app_version"]
    assert isinstance(doc["params"]["lfo1_shape"], int)  # discrete values read as integers


def test_omitted_parameters_take_their_defaults():
    preset, _ = parse({"schema_version": 1, "name": "Foo", "params": {"master_gain_db": -6}},
                      SRC)
    assert preset.params["master_gain_db"] == -6.0
    assert preset.params["input_gain_db"] == param("input_gain_db").default
    assert len(preset.params) == len(REGISTRY)
    assert preset.macros == [] and preset.lfo_routes == [] and preset.midi is None


@pytest.mark.parametrize(("doc", "message"), [
    ('{"schema_version": 1,\n "name": "Foo",\n  "params": {"a": 1 "b": 2}}',
     "user/Foo.json: not valid JSON (line 3 column 21)"),
    ("", "user/Foo.json: not valid JSON (line 1 column 1)"),
    ('{"schema_version": 1, "params": {"master_gain_db": NaN}}', "NaN is not a valid JSON"),
    ('{"schema_version": 1, "name": "A", "name": "B"}', "duplicate key 'name'"),
    ("[1, 2]", "user/Foo.json: a preset must be a JSON object, not a list"),
    (b"\xff\xfe{}", "user/Foo.json: not valid UTF-8"),
])
def test_broken_json_names_the_file_and_the_position(doc, message):
    with pytest.raises(PresetError, match=None) as info:
        parse(doc, SRC)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("change", "message"), [
    ({"colour": "red"}, "user/Foo.json: unknown key 'colour'"),
    ({"params": {"master_gain_db": 40}},
     "user/Foo.json: params.master_gain_db=40 is out of range [-80, 12] dB"),
    ({"params": {"warp_factor": 9}}, "user/Foo.json: params.warp_factor: unknown parameter"),
    ({"params": {"master_gain_db": "loud"}}, "params.master_gain_db must be a number, not a str"),
    ({"params": {"master_gain_db": True}}, "params.master_gain_db must be a number, not a bool"),
    ({"params": {"lfo1_shape": 1.5}}, "params.lfo1_shape=1.5 must be a whole number"),
    ({"params": []}, "params must be an object, not a list"),
    ({"schema_version": 3},
     "user/Foo.json: schema_version 3 is newer than this app understands (1)"),
    ({"schema_version": 0}, "schema_version 0 is not a valid preset version"),
    ({"schema_version": "1"}, "schema_version \"1\" is not a whole number"),
    ({"name": "a/b"}, "name 'a/b' contains '/'"),
    ({"name": ""}, "name is empty"),
    ({"name": 7}, "name must be a string, not a number"),
    ({"description": None}, "description must be a string, not null"),
    ({"macros": [{"macro": "energy", "target": "comp_ratio", "low": 1, "high": 30}]},
     "user/Foo.json: macros[0].high=30 is out of range [1, 20] :1"),
    ({"macros": [{"macro": "vibe", "target": "comp_ratio", "low": 1, "high": 2}]},
     "macros[0].macro \"vibe\" is not one of energy"),
    ({"macros": [{"macro": "energy", "target": "macro_chaos", "low": 0, "high": 1}]},
     "a macro cannot drive another macro"),
    ({"macros": [{"macro": "energy", "target": "comp_ratio", "low": 1, "high": 2,
                  "curve": "cubic"}]}, "macros[0].curve \"cubic\" is not one of lin"),
    ({"macros": [{"macro": "energy", "target": "comp_ratio", "low": 1, "high": 2,
                  "colour": 1}]}, "macros[0]: unknown key 'colour'"),
    ({"macros": [{"macro": "energy", "low": 1, "high": 2}]}, "macros[0].target is missing"),
    ({"macros": {}}, "macros must be a list, not an object"),
    ({"lfo_routes": [{"lfo": 5, "target": "master_width", "amount": 1}]},
     "lfo_routes[0].lfo 5 is not an LFO number 1..4"),
    ({"lfo_routes": [{"lfo": 1, "target": "master_width", "amount": 1.5}]},
     "lfo_routes[0].amount=1.5 is out of range [-1, 1]"),
    ({"lfo_routes": [{"lfo": 1, "target": "nope", "amount": 1}]},
     "lfo_routes[0].target 'nope' is not a known parameter"),
    ({"midi": [1]}, "midi must be an object or null, not a list"),
    ({"model": 3}, "model must be a string, not a number"),
    ({"pattern_memory": {"A": [[1.0, 2.0], [3.0]]}},
     "pattern_memory.A[1] has 1 values, row 0 has 2 (snapshots are rectangular)"),
    ({"pattern_memory": {"A": [[1.0, 1e999]]}}, "pattern_memory.A[0][1] must be a finite number"),
    ({"pattern_memory": {"A": [[1.0, "x"]]}}, "pattern_memory.A[0][1] must be a finite number"),
    ({"pattern_memory": {"A": []}}, "pattern_memory.A must be a non-empty list of rows"),
    ({"pattern_memory": {"A": 1}}, "pattern_memory.A must be a non-empty list of rows"),
])
def test_strict_errors_name_the_file_and_the_field(change, message):
    with pytest.raises(PresetError) as info:
        parse(_doc(**change), SRC)
    assert message in str(info.value)
    assert str(info.value).startswith(SRC)


def test_missing_schema_version_is_an_error_when_strict():
    doc = _doc()
    del doc["schema_version"]
    with pytest.raises(PresetError, match="schema_version is missing"):
        parse(doc, SRC)


def test_a_missing_name_falls_back_to_the_file_name():
    doc = _doc()
    del doc["name"]
    assert parse(doc, "some/where/My Take.json")[0].name == "My Take"


def test_lenient_keeps_the_valid_parts_and_reports_the_rest():
    doc = _doc(colour="red", midi=[1], description=5)
    doc["params"]["master_gain_db"] = 40
    doc["params"]["warp_factor"] = 1
    doc["params"]["input_gain_db"] = -3.0
    doc["macros"].append({"macro": "energy", "target": "comp_ratio", "low": 1, "high": 30})
    doc["lfo_routes"].append({"lfo": 9, "target": "master_width", "amount": 1})
    doc["pattern_memory"]["bad"] = [[1.0], [1.0, 2.0]]
    preset, warnings = parse(doc, SRC, lenient=True)
    assert preset.params["input_gain_db"] == -3.0
    assert preset.params["master_gain_db"] == param("master_gain_db").default
    assert preset.macros == [MacroAssignment("energy", "comp_ratio", 1.5, 6.0)]
    assert preset.lfo_routes == [LfoRoute(1, "master_width", 0.5)]
    assert preset.pattern_memory == {"A": [[0.0, 1.0], [2.0, 3.0]]}
    assert preset.midi is None and preset.description == ""
    joined = "\n".join(warnings)
    for part in ("unknown key 'colour'", "params.master_gain_db=40 is out of range",
                 "params.warp_factor: unknown parameter", "macros[1].high=30",
                 "lfo_routes[1].lfo 9", "pattern_memory.bad[1]", "midi must be an object",
                 "description must be a string"):
        assert part in joined, part
    assert len(warnings) == 8
    assert all(w.startswith(SRC) for w in warnings)


def test_lenient_still_refuses_newer_schema_and_broken_json():
    with pytest.raises(PresetError, match="newer than this app"):
        parse(_doc(schema_version=2), SRC, lenient=True)
    with pytest.raises(PresetError, match="not valid JSON"):
        parse("{", SRC, lenient=True)


def test_lenient_with_a_bad_name_uses_the_file_name():
    preset, warnings = parse(_doc(name="a/b"), "x/Rescued.json", lenient=True)
    assert preset.name == "Rescued"
    assert "contains '/'" in warnings[0]


def test_macro_ids_are_accepted_in_either_spelling():
    doc = _doc(macros=[{"macro": "macro_texture", "target": "eq_mid_freq_hz", "low": 400,
                        "high": 4000}])
    preset, _ = parse(doc, SRC)
    assert preset.macros == [MacroAssignment("texture", "eq_mid_freq_hz", 400.0, 4000.0, "lin")]


def test_parse_does_not_share_state_with_the_document():
    doc = _doc(midi={"schema_version": 1, "mappings": []})
    preset, _ = parse(doc, SRC)
    before = copy.deepcopy(doc)
    preset.midi["mappings"].append({"x": 1})
    preset.pattern_memory["A"][0][0] = 9.0
    assert doc == before


@pytest.mark.parametrize("name", ["", " a", "a ", ".hidden", "a/b", "a\\b", "x" * 65, "nul",
                                  "a\nb", "end."])
def test_bad_names_are_refused(name):
    with pytest.raises(ValueError):
        check_name(name)


@pytest.mark.parametrize("name", ["Calm 2", "Late night (v3)", "Ünïcödé", "a.b", "x" * 64])
def test_good_names_are_accepted(name):
    assert check_name(name) == name


def test_dumps_refuses_non_finite_numbers():
    with pytest.raises(ValueError):
        dumps(Preset(name="Foo", pattern_memory={"A": [[math.nan]]}))
