"""Ports: backend names, name matching, virtual ports, and surviving a port that goes away."""

from __future__ import annotations

import logging
import time

import mido
import pytest

from midi.ports import (
    BACKENDS,
    PortError,
    PortWatcher,
    list_inputs,
    list_outputs,
    match_port,
    open_input,
    open_output,
    resolve_backend,
    use_backend,
)

from .stand_in import StoreControls

NAMES = ["system:midi_capture_1", "a2j:Launch Control XL [24] (capture): Launch Control XL",
         "a2j:nanoKONTROL2 [28] (capture): nanoKONTROL2 MIDI 1"]


def test_backend_flags():
    assert resolve_backend("jack") == "mido.backends.rtmidi/UNIX_JACK"
    assert resolve_backend("alsa") == "mido.backends.rtmidi/LINUX_ALSA"
    assert resolve_backend(BACKENDS["jack"]) == BACKENDS["jack"]
    with pytest.raises(PortError, match="unknown MIDI backend 'coreaudio'"):
        resolve_backend("coreaudio")
    previous = mido.backend
    try:
        assert use_backend("jack") == BACKENDS["jack"]
        assert mido.backend.name == "mido.backends.rtmidi" and mido.backend.api == "UNIX_JACK"
    finally:
        mido.backend = previous


def test_match_port():
    assert match_port(NAMES[0], NAMES) == NAMES[0]
    assert match_port("Launch Control", NAMES) == NAMES[1]
    assert match_port("nanokontrol", NAMES) == NAMES[2]  # case-insensitive fallback
    with pytest.raises(PortError, match="ambiguous"):
        match_port("a2j", NAMES)
    with pytest.raises(PortError, match="no MIDI port matches 'Push'; available: system"):
        match_port("Push", NAMES)


@pytest.mark.jack
def test_virtual_ports_list_open_and_close(jack_server):
    with open_output("vout", virtual=True, client_name="mm-ports-a") as out:
        assert out.name == "mm-ports-a:vout"
        assert out.name in list_inputs("jack")
        with open_input("mm-ports-a:vout", client_name="mm-ports-b") as inp:
            out.send([0xB0, 1, 2])
            out.send(mido.Message("note_on", note=60, velocity=1))
            assert inp.receive(timeout_s=1.0) == [0xB0, 1, 2]
            assert inp.receive(timeout_s=1.0) == [0x90, 60, 1]
            assert inp.receive(timeout_s=0.05) is None
        assert inp.closed and inp.read() is None
        with open_input("vin", virtual=True, client_name="mm-ports-c") as vin:
            assert vin.name in list_outputs("jack")
    assert out.closed
    out.send([0xB0, 1, 2])  # sending on a closed port is a no-op, not a crash
    with pytest.raises(PortError, match="no MIDI port matches"):
        open_input("no such port anywhere", client_name="mm-ports-d")


@pytest.mark.jack
def test_watcher_reports_loss_and_reconnects(jack_server, caplog):
    events = []
    src = open_output("gone", virtual=True, client_name="mm-watch-src")
    watcher = PortWatcher("mm-watch-src:gone", interval_s=0.05, client_name="mm-watch",
                          on_connect=lambda p: events.append(("connect", p.name)),
                          on_disconnect=lambda n: events.append(("lost", n)))
    with caplog.at_level(logging.WARNING, logger="midi.ports"), watcher:
        assert events == [("connect", "mm-watch-src:gone")]
        src.close()
        _wait(lambda: len(events) == 2)
        assert events[1] == ("lost", "mm-watch-src:gone") and watcher.port is None
        time.sleep(0.2)  # keeps running with nothing to connect to
        assert watcher._thread.is_alive()
        src = open_output("gone", virtual=True, client_name="mm-watch-src")
        _wait(lambda: len(events) == 3)
        assert events[2] == ("connect", "mm-watch-src:gone") and watcher.reconnects == 1
        src.send([0xB0, 7, 7])
        assert watcher.port.receive(timeout_s=1.0) == [0xB0, 7, 7]
    src.close()
    assert "disappeared" in caplog.text and "is back" in caplog.text


@pytest.mark.jack
def test_midi_thread_survives_unplug_and_replug(jack_server):
    from engine.params import ParameterStore
    from midi.dispatcher import MidiDispatcher
    from midi.mapping import Mapping, MappingTable
    from midi.thread import MidiThread

    store = ParameterStore(48000)
    m = Mapping("stem_worker_pan", "cc", 10)
    d = MidiDispatcher(StoreControls(store), MappingTable([m]))
    changes = []
    thread = MidiThread(d, port="mm-replug:knobs", client_name="mm-replug-in",
                        watch_interval_s=0.05, on_port=lambda n, c: changes.append(c))
    with thread:
        assert not thread.connected  # not plugged in yet: waits, no error
        src = open_output("knobs", virtual=True, client_name="mm-replug")
        _wait(lambda: thread.connected)
        src.send([0xB0, 10, 127])
        _wait(lambda: store.target[_slot()] == 1.0)
        src.close()
        _wait(lambda: not thread.connected)
        src = open_output("knobs", virtual=True, client_name="mm-replug")
        _wait(lambda: thread.connected)
        src.send([0xB0, 10, 0])
        _wait(lambda: store.target[_slot()] == -1.0)
        src.close()
    assert changes[:3] == [True, False, True]


def _slot() -> int:
    from presets.registry import INDEX

    return INDEX["stem_worker_pan"]


def _wait(cond, timeout_s: float = 3.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while not cond():
        if time.perf_counter() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
