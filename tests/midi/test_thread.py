"""The MIDI thread over real JACK MIDI ports: every control kind, program change, notes,
and the arrival-to-target latency."""

from __future__ import annotations

import statistics
import time

import pytest

from midi.mapping import Mapping, MappingTable, encode_relative
from presets.registry import param

pytestmark = pytest.mark.jack

GAIN, PAN = "master_gain_db", "stem_worker_pan"


def test_7_bit_cc(rig_factory):
    m = Mapping(GAIN, "cc", 7, channel=0)
    rig = rig_factory(table=MappingTable([m]))
    rig.send([0xB0, 7, 127])
    assert rig.value(GAIN) == param(GAIN).max
    rig.send([0xB0, 7, 0])
    assert rig.value(GAIN) == param(GAIN).min
    rig.send([0xB1, 7, 127])  # other channel: not mapped
    assert rig.value(GAIN) == param(GAIN).min
    rig.send(*([0xB0, 7, v] for v in range(128)))  # a sweep arrives in order
    assert rig.value(GAIN) == param(GAIN).max


def test_14_bit_cc(rig_factory):
    m = Mapping(PAN, "cc14", 1)
    rig = rig_factory(table=MappingTable([m]))
    raw = (0x55 << 7) | 0x2A
    rig.send([0xB3, 1, 0x55], [0xB3, 33, 0x2A])
    assert rig.value(PAN) == m.value_at(raw / 16383)
    rig.send([0xB3, 33, 0x2B])  # fine adjustment: LSB only
    assert rig.value(PAN) == m.value_at((raw + 1) / 16383)


def test_nrpn(rig_factory):
    fine = Mapping(PAN, "nrpn", (3 << 7) | 7)
    coarse = Mapping(GAIN, "nrpn", 5, fine=False)
    rig = rig_factory(table=MappingTable([fine, coarse]))
    rig.send([0xB0, 99, 3], [0xB0, 98, 7], [0xB0, 6, 0x10], [0xB0, 38, 0x01])
    assert rig.value(PAN) == fine.value_at(((0x10 << 7) | 1) / 16383)
    rig.send([0xB0, 96, 0])  # data increment: one step
    assert fine.position_of(rig.value(PAN)) == pytest.approx(
        ((0x10 << 7) | 1) / 16383 + fine.step)
    rig.send([0xB0, 99, 0], [0xB0, 98, 5], [0xB0, 6, 127], [0xB0, 38, 99])
    assert rig.value(GAIN) == param(GAIN).max
    assert fine.position_of(rig.value(PAN)) == pytest.approx(
        ((0x10 << 7) | 1) / 16383 + fine.step)


@pytest.mark.parametrize("mode", ["twos_complement", "signed_bit", "signed_bit_2",
                                  "binary_offset"])
def test_relative_encoders(rig_factory, mode):
    m = Mapping(GAIN, "cc", 20, relative=mode, step=0.01)
    rig = rig_factory(table=MappingTable([m]))
    rig.store.set(GAIN, m.value_at(0.5))
    start = 0.5
    rig.send(*([0xB0, 20, encode_relative(mode, t)] for t in (1, 1, 5, -3, 10)))
    assert m.position_of(rig.value(GAIN)) == pytest.approx(start + 0.14, abs=1e-9)
    rig.send(*([0xB0, 20, encode_relative(mode, 63)] for _ in range(5)))
    assert rig.value(GAIN) == param(GAIN).max  # clamps at the end of the range


def test_program_change_with_bank_select(rig_factory):
    calls = []
    rig = rig_factory(on_program=lambda bank, program: calls.append((bank, program)))
    rig.send([0xC0, 5])
    rig.send([0xB0, 0, 2], [0xB0, 32, 3], [0xC0, 17])
    rig.send([0xC1, 9])  # banks are per channel
    assert calls == [(0, 5), ((2 << 7) | 3, 17), (0, 9)]


def test_notes_reach_on_note_and_note_mappings(rig_factory):
    notes = []
    gate = Mapping(GAIN, "note_gate", 36)
    rig = rig_factory(table=MappingTable([gate]),
                      on_note=lambda c, n, v, on: notes.append((n, v, on)))
    rig.send([0x99, 36, 100])
    assert rig.value(GAIN) == param(GAIN).max
    rig.send([0x89, 36, 40], [0x99, 38, 0])
    assert rig.value(GAIN) == param(GAIN).min
    assert notes == [(36, 100, True), (36, 40, False), (38, 0, False)]


def test_pitch_bend_and_aftertouch(rig_factory):
    bend = Mapping(PAN, "pitch_bend")
    touch = Mapping(GAIN, "aftertouch", channel=4)
    rig = rig_factory(table=MappingTable([bend, touch]))
    rig.send([0xE0, 0x7F, 0x7F], [0xD4, 0])
    assert rig.value(PAN) == 1.0 and rig.value(GAIN) == param(GAIN).min


def test_cc_arrival_to_target_latency(rig_factory):
    """Median latency of our code path, arrival stamp -> ParameterStore.set, under 1 ms.

    Also reports the end-to-end time from just before the sender's send() to the target
    being set (includes JACK's period quantisation: not asserted).
    """
    m = Mapping(GAIN, "cc", 7)
    rig = rig_factory(table=MappingTable([m]))
    set_times: dict[float, int] = {}
    original = rig.store.set

    def timed_set(id_, value):
        original(id_, value)
        set_times[value] = time.perf_counter_ns()

    rig.store.set = timed_set
    rig.send([0xB0, 7, 0])
    rig.dispatcher.stats.reset()
    e2e = []
    for k in range(200):
        v = 1 + k % 126
        t0 = time.perf_counter_ns()
        rig.send([0xB0, 7, v])
        e2e.append((set_times[m.value_at(v / 127)] - t0) / 1e3)
        time.sleep(0.002)
    stats = rig.dispatcher.stats.snapshot()
    print(f"\nlatency arrival->set: n={stats['count']} median {stats['median_us']:.1f} us, "
          f"max {stats['max_us']:.1f} us; send->set median {statistics.median(e2e):.1f} us, "
          f"max {max(e2e):.1f} us")
    assert stats["count"] == 200
    assert stats["median_us"] < 1000.0
