"""Fixtures for the MIDI tests: a JACK rig with a virtual source feeding a MidiThread."""

from __future__ import annotations

import itertools
import os
import time

import pytest

from engine.params import ParameterStore
from midi.dispatcher import MidiDispatcher
from midi.mapping import MappingTable
from midi.ports import open_output
from midi.thread import MidiThread

from .stand_in import StoreControls

_ids = itertools.count()


def unique_client(prefix: str) -> str:
    """A JACK client name no other test (or test run) uses at the same time."""
    return f"{prefix}-{os.getpid()}-{next(_ids)}"


class Rig:
    """A virtual JACK MIDI output -> our MidiThread -> dispatcher -> ParameterStore."""

    def __init__(self, **dispatcher_kwargs) -> None:
        self.store = ParameterStore(48000)
        table = dispatcher_kwargs.pop("table", None)
        self.table = MappingTable() if table is None else table  # an empty table is falsy
        self.dispatcher = MidiDispatcher(StoreControls(self.store), self.table, **dispatcher_kwargs)
        self.source = open_output("src", virtual=True, client_name=unique_client("mm-src"))
        self.thread = MidiThread(self.dispatcher, port=self.source.name,
                                 client_name=unique_client("mm-in")).start()
        assert self.thread.connected, f"did not connect to {self.source.name}"

    def send(self, *messages, timeout_s: float = 2.0) -> None:
        """Send raw messages and wait until the MIDI thread has handled all of them."""
        expected = self.dispatcher.messages + len(messages)
        for m in messages:
            self.source.send(m)
        deadline = time.perf_counter() + timeout_s
        while self.dispatcher.messages < expected:
            if time.perf_counter() > deadline:
                raise AssertionError(f"handled {self.dispatcher.messages} of {expected} "
                                     "messages within the timeout")
            time.sleep(0.0005)

    def value(self, target: str) -> float:
        from presets.registry import INDEX

        return float(self.store.target[INDEX[target]])

    def close(self) -> None:
        self.thread.stop()
        self.source.close()


@pytest.fixture
def rig_factory(jack_server):
    """Build Rigs (with dispatcher options); all are closed after the test."""
    rigs: list[Rig] = []

    def make(**kwargs) -> Rig:
        rig = Rig(**kwargs)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


@pytest.fixture
def rig(rig_factory) -> Rig:
    """A Rig with an empty mapping table and no callbacks."""
    return rig_factory()
