"""The chain slots of one engine: which plugins, in what order, their parameters, and how
a new chain reaches the callback without it ever waiting.

Slots (``rack_kernel.SLOT_NAMES``):

- ``voice``: the dry voice after the input strip, before the send to the worker;
- ``worker``: on the worker thread after the model insert (LV2 not safe for real time,
  VST3);
- ``master``: the master bus after the auto-mix, fader, bus compressor and width, right
  before the true-peak limiter (the auto-mix balances the sources, the plugins colour the
  sum, the limiter keeps whatever they add legal).

A change (add, remove, move, a preset's chains) builds and activates every new instance
on the caller's thread, writes the new chain into the bank the callback is not reading and
flips the bank between two blocks. Instances that left are deactivated and freed later,
once the callback (or the worker) has moved past them (:meth:`Rack.collect`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsp.errors import InputError
from engine.layout import (
    C_ATOM_CHUNK,
    C_RACK_BANK,
    C_RACK_ON,
    CONTROL_FRAMES,
    ST_BLOCKS,
    STATS_LEN,
)
from engine.plugins import catalog
from engine.plugins import rack_kernel as rk
from engine.plugins.host_features import ATOM_CHUNK, URIDS, HostFeatures
from engine.plugins.lv2_plugin import Lv2Plugin, PluginLoadError
from engine.plugins.vst3 import Vst3Plugin, is_vst3_path
from presets.registry import FX_BASE, N_PARAMS, Param, set_plugin_params

# an instance that left is freed at the latest this long after (the callback and the
# worker are then long past any block that could still have been running it)
RETIRE_S = 0.5


@dataclass
class Loaded:
    """A plugin in a slot and the parameter slots it holds (bypass first)."""

    plugin: Lv2Plugin | Vst3Plugin
    slots: list[int]
    rows: np.ndarray = field(default_factory=lambda: np.zeros((0, rk.N_FIELDS), np.int64))

    @property
    def bypass_slot(self) -> int:
        return self.slots[0]


def parse_spec(spec: str) -> tuple[str, str]:
    """``SLOT:URI|PATH`` (as ``--plugin`` takes it) -> (slot, name)."""
    slot, sep, name = spec.partition(":")
    if not sep or not name or slot not in rk.SLOT_NAMES:
        raise InputError(f"--plugin {spec!r}: expected SLOT:URI|PATH with SLOT one of "
                         f"{', '.join(rk.SLOT_NAMES)}")
    return slot, name


def check(slot: str, name: str, has_worker: bool):
    """Whether ``name`` can go in ``slot``, without building it: its LV2 description, or
    None for a VST3 file; InputError (PluginLoadError) saying why not otherwise. ``run``
    asks this of every plugin before it opens the audio device."""
    if slot not in rk.SLOT_NAMES:
        raise InputError(f"unknown plugin slot {slot!r}; choose one of "
                         f"{', '.join(rk.SLOT_NAMES)}")
    if is_vst3_path(name):
        if slot != "worker":
            raise PluginLoadError(f"{name}: VST3 plugins run in the worker slot "
                                  "(pedalboard is not real-time safe)")
        if not Path(name).exists():
            raise PluginLoadError(f"{name}: no such VST3 plugin")
        return None
    info = catalog.find(name)
    if not info.realtime and slot != "worker":
        raise PluginLoadError(f"{info.uri}: not hard real-time capable (no "
                              "lv2:hardRTCapable), so it cannot run in the audio "
                              "callback; put it in the worker slot")
    if slot == "worker" and not has_worker:
        raise PluginLoadError("the worker slot needs a worker path (not --insert none)")
    return info


def spec_name(item: dict) -> str:
    """The plugin a preset's chain item names: its LV2 URI or its VST3 path."""
    return item.get("uri") or item.get("path") or ""


def check_chains(chains: dict[str, list[dict]], has_worker: bool, lenient: bool) -> None:
    """:func:`check` on every plugin of a preset's ``plugins`` (``lenient``: the ones that
    would be dropped are left for the rack to drop and name)."""
    for slot, chain in chains.items():
        for item in chain:
            try:
                check(slot, spec_name(item), has_worker)
            except InputError:
                if not lenient:
                    raise


def param_ids(slot: str, position: int, plugin) -> list[str]:
    """The registry ids of a plugin at 1-based ``position`` of ``slot``: bypass first."""
    prefix = f"fx_{slot}{position}_"
    return [prefix + "bypass", *(prefix + c.symbol for c in plugin.controls)]


def _params(slot: str, position: int, plugin) -> list[Param]:
    ids = param_ids(slot, position, plugin)
    title = getattr(getattr(plugin, "info", None), "name", plugin.name)
    out = [Param(ids[0], f"{title}: bypass", "", 0.0, 1.0, 0.0, smoothing_ms=0.0,
                 discrete=True, clamp=True)]
    for pid, c in zip(ids[1:], plugin.controls, strict=True):
        discrete = c.toggled or c.integer or c.enumeration
        log = c.logarithmic and c.min > 0
        # host-side glides only where the port takes them: stepped and expensive ports jump
        smooth = 0.0 if discrete or c.expensive else 20.0
        out.append(Param(pid, f"{title}: {c.name}", c.unit, c.min, c.max, c.default,
                         "log" if log else "lin", smoothing_ms=smooth, discrete=discrete,
                         clamp=True, labels=c.labels))
    return out


class Rack:
    """The three chain slots of ``engine``."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.banks = rk.new_banks()
        self.features = HostFeatures(engine.sample_rate_hz, CONTROL_FRAMES,
                                     rk.ATOM_CAPACITY_BYTES)
        self.chains: dict[str, list[Loaded]] = {s: [] for s in rk.SLOT_NAMES}
        self.worker_chain: tuple[Loaded, ...] = ()  # what the worker thread runs
        self.worker_stats = np.zeros(STATS_LEN, dtype=np.int64)
        self._free = list(range(FX_BASE, N_PARAMS))
        self._retired: list[tuple[float, tuple[int, int], Loaded]] = []
        self._lock = threading.RLock()
        self._scratch = np.zeros((2, CONTROL_FRAMES), dtype=np.float32)
        self._closed: dict | None = None  # the last snapshot, once closed
        engine.config[C_ATOM_CHUNK] = URIDS.id(ATOM_CHUNK)

    # -- building ----------------------------------------------------------------------
    def load(self, slot: str, name: str):
        """Instantiate and activate ``name`` for ``slot`` (nothing changes in the rack)."""
        info = check(slot, name, self.engine.worker is not None)
        if info is None:
            return Vst3Plugin(name, self.engine.sample_rate_hz)
        return Lv2Plugin(info, self.features, CONTROL_FRAMES)

    def _hold(self, plugin, values: dict[str, float] | None, bypass: bool) -> Loaded:
        """Give ``plugin`` parameter slots and its values (symbol -> value)."""
        need = 1 + len(plugin.controls)
        if need > len(self._free):
            plugin.free()
            raise PluginLoadError(f"{plugin.name}: {need} parameters do not fit (room for "
                                  f"{len(self._free)} more plugin parameters)")
        slots = [self._free.pop(0) for _ in range(need)]
        symbols = {c.symbol for c in plugin.controls}
        unknown = sorted(set(values or {}) - symbols)
        if unknown:
            self._free = sorted(self._free + slots)
            plugin.free()
            raise PluginLoadError(f"{plugin.name}: no parameter {unknown[0]!r}")
        plugin.bind_params(slots[1:], slots[0])
        store = self.engine.params
        # the ids are placeholders until _commit names them by the plugin's place
        symbols = ["bypass", *(c.symbol for c in plugin.controls)]
        for s, p, symbol in zip(slots, _params("worker", 0, plugin), symbols, strict=True):
            value = 1.0 if symbol == "bypass" and bypass else (values or {}).get(symbol)
            store.define(s, p, value)
            self.engine.modulation.define(s, p)
            self.engine.effective[s] = store.target[s]
        loaded = Loaded(plugin, slots)
        if isinstance(plugin, Lv2Plugin):
            plugin.settle(store.current)
        return loaded

    # -- editing -----------------------------------------------------------------------
    def add(self, slot: str, name: str, values: dict[str, float] | None = None,
            bypass: bool = False, position: int | None = None) -> Loaded:
        """Load ``name`` into ``slot`` at 1-based ``position`` (default: the end)."""
        with self._lock:
            self.collect()
            chain = self.chains.get(slot)
            if chain is not None and len(chain) >= rk.MAX_PER_SLOT:
                raise PluginLoadError(f"the {slot} slot is full ({rk.MAX_PER_SLOT} plugins)")
            loaded = self._hold(self.load(slot, name), values, bypass)
            chain.insert(len(chain) if position is None else self._index(slot, position, 1),
                         loaded)
            self._commit()
            return loaded

    def remove(self, slot: str, position: int) -> Loaded:
        with self._lock:
            loaded = self.chains[slot].pop(self._index(slot, position))
            self._commit()
            self._retire(loaded)
            return loaded

    def move(self, slot: str, position: int, to: int) -> None:
        with self._lock:
            chain = self.chains[slot]
            loaded = chain.pop(self._index(slot, position))
            chain.insert(min(max(to, 1), len(chain) + 1) - 1, loaded)
            self._commit()

    def replace_all(self, specs: dict[str, list[dict]], lenient: bool = False) -> list[str]:
        """Make the chains ``specs`` (a preset's ``plugins``): every plugin is built first,
        so a failure leaves the running chains as they were (``lenient``: the failing
        plugin is dropped and named in the returned warnings)."""
        warnings: list[str] = []
        built: dict[str, list[Loaded]] = {s: [] for s in rk.SLOT_NAMES}
        with self._lock:
            self.collect()
            try:
                for slot, chain in specs.items():
                    for item in chain:
                        try:
                            loaded = self._hold(self.load(slot, spec_name(item)),
                                                item.get("values"),
                                                bool(item.get("bypass", False)))
                        except InputError as exc:
                            if not lenient:
                                raise
                            warnings.append(f"{slot} slot: dropped ({exc})")
                            continue
                        built[slot].append(loaded)
            except BaseException:
                for chain in built.values():
                    for loaded in chain:
                        self._release(loaded)
                raise
            old = [x for chain in self.chains.values() for x in chain]
            self.chains = built
            self._commit()
            for loaded in old:
                self._retire(loaded)
        return warnings

    def _index(self, slot: str, position: int, extra: int = 0) -> int:
        chain = self.chains.get(slot)
        if chain is None:
            raise InputError(f"unknown plugin slot {slot!r}; choose one of "
                             f"{', '.join(rk.SLOT_NAMES)}")
        if not 1 <= position <= len(chain) + extra:
            raise InputError(f"the {slot} slot has {len(chain)} plugins; no position "
                             f"{position}")
        return position - 1

    # -- publishing --------------------------------------------------------------------
    def _commit(self) -> None:
        """Name every plugin's parameters by its place, then hand the callback the new
        chains (the bank it is not reading, then the flip) and the worker its tuple."""
        defined: dict[int, Param] = {}
        config = self.engine.config
        bank = 1 - int(config[C_RACK_BANK])
        rows = self.banks[bank * rk.MAX_ENTRIES: (bank + 1) * rk.MAX_ENTRIES]
        rows[:] = 0
        rows[:, rk.E_SLOT] = rk.EMPTY
        k = 0
        for slot_index, slot in enumerate(rk.SLOT_NAMES):
            for position, loaded in enumerate(self.chains[slot], start=1):
                for s, p in zip(loaded.slots, _params(slot, position, loaded.plugin),
                                strict=True):
                    defined[s] = p
                if isinstance(loaded.plugin, Lv2Plugin):
                    loaded.rows = np.stack(loaded.plugin.entries(slot_index))
                    if slot != "worker":
                        rows[k: k + len(loaded.rows)] = loaded.rows
                        k += len(loaded.rows)
        set_plugin_params(defined)
        config[C_RACK_ON] = int(k > 0)
        config[C_RACK_BANK] = bank  # after the rows: the callback reads it first
        self.worker_chain = tuple(self.chains["worker"])

    def _retire(self, loaded: Loaded) -> None:
        self.engine.modulation.forget(set(loaded.slots))
        self._retired.append((time.monotonic(), self._clocks(), loaded))
        self.collect()

    def _clocks(self) -> tuple[int, int]:
        """Blocks the callback and the worker have finished so far."""
        worker = self.engine.worker
        return int(self.engine.stats[ST_BLOCKS]), (worker.blocks if worker else 0)

    def _release(self, loaded: Loaded) -> None:
        loaded.plugin.free()
        self._free = sorted(self._free + loaded.slots)

    def collect(self, force: bool = False) -> int:
        """Free the instances that left, once nothing can still be running them: the
        callback (and the worker) finished two blocks since (the block in progress at the
        swap, then one that read the new chain), or ``RETIRE_S`` passed (a stopped
        stream counts no blocks). Returns how many were freed."""
        now, (blocks, worker_blocks) = time.monotonic(), self._clocks()
        keep, done = [], 0
        for t, (b, w), loaded in self._retired:
            passed = blocks >= b + 2 and (self.engine.worker is None or worker_blocks >= w + 2)
            if force or passed or now - t >= RETIRE_S:
                self._release(loaded)
                done += 1
            else:
                keep.append((t, (b, w), loaded))
        self._retired = keep
        return done

    def close(self) -> None:
        """Free everything (after the stream and the worker have stopped); the stats keep
        what the chains were (:meth:`snapshot`)."""
        with self._lock:
            if self._closed is None:
                self._closed = self.snapshot()
            old = [x for chain in self.chains.values() for x in chain]
            self.chains = {s: [] for s in rk.SLOT_NAMES}
            self._commit()
            for loaded in old:
                self._retired.append((0.0, (0, 0), loaded))
            self.collect(force=True)
            set_plugin_params({})

    # -- the worker slot ---------------------------------------------------------------
    def run_worker(self, y: np.ndarray) -> np.ndarray:
        """The worker slot's chain on the worker's output ``y (2, n)`` (worker thread)."""
        chain = self.worker_chain
        if not chain:
            return y
        x = np.array(y, dtype=np.float32, order="C")
        p = self.engine.params.current
        chunk = int(self.engine.config[C_ATOM_CHUNK])
        for loaded in chain:
            plugin = loaded.plugin
            if plugin.faulted or p[loaded.bypass_slot] >= 0.5:
                continue
            if isinstance(plugin, Lv2Plugin):
                for start in range(0, x.shape[1], CONTROL_FRAMES):
                    n = min(CONTROL_FRAMES, x.shape[1] - start)
                    self._scratch[:, :n] = x[:, start: start + n]
                    rk.run_rows(loaded.rows, rk.SLOT_WORKER, self._scratch, n, p,
                                self.worker_stats, chunk)
                    x[:, start: start + n] = self._scratch[:, :n]
            else:
                out = np.asarray(plugin.process(x, p), dtype=np.float32)
                if out.shape != x.shape or not np.all(np.isfinite(out)):
                    plugin.status[:2] += 1
                    continue
                x[:] = out
        return x

    # -- reading -----------------------------------------------------------------------
    def latency_frames(self, slot: str) -> int:
        return sum(x.plugin.latency_frames for x in self.chains[slot])

    def describe(self) -> dict[str, list[dict]]:
        """Each slot's chain as a preset stores it: source, bypass and every value."""
        target = self.engine.params.target
        out: dict[str, list[dict]] = {}
        for slot, chain in self.chains.items():
            items = []
            for loaded in chain:
                plugin = loaded.plugin
                key = "uri" if plugin.format == "lv2" else "path"
                items.append({key: plugin.name,
                              "bypass": bool(target[loaded.bypass_slot] >= 0.5),
                              "values": {c.symbol: float(target[s]) for c, s in
                                         zip(plugin.controls, loaded.slots[1:], strict=True)}})
            if items:
                out[slot] = items
        return out

    def snapshot(self) -> dict:
        """For the stats: each slot's plugins, their latency and faults."""
        if self._closed is not None:
            return self._closed
        return {"slots": {slot: [dict(x.plugin.describe(), position=k) for k, x in
                                 enumerate(chain, start=1)]
                          for slot, chain in self.chains.items() if chain},
                "faulted_plugins": sum(x.plugin.faulted for c in self.chains.values()
                                       for x in c),
                "latency_frames": {s: self.latency_frames(s) for s in rk.SLOT_NAMES},
                "log": self.features.log_summary()}
