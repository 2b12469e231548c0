"""midi.parser: running status, real-time interleaving, sysex, truncation, fuzzing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.params import ParameterStore
from midi.clock import ClockIn
from midi.dispatcher import MidiDispatcher
from midi.learn import Learner
from midi.mapping import Mapping, MappingTable
from midi.parser import MidiParser, to_message
from presets.registry import REGISTRY

from .stand_in import StoreControls


def parse(data, **kw):
    return MidiParser(**kw).feed(bytes(data))


def test_complete_messages():
    assert parse([0x90, 60, 100, 0xC1, 5, 0xE0, 0, 64]) == [(0x90, 60, 100), (0xC1, 5),
                                                           (0xE0, 0, 64)]


def test_running_status():
    assert parse([0xB0, 7, 1, 7, 2, 7, 3]) == [(0xB0, 7, 1), (0xB0, 7, 2), (0xB0, 7, 3)]
    assert parse([0xD0, 1, 2, 3]) == [(0xD0, 1), (0xD0, 2), (0xD0, 3)]


def test_realtime_inside_a_message_does_not_break_it():
    assert parse([0xB0, 0xF8, 7, 0xFA, 100, 0xF8, 8, 0xFE, 9]) == [
        (0xF8,), (0xFA,), (0xB0, 7, 100), (0xF8,), (0xFE,), (0xB0, 8, 9)]


def test_truncated_messages_are_dropped():
    p = MidiParser()
    assert p.feed(bytes([0x90, 60, 0xB0, 7, 1])) == [(0xB0, 7, 1)]
    assert p.dropped == 1


def test_messages_split_across_feeds():
    p = MidiParser()
    assert p.feed(bytes([0xB0, 7])) == []
    assert p.feed(bytes([64, 8])) == [(0xB0, 7, 64)]
    assert p.feed(bytes([9])) == [(0xB0, 8, 9)]


def test_sysex_and_its_limits():
    assert parse([0xF0, 0x7E, 1, 2, 0xF7, 0x90, 1, 2]) == [(0xF0, 0x7E, 1, 2, 0xF7),
                                                          (0x90, 1, 2)]
    # too long: dropped whole, the parser carries on
    assert parse([0xF0, *range(10), 0xF7, 0xC0, 3], max_sysex=5) == [(0xC0, 3)]
    # a status byte ends an unterminated sysex
    assert parse([0xF0, 1, 2, 0xB0, 7, 1]) == [(0xB0, 7, 1)]
    # system common cancels running status
    assert parse([0xB0, 7, 1, 0xF6, 7, 2]) == [(0xB0, 7, 1), (0xF6,)]


def test_undefined_and_stray_bytes_are_ignored():
    assert parse([5, 6, 0xF4, 1, 0xF5, 0xF9, 0xFD, 0xF7, 0xF2, 1, 2]) == [(0xF2, 1, 2)]


def test_bad_items_never_raise():
    p = MidiParser()
    assert p.feed([0x90, -1, 256, "x", None, 60, 1.5, 100]) == [(0x90, 60, 100)]
    assert p.feed(None) == []  # type: ignore[arg-type]
    assert to_message((0x90, 60, 100)).type == "note_on"
    assert to_message((0xF4,)) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_parser_output_is_well_formed(data):
    for m in MidiParser(max_sysex=64).feed(data):
        assert 0x80 <= m[0] <= 0xFF
        if m[0] != 0xF0:
            assert all(b < 0x80 for b in m[1:])
            assert to_message(m) is not None


def _fuzz_dispatcher() -> MidiDispatcher:
    store = ParameterStore(48000)
    targets = [p.id for p in REGISTRY]
    ms = []
    for i, t in enumerate(targets):
        ms += [Mapping(t, "cc", i % 128, takeover=("none", "pickup", "scale")[i % 3]),
               Mapping(t, "cc14", i % 32, curve=("lin", "log", "exp")[i % 3]),
               Mapping(t, "nrpn", i, fine=bool(i % 2)),
               Mapping(t, "cc", (i + 64) % 128, relative="twos_complement", step=0.3),
               Mapping(t, "note_gate", invert=True),
               Mapping(t, "note_velocity", i % 128),
               Mapping(t, "pitch_bend", min_frac=0.9, max_frac=0.1),
               Mapping(t, "aftertouch"),
               Mapping(t, "poly_aftertouch")]
    table = MappingTable(ms)
    learner = Learner(table)
    return MidiDispatcher(StoreControls(store), table, clock=ClockIn(), learner=learner,
                          on_program=lambda b, p: None, on_note=lambda c, n, v, o: None)


DISPATCHER = _fuzz_dispatcher()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.booleans())
def test_fuzzed_bytes_never_raise_or_leave_the_range(data, learn):
    d = DISPATCHER
    if learn:
        d.learner.arm(REGISTRY[len(data) % len(REGISTRY)].id)
    errors = d.errors
    d.feed_bytes(data)
    d.handle(list(data[:3]))  # unparsed garbage straight into handle as well
    assert d.errors == errors
    for p, v in zip(REGISTRY, d.controls.store.target[: len(REGISTRY)], strict=True):
        assert p.min <= v <= p.max, p.id
        if p.discrete:
            assert v == round(v)
