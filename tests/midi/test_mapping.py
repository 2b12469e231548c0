"""midi.mapping: value objects, conversion, relative encodings, the table and its JSON."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midi.mapping import (
    KINDS,
    RELATIVE_KINDS,
    RELATIVE_MODES,
    SCHEMA_VERSION,
    TAKEOVER_MODES,
    ControlEvent,
    Mapping,
    MappingTable,
    decode_relative,
    encode_relative,
)
from presets.registry import REGISTRY, param

IDS = [p.id for p in REGISTRY]
FRACTION = st.floats(0.0, 1.0)


@st.composite
def mappings(draw) -> Mapping:
    kind = draw(st.sampled_from(KINDS))
    if kind in ("pitch_bend", "aftertouch"):
        number = None
    elif kind == "cc14":
        number = draw(st.integers(0, 31))
    elif kind == "nrpn":
        number = draw(st.integers(0, 16383))
    elif kind == "cc":
        number = draw(st.integers(0, 127))
    else:
        number = draw(st.none() | st.integers(0, 127))
    relative = draw(st.sampled_from(RELATIVE_MODES)) if kind in RELATIVE_KINDS else "absolute"
    return Mapping(
        target=draw(st.sampled_from(IDS)), kind=kind, number=number,
        channel=draw(st.none() | st.integers(0, 15)),
        min_frac=draw(FRACTION), max_frac=draw(FRACTION),
        curve=draw(st.sampled_from(("lin", "log", "exp"))), invert=draw(st.booleans()),
        relative=relative, step=draw(st.floats(1e-6, 1.0)),
        takeover=draw(st.sampled_from(TAKEOVER_MODES)), fine=draw(st.booleans()))


def event_for(m: Mapping, raw: int, part: str = "abs") -> ControlEvent:
    return ControlEvent(m.kind, m.channel or 0, m.number, raw, part)


# --- JSON ---------------------------------------------------------------------------

@given(mappings())
def test_mapping_json_round_trip_is_exact(m):
    d = json.loads(json.dumps(m.to_dict()))
    back = Mapping.from_dict(d)
    assert back == m
    assert back.to_dict() == m.to_dict()


@given(st.lists(mappings(), max_size=8))
def test_table_dict_round_trip_is_exact(ms):
    table = MappingTable(ms)
    d = json.loads(json.dumps(table.to_dict()))
    assert d["schema_version"] == SCHEMA_VERSION
    back = MappingTable.from_dict(d)
    assert back.list() == table.list()
    assert back.to_dict() == table.to_dict()


def test_table_file_round_trip(tmp_path):
    table = MappingTable([
        Mapping("master_gain_db", "cc", 7, channel=0, takeover="pickup"),
        Mapping("stem_worker_pan", "cc14", 1, curve="log", invert=True, min_frac=0.25),
        Mapping("master_gain_db", "nrpn", 1234, fine=False),
        Mapping("stem_worker_pan", "cc", 16, relative="twos_complement", step=0.01),
    ])
    path = tmp_path / "map.json"
    table.save(path)
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION
    assert MappingTable.load(path).list() == table.list()


def test_load_rejects_other_schema_versions_and_bad_entries(tmp_path):
    with pytest.raises(ValueError, match="schema_version 99"):
        MappingTable.from_dict({"schema_version": 99, "mappings": []})
    with pytest.raises(ValueError, match="mapping #0: unknown target 'nope'"):
        MappingTable.from_dict({"schema_version": 1,
                                "mappings": [{"target": "nope", "kind": "cc", "number": 1}]})
    with pytest.raises(ValueError, match="unknown mapping field"):
        Mapping.from_dict({"target": "master_gain_db", "kind": "cc", "number": 1, "x": 1})
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        MappingTable.load(bad)


@pytest.mark.parametrize("kwargs, match", [
    ({"kind": "cc"}, "needs a number"),
    ({"kind": "cc", "number": 128}, "not in"),
    ({"kind": "cc14", "number": 32}, "not in"),
    ({"kind": "pitch_bend", "number": 3}, "take no number"),
    ({"kind": "cc", "number": 1, "channel": 16}, "channel"),
    ({"kind": "cc", "number": 1, "min_frac": 1.5}, "fraction"),
    ({"kind": "cc", "number": 1, "curve": "cubic"}, "curve"),
    ({"kind": "cc14", "number": 1, "relative": "twos_complement"}, "relative"),
    ({"kind": "cc", "number": 1, "step": 0.0}, "step"),
    ({"kind": "cc", "number": 1, "takeover": "magic"}, "takeover"),
    ({"kind": "wheel"}, "kind"),
])
def test_invalid_mappings_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Mapping("master_gain_db", **kwargs)


# --- conversion ---------------------------------------------------------------------

@given(mappings(), st.integers(-100000, 100000), st.sampled_from(["abs", "msb", "lsb", "on",
                                                                  "off", "inc", "dec"]))
def test_conversion_never_leaves_the_registry_range(m, raw, part):
    p = param(m.target)
    u = m.position(event_for(m, raw, part))
    if u is not None:
        assert 0.0 <= u <= 1.0
        value = m.value_at(u)
        assert p.min <= value <= p.max


@given(mappings(), st.floats(allow_nan=True, allow_infinity=True))
def test_value_at_clamps_any_position(m, u):
    p = param(m.target)
    assert p.min <= m.value_at(u) <= p.max
    assert 0.0 <= m.position_of(m.value_at(u)) <= 1.0


@given(mappings().filter(lambda m: abs(m.max_frac - m.min_frac) > 0.01
                         and not param(m.target).discrete), st.floats(0.0, 1.0))
def test_curve_round_trip(m, u):
    assert m.position_of(m.value_at(u)) == pytest.approx(u, abs=1e-7)


@given(mappings().filter(lambda m: m.kind in ("cc", "cc14", "aftertouch")),
       st.integers(0, 16383))
def test_invert_mirrors_the_control(m, raw):
    full = {"cc": 127, "aftertouch": 127}.get(m.kind, 16383)
    raw = raw % (full + 1)
    flipped = Mapping.from_dict({**m.to_dict(), "invert": not m.invert})
    assert flipped.position(event_for(m, raw)) == pytest.approx(
        m.position(event_for(m, full - raw)), abs=1e-12)


def test_range_fractions_and_ends():
    p = param("master_gain_db")
    m = Mapping("master_gain_db", "cc", 7)
    assert m.value_at(m.position(event_for(m, 0))) == p.min
    assert m.value_at(m.position(event_for(m, 127))) == p.max
    half = Mapping("master_gain_db", "cc", 7, min_frac=0.5, max_frac=1.0)
    assert half.value_at(0.0) == pytest.approx((p.min + p.max) / 2)
    inv = Mapping("master_gain_db", "cc", 7, invert=True)
    assert inv.value_at(inv.position(event_for(inv, 127))) == p.min


def test_pitch_bend_centre_is_exactly_the_middle():
    m = Mapping("stem_worker_pan", "pitch_bend")
    assert m.value_at(m.position(event_for(m, 8192))) == 0.0
    assert m.position(event_for(m, 0)) == 0.0 and m.position(event_for(m, 16383)) == 1.0
    inv = Mapping("stem_worker_pan", "pitch_bend", invert=True)
    assert inv.value_at(inv.position(event_for(inv, 8192))) == 0.0


def test_note_kinds():
    gate = Mapping("master_gain_db", "note_gate", 36)
    vel = Mapping("master_gain_db", "note_velocity")
    p = param("master_gain_db")
    assert gate.value_at(gate.position(ControlEvent("note_gate", 0, 36, 90, "on"))) == p.max
    assert gate.value_at(gate.position(ControlEvent("note_gate", 0, 36, 0, "off"))) == p.min
    assert vel.position(ControlEvent("note_velocity", 0, 36, 127, "on")) == 1.0
    assert vel.position(ControlEvent("note_velocity", 0, 36, 64, "off")) is None


def test_coarse_nrpn_uses_the_msb_only():
    m = Mapping("master_gain_db", "nrpn", 5, fine=False)
    assert m.position(ControlEvent("nrpn", 0, 5, 127 << 7, "msb")) == 1.0
    assert m.position(ControlEvent("nrpn", 0, 5, (127 << 7) | 5, "lsb")) is None


# --- relative encodings ---------------------------------------------------------------

@pytest.mark.parametrize("mode, up1, down1", [
    ("twos_complement", 1, 127), ("signed_bit", 1, 65), ("signed_bit_2", 65, 1),
    ("binary_offset", 65, 63)])
def test_relative_encodings(mode, up1, down1):
    assert decode_relative(mode, up1) == 1
    assert decode_relative(mode, down1) == -1


@given(st.sampled_from(RELATIVE_MODES[1:]), st.integers(-63, 63))
def test_relative_encode_decode_round_trip(mode, ticks):
    assert decode_relative(mode, encode_relative(mode, ticks)) == ticks


# --- table --------------------------------------------------------------------------

def test_table_lookup_add_remove():
    import mido

    a = Mapping("master_gain_db", "cc", 7, channel=0)
    b = Mapping("stem_worker_pan", "cc", 7)           # any channel
    c = Mapping("stem_worker_pan", "note_gate")       # any note
    d = Mapping("master_gain_db", "cc14", 1, channel=2)
    table = MappingTable([a, b, c, d])
    table.add(a)
    assert len(table) == 4
    assert set(table.lookup("cc", 0, 7)) == {a, b}
    assert table.lookup("cc", 5, 7) == (b,)
    assert table.lookup("note_gate", 3, 60) == (c,)
    assert table.lookup_message(mido.Message("control_change", channel=2, control=33)) == (d,)
    assert table.lookup_message(mido.Message("note_on", note=1)) == (c,)
    assert table.has_cc14(2, 1) and not table.has_cc14(0, 1)
    assert table.remove_target("stem_worker_pan") == 2
    assert table.list() == [a, d]
    assert table.remove(a) and not table.remove(a)
    table.clear()
    assert len(table) == 0 and table.lookup("cc", 0, 7) == ()
