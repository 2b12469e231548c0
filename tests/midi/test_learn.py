"""MIDI learn: each control kind, 14-bit pair detection, timeout, cancel, unlearn."""

from __future__ import annotations

import time

import pytest

from midi.dispatcher import MidiDispatcher
from midi.learn import Learner
from midi.mapping import Mapping, MappingTable

from .stand_in import StoreControls

MS = 1_000_000
TARGET = "stem_worker_pan"


@pytest.fixture
def learn():
    table = MappingTable()
    results = []
    learner = Learner(table, pair_window_s=0.02, on_result=results.append)
    d = MidiDispatcher(StoreControls(), table, learner=learner)
    return d, learner, table, results


def feed(d, msgs, t0=0, dt=MS):
    for i, m in enumerate(msgs):
        d.handle(m, t0 + i * dt)


def learned(table) -> Mapping:
    (m,) = table.list()
    return m


def test_7_bit_cc_after_the_pair_window(learn):
    d, learner, table, results = learn
    learner.arm(TARGET, takeover="pickup")
    t = time.perf_counter_ns()
    d.handle([0xB3, 74, 10], t)  # CC >= 64: no LSB possible, learned at once
    assert learned(table) == Mapping(TARGET, "cc", 74, 3, takeover="pickup")
    assert results[-1].reason == "learned" and learner.armed is None


def test_msb_alone_becomes_7_bit_when_the_window_passes(learn):
    d, learner, table, _ = learn
    learner.arm(TARGET)
    t = time.perf_counter_ns()
    d.handle([0xB0, 7, 10], t)
    assert learner.armed == TARGET, "waits for a possible LSB"
    d.poll(t + 30 * MS)
    assert learned(table) == Mapping(TARGET, "cc", 7, 0)


def test_msb_followed_by_its_lsb_becomes_14_bit(learn):
    d, learner, table, _ = learn
    learner.arm(TARGET)
    t = time.perf_counter_ns()
    feed(d, [[0xB1, 7, 10], [0xB1, 39, 3]], t)
    assert learned(table) == Mapping(TARGET, "cc14", 7, 1)


def test_lsb_too_late_is_not_a_pair(learn):
    d, learner, table, _ = learn
    learner.arm(TARGET)
    t = time.perf_counter_ns()
    feed(d, [[0xB1, 7, 10], [0xB1, 39, 3]], t, dt=50 * MS)
    assert learned(table) == Mapping(TARGET, "cc", 7, 1)


def test_nrpn_fine_and_coarse(learn):
    d, learner, table, _ = learn
    learner.arm(TARGET)
    t = time.perf_counter_ns()
    feed(d, [[0xB0, 99, 1], [0xB0, 98, 2], [0xB0, 6, 64], [0xB0, 38, 0]], t)
    assert learned(table) == Mapping(TARGET, "nrpn", 130, 0, fine=True)
    table.clear()
    learner.arm(TARGET)
    d.handle([0xB0, 6, 64], t + 10 * MS)  # selection is remembered
    d.poll(t + 50 * MS)
    assert learned(table) == Mapping(TARGET, "nrpn", 130, 0, fine=False)


@pytest.mark.parametrize("msg, expected", [
    ([0x92, 36, 100], Mapping(TARGET, "note_gate", 36, 2)),
    ([0xE5, 0, 64], Mapping(TARGET, "pitch_bend", None, 5)),
    ([0xD0, 10], Mapping(TARGET, "aftertouch", None, 0)),
    ([0xA1, 60, 10], Mapping(TARGET, "poly_aftertouch", 60, 1)),
])
def test_other_controls(learn, msg, expected):
    d, learner, table, _ = learn
    learner.arm(TARGET)
    d.handle([0x80, 36, 0])  # note off: not a control to learn
    d.handle([0xB0, 0, 1])   # bank select: never learned
    d.handle(msg)
    assert learned(table) == expected


def test_note_velocity_and_relative_template(learn):
    d, learner, table, _ = learn
    learner.arm(TARGET, note_kind="note_velocity", relative="twos_complement")
    d.handle([0x90, 40, 90])
    assert learned(table) == Mapping(TARGET, "note_velocity", 40, 0)  # relative dropped
    table.clear()
    learner.arm(TARGET, relative="twos_complement")
    d.handle([0xB0, 80, 1])
    assert learned(table).relative == "twos_complement"


def test_timeout_and_cancel(learn):
    d, learner, table, results = learn
    learner.arm(TARGET, timeout_s=0.01)
    d.poll(time.perf_counter_ns() + 20 * MS)
    assert results[-1].reason == "timeout" and learner.armed is None
    learner.arm(TARGET)
    learner.cancel()
    assert results[-1].reason == "cancelled"
    d.handle([0xB0, 80, 1])
    assert len(table) == 0


def test_armed_messages_do_not_move_mapped_parameters(learn):
    d, learner, table, _ = learn
    table.add(Mapping("master_gain_db", "cc", 80))
    learner.arm(TARGET)
    d.handle([0xB0, 80, 0])
    assert d.controls.store.get("master_gain_db") == 0.0
    # relearning a control replaces its old mapping
    assert table.list() == [Mapping(TARGET, "cc", 80, 0)]


def test_unlearn(learn):
    d, learner, table, _ = learn
    table.add(Mapping(TARGET, "cc", 1))
    table.add(Mapping(TARGET, "cc", 2))
    table.add(Mapping("master_gain_db", "cc", 3))
    assert learner.unlearn(TARGET) == 2
    assert table.list() == [Mapping("master_gain_db", "cc", 3)]


def test_arm_validates():
    learner = Learner(MappingTable())
    with pytest.raises(ValueError, match="unknown target"):
        learner.arm("nope")
    with pytest.raises(ValueError, match="cannot preset"):
        learner.arm(TARGET, number=3)


@pytest.mark.jack
def test_learn_over_jack(rig_factory):
    table = MappingTable()
    learner = Learner(table)
    rig = rig_factory(table=table, learner=learner)
    learner.arm(TARGET)
    rig.send([0xB2, 3, 100], [0xB2, 35, 0])  # a 14-bit pair, as a controller sends it
    deadline = time.perf_counter() + 2
    while learner.armed and time.perf_counter() < deadline:
        time.sleep(0.001)
    assert table.list() == [Mapping(TARGET, "cc14", 3, 2)]
    rig.send([0xB2, 3, 127], [0xB2, 35, 127])  # now it controls the target
    assert rig.value(TARGET) == 1.0
    learner.arm("master_gain_db")
    rig.send([0xB0, 71, 5])
    assert Mapping("master_gain_db", "cc", 71, 0) in table
