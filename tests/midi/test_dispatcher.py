"""MidiDispatcher without ports: tap tempo from a mapped button, timed by arrival stamps."""

from __future__ import annotations

import pytest

from midi.dispatcher import TAP_TARGET, MidiDispatcher
from midi.mapping import Mapping, MappingTable

from .stand_in import StoreControls


def _dispatcher(*mappings: Mapping) -> MidiDispatcher:
    return MidiDispatcher(StoreControls(), MappingTable(list(mappings)))


def _tempo(d: MidiDispatcher) -> float:
    from presets.registry import INDEX

    return float(d.controls.store.target[INDEX["tempo_bpm"]])


@pytest.mark.parametrize("period_s,bpm", [(0.5, 120.0), (0.4, 150.0), (1.0, 60.0)])
def test_a_pad_mapped_to_tap_tempo_sets_the_tempo(period_s, bpm):
    d = _dispatcher(Mapping(TAP_TARGET, "note_gate", 40, channel=9))
    for k in range(4):
        t_ns = int(k * period_s * 1e9)
        d.handle([0x99, 40, 100], t_ns)  # press: a tap
        d.handle([0x89, 40, 0], t_ns + 50_000_000)  # release: not a tap
    assert _tempo(d) == pytest.approx(bpm, abs=0.01)


def test_a_cc_button_taps_only_on_its_press():
    d = _dispatcher(Mapping(TAP_TARGET, "cc", 64))
    t = 0
    for value in (127, 127, 0, 127, 0, 127):  # a held button sending repeats taps once
        d.handle([0xB0, 64, value], t)
        t += 250_000_000
    # presses at 0, 0.75 and 1.25 s: the least-squares period is 0.625 s, 96 BPM (the
    # repeat at 0.25 s, had it tapped, would give 0.42 s)
    assert _tempo(d) == pytest.approx(96.0, abs=0.01)
    first = _dispatcher(Mapping(TAP_TARGET, "cc", 64))
    first.handle([0xB0, 64, 127], 0)
    assert _tempo(first) == 120.0  # one tap is no tempo yet: the default stays
