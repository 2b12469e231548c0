"""The control API's MIDI side over a bare ParameterStore, for tests without an engine."""

from __future__ import annotations

from engine.params import ParameterStore
from presets.registry import INDEX


class StoreControls:
    """``midi.dispatcher.Controls`` over ``store``: no engine, so no macro to release."""

    def __init__(self, store: ParameterStore | None = None) -> None:
        self.store = store if store is not None else ParameterStore(48000)

    def target(self, id_: str) -> float:
        return float(self.store.target[INDEX[id_]])

    def set(self, id_: str, value: float) -> bool:
        self.store.set(id_, value)
        return False
