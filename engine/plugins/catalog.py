"""The installed LV2 plugins, described through lilv: what ``plugins list|info`` print and
what the rack builds instances from.

One lilv world per process, loaded on first use (a second or so with large collections
such as LSP). A plugin is named by its URI, or by the path of its ``.lv2`` bundle folder.
"""

from __future__ import annotations

import ctypes
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from dsp.errors import InputError, did_you_mean
from engine.plugins.lilv_api import iterate, lib, number, text

LV2 = "http://lv2plug.in/ns/lv2core#"
ATOM = "http://lv2plug.in/ns/ext/atom#"
PPROPS = "http://lv2plug.in/ns/ext/port-props#"
UNITS = "http://lv2plug.in/ns/extensions/units#"
HARD_RT = LV2 + "hardRTCapable"
RESIZE_MIN = "http://lv2plug.in/ns/ext/resize-port#minimumSize"
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^/\\]|^[A-Za-z][A-Za-z0-9+.-]*://")
# unit URIs (units:) as the registry writes them
UNIT_SYMBOLS = {"db": "dB", "hz": "Hz", "khz": "kHz", "ms": "ms", "s": "s", "pc": "%",
                "bpm": "BPM", "semitone12TET": "st", "cent": "ct", "degree": "deg",
                "oct": "oct", "frame": "frames", "coef": "", "midiNote": "note"}


@dataclass(frozen=True)
class PortInfo:
    """One port: its kind and, for controls, range, unit and how values step."""

    index: int
    symbol: str
    name: str
    kind: str  # audio, control, atom, cv or other
    is_input: bool
    min: float = 0.0
    max: float = 1.0
    default: float = 0.0
    unit: str = ""
    toggled: bool = False
    integer: bool = False
    enumeration: bool = False
    logarithmic: bool = False
    expensive: bool = False
    reports_latency: bool = False
    optional: bool = False
    sidechain: bool = False
    labels: tuple[tuple[float, str], ...] = ()
    min_buffer_bytes: int = 0  # rsz:minimumSize of an atom port

    @property
    def value_kind(self) -> str:
        """toggle, enumeration, integer, logarithmic or linear."""
        if self.toggled:
            return "toggle"
        if self.enumeration:
            return "enumeration"
        if self.integer:
            return "integer"
        return "logarithmic" if self.logarithmic and self.min > 0 else "linear"


@dataclass(frozen=True)
class PluginInfo:
    """What the host knows of a plugin before loading its binary."""

    uri: str
    name: str
    plugin_class: str
    bundle: str
    ports: tuple[PortInfo, ...]
    required_features: tuple[str, ...]
    realtime: bool  # lv2:hardRTCapable: safe to run in the audio callback
    handle: int = field(default=0, repr=False, compare=False)  # the LilvPlugin*

    def audio(self, is_input: bool) -> list[PortInfo]:
        """The main audio ports one way (side-chain inputs left out)."""
        return [p for p in self.ports if p.kind == "audio" and p.is_input == is_input
                and not p.sidechain]

    @property
    def controls(self) -> list[PortInfo]:
        return [p for p in self.ports if p.kind == "control" and p.is_input]

    @property
    def latency_port(self) -> PortInfo | None:
        return next((p for p in self.ports if p.reports_latency and not p.is_input), None)

    def summary(self) -> dict:
        return {"format": "lv2", "uri": self.uri, "name": self.name,
                "class": self.plugin_class, "audio_ins": len(self.audio(True)),
                "audio_outs": len(self.audio(False)), "controls": len(self.controls),
                "realtime": self.realtime}


class _World:
    """The process's lilv world, its interned URI nodes and the plugins described so far."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # lilv's world is not thread-safe
        self.world = 0
        self._nodes: dict[str, int] = {}
        self._described: dict[str, PluginInfo] = {}

    def node(self, uri: str) -> int:
        if uri not in self._nodes:
            self._nodes[uri] = lib.lilv_new_uri(self.world, uri.encode())
        return self._nodes[uri]

    def open(self) -> int:
        with self._lock:
            if not self.world:
                self.world = lib.lilv_world_new()
                lib.lilv_world_load_all(self.world)
            return self.world

    def plugins(self) -> int:
        return lib.lilv_world_get_all_plugins(self.open())

    def load_bundle(self, path: Path) -> None:
        with self._lock:
            world = self.open()
            uri = lib.lilv_new_file_uri(world, None, (str(path.resolve()) + "/").encode())
            lib.lilv_world_load_bundle(world, uri)
            lib.lilv_node_free(uri)

    def names(self) -> list[tuple[str, str]]:
        """(uri, name) of every plugin, by name: quick (no ports read)."""
        with self._lock:
            out = []
            plugins = self.plugins()
            for p in iterate(plugins, lib.lilv_plugins_begin, lib.lilv_plugins_is_end,
                             lib.lilv_plugins_get, lib.lilv_plugins_next):
                node = lib.lilv_plugin_get_name(p)
                out.append((text(lib.lilv_plugin_get_uri(p)), text(node)))
                lib.lilv_node_free(node)
            return sorted(out, key=lambda un: (un[1].lower(), un[0]))

    def all_uris(self) -> list[str]:
        with self._lock:
            return self._all_uris()

    def _all_uris(self) -> list[str]:
        plugins = self.plugins()
        return sorted(text(lib.lilv_plugin_get_uri(p)) for p in iterate(
            plugins, lib.lilv_plugins_begin, lib.lilv_plugins_is_end, lib.lilv_plugins_get,
            lib.lilv_plugins_next))

    def describe(self, uri: str) -> PluginInfo:
        with self._lock:
            return self._describe_locked(uri)

    def _describe_locked(self, uri: str) -> PluginInfo:
        if uri in self._described:
            return self._described[uri]
        plugin = lib.lilv_plugins_get_by_uri(self.plugins(), self.node(uri))
        if not plugin:
            raise InputError(f"no LV2 plugin {uri!r} is installed"
                             f"{did_you_mean(uri, self.all_uris())} (see musicmill plugins list)")
        info = _describe(self, plugin, uri)
        self._described[uri] = info
        return info


_WORLD = _World()


def world() -> _World:
    return _WORLD


def find(name: str) -> PluginInfo:
    """An LV2 plugin by URI or by its bundle folder (InputError naming it otherwise)."""
    path = Path(name)
    # a URI has a scheme (http://..., urn:...); anything else, or an existing folder, is a path
    if path.exists() or not _URI_SCHEME.match(name):
        if not path.exists():
            raise InputError(f"{name}: no such plugin file or folder, and not a plugin URI")
        if not path.is_dir() or not (path / "manifest.ttl").is_file():
            raise InputError(f"{name}: not an LV2 bundle (a folder with a manifest.ttl)")
        before = set(_WORLD.all_uris())
        _WORLD.load_bundle(path)
        bundle = path.resolve().as_uri().rstrip("/") + "/"
        uris = [u for u in _WORLD.all_uris()
                if u not in before or _WORLD.describe(u).bundle == bundle]
        if len(uris) != 1:
            listing = ", ".join(uris) if uris else "none"
            raise InputError(f"{name}: the bundle holds {len(uris)} plugins ({listing}); "
                             "name one by its URI")
        name = uris[0]
    return _WORLD.describe(name)


def names() -> list[tuple[str, str]]:
    """(uri, name) of every installed LV2 plugin, by name (the window's list)."""
    return _WORLD.names()


def installed() -> list[PluginInfo]:
    """Every installed LV2 plugin, by URI."""
    return [_WORLD.describe(u) for u in _WORLD.all_uris()]


def _describe(w: _World, plugin: int, uri: str) -> PluginInfo:
    name_node = lib.lilv_plugin_get_name(plugin)
    name = text(name_node)
    lib.lilv_node_free(name_node)
    cls = text(lib.lilv_plugin_class_get_label(lib.lilv_plugin_get_class(plugin)))
    features = lib.lilv_plugin_get_required_features(plugin)
    required = tuple(text(n) for n in iterate(features, lib.lilv_nodes_begin,
                                              lib.lilv_nodes_is_end, lib.lilv_nodes_get,
                                              lib.lilv_nodes_next))
    lib.lilv_nodes_free(features)
    ports = tuple(_port(w, plugin, i) for i in range(lib.lilv_plugin_get_num_ports(plugin)))
    return PluginInfo(uri=uri, name=name, plugin_class=cls,
                      bundle=text(lib.lilv_plugin_get_bundle_uri(plugin)), ports=ports,
                      required_features=required,
                      realtime=bool(lib.lilv_plugin_has_feature(plugin, w.node(HARD_RT))),
                      handle=plugin)


def _port(w: _World, plugin: int, index: int) -> PortInfo:
    port = lib.lilv_plugin_get_port_by_index(plugin, index)

    def is_a(uri: str) -> bool:
        return bool(lib.lilv_port_is_a(plugin, port, w.node(uri)))

    def has(uri: str) -> bool:
        return bool(lib.lilv_port_has_property(plugin, port, w.node(uri)))

    kind = next((k for k, u in (("audio", LV2 + "AudioPort"), ("control", LV2 + "ControlPort"),
                                ("atom", ATOM + "AtomPort"), ("cv", LV2 + "CVPort"))
                 if is_a(u)), "other")
    name_node = lib.lilv_port_get_name(plugin, port)
    name = text(name_node)
    lib.lilv_node_free(name_node)
    common = dict(index=index, symbol=text(lib.lilv_port_get_symbol(plugin, port)), name=name,
                  kind=kind, is_input=is_a(LV2 + "InputPort"),
                  optional=has(LV2 + "connectionOptional"), sidechain=has(LV2 + "isSideChain"),
                  reports_latency=has(LV2 + "reportsLatency"))
    if kind == "atom":
        size = lib.lilv_port_get(plugin, port, w.node(RESIZE_MIN))
        common["min_buffer_bytes"] = int(number(size) or 0)
        if size:
            lib.lilv_node_free(size)
    if kind != "control":
        return PortInfo(**common)
    d, lo, hi = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
    lib.lilv_port_get_range(plugin, port, ctypes.byref(d), ctypes.byref(lo), ctypes.byref(hi))
    default, low, high = number(d.value), number(lo.value), number(hi.value)
    for n in (d, lo, hi):
        if n.value:
            lib.lilv_node_free(n.value)
    low = 0.0 if low is None else low
    high = max(1.0, low + 1.0) if high is None or high <= low else high
    default = low if default is None else min(high, max(low, default))
    unit_node = lib.lilv_port_get(plugin, port, w.node(UNITS + "unit"))
    unit_uri = text(unit_node) if unit_node and lib.lilv_node_is_uri(unit_node) else ""
    if unit_node:
        lib.lilv_node_free(unit_node)
    unit = UNIT_SYMBOLS.get(unit_uri.rsplit("#", 1)[-1], "") if unit_uri.startswith(UNITS) \
        else ""
    return PortInfo(**common, min=low, max=high, default=default, unit=unit,
                    toggled=has(LV2 + "toggled"), integer=has(LV2 + "integer"),
                    enumeration=has(LV2 + "enumeration"),
                    logarithmic=has(PPROPS + "logarithmic"), expensive=has(PPROPS + "expensive"),
                    labels=_labels(plugin, port))


def _labels(plugin: int, port: int) -> tuple[tuple[float, str], ...]:
    points = lib.lilv_port_get_scale_points(plugin, port)
    if not points:
        return ()
    out = sorted((number(lib.lilv_scale_point_get_value(sp)) or 0.0,
                  text(lib.lilv_scale_point_get_label(sp)))
                 for sp in iterate(points, lib.lilv_scale_points_begin,
                                   lib.lilv_scale_points_is_end, lib.lilv_scale_points_get,
                                   lib.lilv_scale_points_next))
    lib.lilv_scale_points_free(points)
    return tuple(out)
