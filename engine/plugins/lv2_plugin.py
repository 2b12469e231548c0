"""One LV2 plugin in a chain slot: its instance(s), the buffers every port is connected
to, and the rack entries that let the callback run it.

A plugin with one audio input and one output runs as two instances on a stereo slot (left
and right, as hosts do); both read the same control cells. Every port is connected once,
here, to memory this object owns, so the callback never calls ``connect_port``:

- main audio ports to the instance's input/output rows, side-chains to silence;
- control ports (in and out) to one float cell each, which the callback fills from the
  parameter array before each run (outputs are meters, latency among them);
- atom inputs to a valid empty sequence, atom outputs to a buffer reset to an empty
  chunk before each run; CV inputs to silence, other outputs to scratch.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from dsp.errors import InputError
from engine.plugins import rack_kernel as rk
from engine.plugins.catalog import PluginInfo
from engine.plugins.host_features import (
    ATOM_CHUNK,
    ATOM_SEQUENCE,
    URIDS,
    HostFeatures,
    missing_features,
)
from engine.plugins.lilv_api import LilvInstance, lib

# silence run through a new plugin before it plays: its parameter glides arrive
SETTLE_S = 0.1


class PluginLoadError(InputError):
    """A plugin that cannot be used here; the message names it and says why."""


def _instantiate(plugin: int, rate_hz: float, features) -> int:
    """``lilv_plugin_instantiate`` on a thread of its own. Loading a plugin binary runs its
    constructors, and a binary built with -ffast-math sets flush-to-zero in the floating
    point state of the thread that loads it; that state is per thread, so a throwaway
    thread keeps it out of ours."""
    result = [0]

    def load() -> None:
        result[0] = lib.lilv_plugin_instantiate(plugin, rate_hz, features)

    thread = threading.Thread(target=load, name="musicmill-lv2-load")
    thread.start()
    thread.join()
    return result[0] or 0


def _buffer(frames: int) -> np.ndarray:
    return np.zeros(frames, dtype=np.float32)


class _Instance:
    """One ``LilvInstance`` and the buffers its ports are connected to."""

    def __init__(self, info: PluginInfo, features: HostFeatures, cells: np.ndarray,
                 frames: int) -> None:
        self.info = info
        ptr = _instantiate(info.handle, float(features._rate.value), features.array)
        if not ptr:
            raise PluginLoadError(f"{info.uri}: the plugin failed to instantiate")
        self._ptr = ptr
        self.active = False
        inst = ctypes.cast(ptr, ctypes.POINTER(LilvInstance)).contents
        self._desc = inst.descriptor.contents
        self.handle = int(inst.handle or 0)
        self.run_address = int(self._desc.run or 0)
        if not self.run_address:
            self.free()
            raise PluginLoadError(f"{info.uri}: the plugin has no run function")
        ins, outs = info.audio(True), info.audio(False)
        self.ins = np.zeros((max(1, len(ins)), frames), dtype=np.float32)
        self.outs = np.zeros((max(1, len(outs)), frames), dtype=np.float32)
        self._silence, self._scratch = _buffer(frames), _buffer(frames)
        self._keep: list[np.ndarray] = []  # atom buffers, alive as long as the instance
        self.atom_outs: list[tuple[int, int]] = []  # (address, bytes)
        rows = {p.index: (self.ins, k) for k, p in enumerate(ins)}
        rows.update({p.index: (self.outs, k) for k, p in enumerate(outs)})
        for port in info.ports:
            self._connect(port, rows, cells)
        self.atom_out_addresses = np.array(self.atom_outs or [(0, 0)], dtype=np.int64)

    def _connect(self, port, rows, cells) -> None:
        if port.index in rows:
            array, row = rows[port.index]
            address = array[row].ctypes.data
        elif port.kind == "control":
            address = cells.ctypes.data + 4 * port.index
        elif port.kind == "audio" or port.kind == "cv":
            address = (self._silence if port.is_input else self._scratch).ctypes.data
        elif port.kind == "atom":
            size = max(rk.ATOM_CAPACITY_BYTES, port.min_buffer_bytes)
            if size > rk.ATOM_MAX_BYTES:
                self.free()
                raise PluginLoadError(f"{self.info.uri}: port {port.symbol!r} asks for a "
                                      f"{size}-byte buffer (this host gives at most "
                                      f"{rk.ATOM_MAX_BYTES})")
            atom = np.zeros((size + 7) // 8 * 2, dtype=np.int32)
            atom[:] = 0  # touch every page now, not on the audio thread
            self._keep.append(atom)
            if port.is_input:  # an empty sequence: body is (unit, pad)
                atom[:4] = (8, URIDS.id(ATOM_SEQUENCE), 0, 0)
            else:
                self.atom_outs.append((atom.ctypes.data, 4 * atom.shape[0]))
            address = atom.ctypes.data
        elif port.optional:
            address = None
        else:
            self.free()
            raise PluginLoadError(f"{self.info.uri}: port {port.symbol!r} is of a kind this "
                                  "host does not connect")
        self._desc.connect_port(self.handle, port.index, address)

    def activate(self) -> None:
        if not self.active and self._desc.activate:
            self._desc.activate(self.handle)
        self.active = True

    def deactivate(self) -> None:
        if self.active and self._desc.deactivate:
            self._desc.deactivate(self.handle)
        self.active = False

    def free(self) -> None:
        if self._ptr:
            self.deactivate()
            lib.lilv_instance_free(self._ptr)
            self._ptr = 0


class Lv2Plugin:
    """A plugin ready for a slot: instantiated, connected and activated off the audio
    thread. ``frames``: the longest run it will be given."""

    format = "lv2"

    def __init__(self, info: PluginInfo, features: HostFeatures, frames: int) -> None:
        missing = missing_features(info.required_features)
        if missing:
            raise PluginLoadError(f"{info.uri}: needs host features this host does not "
                                  f"provide: {', '.join(missing)}")
        self.info = info
        self.name = info.uri
        self.frames = frames
        self.features = features
        self.controls = info.controls
        self.cells = np.zeros(max(1, len(info.ports)), dtype=np.float32)
        for p in self.controls:
            self.cells[p.index] = p.default
        self.status = np.zeros(rk.STATUS_LEN, dtype=np.int64)
        self.cin = np.zeros((max(1, len(self.controls)), 2), dtype=np.int64)
        self.cin[: len(self.controls), 0] = [p.index for p in self.controls]
        n_in, n_out = len(info.audio(True)), len(info.audio(False))
        self.dual_mono = n_in == 1 and n_out == 1
        self.instances: list[_Instance] = []
        try:
            for _ in range(2 if self.dual_mono else 1):
                self.instances.append(_Instance(info, features, self.cells, frames))
            for inst in self.instances:
                inst.activate()
        except BaseException:
            self.free()
            raise
        self.latency_frames = 0

    def bind_params(self, slots: list[int], bypass_slot: int) -> None:
        """Each control input reads parameter ``slots[k]``; bypass reads ``bypass_slot``."""
        self.cin[: len(self.controls), 1] = slots
        self.bypass_slot = bypass_slot

    def entries(self, slot: int) -> list[np.ndarray]:
        """The rack rows for this plugin's instance(s) in ``slot``."""
        rows = []
        for k, inst in enumerate(self.instances):
            e = np.zeros(rk.N_FIELDS, dtype=np.int64)
            e[rk.E_SLOT] = slot
            e[rk.E_RUN], e[rk.E_HANDLE] = inst.run_address, inst.handle
            e[rk.E_CHANNEL] = k if self.dual_mono else rk.STEREO
            e[rk.E_N_IN] = len(self.info.audio(True))
            e[rk.E_N_OUT] = len(self.info.audio(False))
            e[rk.E_IN], e[rk.E_OUT] = inst.ins.ctypes.data, inst.outs.ctypes.data
            e[rk.E_CELLS], e[rk.E_N_CELLS] = self.cells.ctypes.data, self.cells.shape[0]
            e[rk.E_CIN], e[rk.E_N_CIN] = self.cin.ctypes.data, len(self.controls)
            e[rk.E_ATOM_OUT] = inst.atom_out_addresses.ctypes.data
            e[rk.E_N_ATOM_OUT] = len(inst.atom_outs)
            e[rk.E_BYPASS_SLOT] = self.bypass_slot
            e[rk.E_STATUS] = self.status.ctypes.data
            e[rk.E_FRAMES] = self.frames
            rows.append(e)
        return rows

    def settle(self, values: np.ndarray) -> int:
        """Run ``SETTLE_S`` of silence at ``values`` (off the audio thread), so that the
        plugin's own parameter smoothing has arrived before it plays (as our kernels start
        settled), then read its latency port; returns the latency in frames."""
        x = np.zeros((2, self.frames), dtype=np.float32)
        chunk = URIDS.id(ATOM_CHUNK)
        rate = float(self.features._rate.value)
        entries = self.entries(rk.SLOT_WORKER)
        for _ in range(max(1, int(SETTLE_S * rate) // self.frames)):
            for e in entries:
                rk.run_entry(e, x, self.frames, values, chunk)
            x[:] = 0.0
        port = self.info.latency_port
        if port is not None:
            self.latency_frames = max(0, int(round(float(self.cells[port.index]))))
        return self.latency_frames

    @property
    def faulted(self) -> bool:
        return bool(self.status[rk.S_FAULT])

    def describe(self) -> dict:
        return {"format": "lv2", "uri": self.info.uri, "name": self.info.name,
                "latency_frames": self.latency_frames, "faulted": self.faulted,
                "nonfinite_blocks": int(self.status[rk.S_NONFINITE])}

    def free(self) -> None:
        for inst in self.instances:
            inst.free()
        self.instances = []
