"""Soft takeover (none, pickup, value scaling) and relative-encoder accumulation.

Logic tests drive a MidiDispatcher directly; the ``jack`` tests send the same moves
through real JACK MIDI ports into the MIDI thread.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.params import ParameterStore
from midi.convert import clamp01
from midi.dispatcher import MidiDispatcher
from midi.mapping import RELATIVE_MODES, Mapping, MappingTable, encode_relative
from presets.registry import INDEX, REGISTRY

from .stand_in import StoreControls

TARGET = "master_gain_db"


def make(mode: str) -> tuple[MidiDispatcher, ParameterStore, Mapping]:
    store = ParameterStore(48000)
    m = Mapping(TARGET, "cc", 7, takeover=mode)
    return MidiDispatcher(StoreControls(store), MappingTable([m])), store, m


def value(store: ParameterStore, target: str = TARGET) -> float:
    return float(store.target[INDEX[target]])


def test_none_jumps():
    d, store, m = make("none")
    store.set(TARGET, m.value_at(0.5))
    d.handle([0xB0, 7, 10])
    assert value(store) == m.value_at(10 / 127)


def test_pickup_waits_for_the_control_to_cross_the_parameter():
    d, store, m = make("pickup")
    store.set(TARGET, m.value_at(0.5))
    for v in (10, 20, 40):
        d.handle([0xB0, 7, v])
        assert value(store) == m.value_at(0.5), "moved before pick-up"
    d.handle([0xB0, 7, 70])  # crossed 0.5 between 40 and 70
    assert value(store) == m.value_at(70 / 127)
    d.handle([0xB0, 7, 80])
    assert value(store) == m.value_at(80 / 127)
    # a preset recall moves the parameter: the knob has to pick it up again
    store.set(TARGET, m.value_at(0.2))
    d.handle([0xB0, 7, 81])
    assert value(store) == m.value_at(0.2)
    d.handle([0xB0, 7, 25])  # 25/127 = 0.197: crossed 0.2
    assert value(store) == m.value_at(25 / 127)


def test_pickup_engages_when_reaching_exactly():
    d, store, m = make("pickup")
    store.set(TARGET, m.value_at(64 / 127))
    d.handle([0xB0, 7, 64])
    assert value(store) == m.value_at(64 / 127)


def test_scale_moves_proportionally_and_meets_at_the_end():
    d, store, m = make("scale")
    store.set(TARGET, m.value_at(0.5))
    d.handle([0xB0, 7, 0])  # first contact: no direction yet
    assert value(store) == m.value_at(0.5)
    d.handle([0xB0, 7, 32])
    u = 32 / 127
    expected = 0.5 + u * (1 - 0.5) / (1 - 0.0)
    assert m.position_of(value(store)) == pytest.approx(expected, abs=1e-9)
    previous = expected
    for v in range(40, 128, 8):  # keeps moving up, always ahead of the control
        d.handle([0xB0, 7, v])
        p = m.position_of(value(store))
        assert p > previous and p >= v / 127 - 1e-9
        previous = p
    d.handle([0xB0, 7, 127])
    assert value(store) == m.value_at(1.0)  # met at the top
    d.handle([0xB0, 7, 100])  # from here on it follows the control
    assert value(store) == m.value_at(100 / 127)


def test_scale_downwards():
    d, store, m = make("scale")
    store.set(TARGET, m.value_at(0.5))
    d.handle([0xB0, 7, 127])
    d.handle([0xB0, 7, 96])
    expected = 0.5 - (1 - 96 / 127) * 0.5 / 1.0
    assert m.position_of(value(store)) == pytest.approx(expected, abs=1e-9)
    d.handle([0xB0, 7, 0])
    assert value(store) == m.value_at(0.0)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(RELATIVE_MODES[1:]), st.lists(st.integers(-63, 63), max_size=40),
       st.floats(1e-4, 0.5), st.booleans())
def test_relative_encoders_accumulate(mode, ticks, step, invert):
    store = ParameterStore(48000)
    m = Mapping(TARGET, "cc", 16, relative=mode, step=step, invert=invert)
    d = MidiDispatcher(StoreControls(store), MappingTable([m]))
    u = m.position_of(value(store))
    for t in ticks:
        d.handle([0xB0, 16, encode_relative(mode, t)])
        if t:
            u = clamp01(u + (-t if invert else t) * step)
    assert value(store) == pytest.approx(m.value_at(u), abs=1e-9)
    p = REGISTRY[INDEX[TARGET]]
    assert p.min <= value(store) <= p.max


def test_relative_resyncs_after_an_external_change():
    store = ParameterStore(48000)
    m = Mapping(TARGET, "cc", 16, relative="binary_offset", step=0.1)
    d = MidiDispatcher(StoreControls(store), MappingTable([m]))
    store.set(TARGET, m.value_at(0.3))
    d.handle([0xB0, 16, 65])
    assert m.position_of(value(store)) == pytest.approx(0.4)
    store.set(TARGET, m.value_at(0.8))  # preset recall
    d.handle([0xB0, 16, 63])
    assert m.position_of(value(store)) == pytest.approx(0.7)


def test_small_steps_accumulate_on_discrete_targets():
    discrete = [p for p in REGISTRY if p.discrete and p.max - p.min >= 2]
    if not discrete:
        pytest.skip("no discrete parameter in the registry yet")
    p = discrete[0]
    store = ParameterStore(48000)
    m = Mapping(p.id, "cc", 16, relative="twos_complement", step=0.01)
    d = MidiDispatcher(StoreControls(store), MappingTable([m]))
    store.set(p.id, p.min)
    for _ in range(100):
        d.handle([0xB0, 16, 1])
    assert value(store, p.id) == p.max


# --- the same through JACK ------------------------------------------------------------

@pytest.mark.jack
@pytest.mark.parametrize("mode, moves, expected_u", [
    ("none", (10,), 10 / 127),
    ("pickup", (10, 20, 40), 0.5),
    ("pickup", (10, 40, 70, 80), 80 / 127),
    ("scale", (0, 32), 0.5 + (32 / 127) * 0.5),
    ("scale", (0, 32, 127, 100), 100 / 127),
])
def test_takeover_over_jack(rig_factory, mode, moves, expected_u):
    m = Mapping(TARGET, "cc", 7, channel=0, takeover=mode)
    rig = rig_factory(table=MappingTable([m]))
    rig.store.set(TARGET, m.value_at(0.5))
    rig.send(*([0xB0, 7, v] for v in moves))
    assert m.position_of(rig.value(TARGET)) == pytest.approx(expected_u, abs=1e-9)
