"""ctypes declarations of the part of lilv (Debian's ``liblilv-0-0``) the host uses.

lilv reads the LV2 world (bundles under ``LV2_PATH``), describes plugins and their ports
and loads their binaries. Everything here runs off the audio thread: the callback only
ever calls a plugin's own ``run`` through its C function pointer (``rack_kernel.py``).
"""

from __future__ import annotations

import ctypes
import ctypes.util

from dsp.errors import InputError

P = ctypes.c_void_p
_STR = ctypes.c_char_p
_BOOL = ctypes.c_bool
_U32 = ctypes.c_uint32

# (name, return type, argument types)
_SIGNATURES: tuple[tuple[str, object, list], ...] = (
    ("lilv_world_new", P, []),
    ("lilv_world_free", None, [P]),
    ("lilv_world_load_all", None, [P]),
    ("lilv_world_load_bundle", None, [P, P]),
    ("lilv_world_get_all_plugins", P, [P]),
    ("lilv_plugins_size", ctypes.c_uint, [P]),
    ("lilv_plugins_begin", P, [P]),
    ("lilv_plugins_next", P, [P, P]),
    ("lilv_plugins_is_end", _BOOL, [P, P]),
    ("lilv_plugins_get", P, [P, P]),
    ("lilv_plugins_get_by_uri", P, [P, P]),
    ("lilv_new_uri", P, [P, _STR]),
    ("lilv_new_file_uri", P, [P, _STR, _STR]),
    ("lilv_node_free", None, [P]),
    ("lilv_node_as_string", _STR, [P]),
    ("lilv_node_as_uri", _STR, [P]),
    ("lilv_node_is_float", _BOOL, [P]),
    ("lilv_node_is_int", _BOOL, [P]),
    ("lilv_node_as_float", ctypes.c_float, [P]),
    ("lilv_node_as_int", ctypes.c_int, [P]),
    ("lilv_node_is_uri", _BOOL, [P]),
    ("lilv_nodes_free", None, [P]),
    ("lilv_nodes_begin", P, [P]),
    ("lilv_nodes_next", P, [P, P]),
    ("lilv_nodes_is_end", _BOOL, [P, P]),
    ("lilv_nodes_get", P, [P, P]),
    ("lilv_plugin_get_uri", P, [P]),
    ("lilv_plugin_get_name", P, [P]),
    ("lilv_plugin_get_class", P, [P]),
    ("lilv_plugin_class_get_label", P, [P]),
    ("lilv_plugin_get_bundle_uri", P, [P]),
    ("lilv_plugin_get_num_ports", _U32, [P]),
    ("lilv_plugin_get_port_by_index", P, [P, _U32]),
    ("lilv_plugin_has_feature", _BOOL, [P, P]),
    ("lilv_plugin_get_required_features", P, [P]),
    ("lilv_plugin_verify", _BOOL, [P]),
    ("lilv_port_is_a", _BOOL, [P, P, P]),
    ("lilv_port_get_symbol", P, [P, P]),
    ("lilv_port_get_name", P, [P, P]),
    ("lilv_port_get_range", None, [P, P, ctypes.POINTER(P), ctypes.POINTER(P),
                                   ctypes.POINTER(P)]),
    ("lilv_port_has_property", _BOOL, [P, P, P]),
    ("lilv_port_get", P, [P, P, P]),
    ("lilv_port_get_scale_points", P, [P, P]),
    ("lilv_scale_points_free", None, [P]),
    ("lilv_scale_points_begin", P, [P]),
    ("lilv_scale_points_next", P, [P, P]),
    ("lilv_scale_points_is_end", _BOOL, [P, P]),
    ("lilv_scale_points_get", P, [P, P]),
    ("lilv_scale_point_get_label", P, [P]),
    ("lilv_scale_point_get_value", P, [P]),
    ("lilv_plugin_instantiate", P, [P, ctypes.c_double, P]),
    ("lilv_instance_free", None, [P]),
)


class LilvMissingError(InputError):
    """liblilv-0 is not installed (one line, exit 2, like any unusable input)."""


class _Library:
    """The lilv functions as attributes, loaded on first use."""

    def __init__(self) -> None:
        self._lib = None

    def _load(self):
        name = ctypes.util.find_library("lilv-0") or "liblilv-0.so.0"
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            raise LilvMissingError("LV2 hosting needs liblilv-0 (apt-get install liblilv-0-0)") \
                from None
        for fname, restype, argtypes in _SIGNATURES:
            fn = getattr(lib, fname)
            fn.restype = restype
            fn.argtypes = argtypes
        return lib

    def __getattr__(self, name: str):
        if self._lib is None:
            self._lib = self._load()
        return getattr(self._lib, name)


lib = _Library()


class LV2Descriptor(ctypes.Structure):
    """``LV2_Descriptor`` (lv2core): the plugin's entry points."""

    _fields_ = [
        ("URI", _STR),
        ("instantiate", P),
        ("connect_port", ctypes.CFUNCTYPE(None, P, _U32, P)),
        ("activate", ctypes.CFUNCTYPE(None, P)),
        ("run", P),  # called from the callback by address, never from here
        ("deactivate", ctypes.CFUNCTYPE(None, P)),
        ("cleanup", P),
        ("extension_data", P),
    ]


class LilvInstance(ctypes.Structure):
    """``LilvInstanceImpl``: what ``lilv_plugin_instantiate`` returns."""

    _fields_ = [("descriptor", ctypes.POINTER(LV2Descriptor)), ("handle", P), ("pimpl", P)]


def text(node: int | None) -> str:
    """A node's string (URI or literal); '' for none."""
    if not node:
        return ""
    raw = lib.lilv_node_as_string(node)
    return raw.decode("utf-8", "replace") if raw else ""


def number(node: int | None) -> float | None:
    """A numeric node as float, None when absent or not a number."""
    if not node:
        return None
    if lib.lilv_node_is_float(node) or lib.lilv_node_is_int(node):
        return float(lib.lilv_node_as_float(node))
    return None


def iterate(collection: int, begin, is_end, get, nxt):
    """Walk a lilv collection (plugins, nodes, scale points)."""
    it = begin(collection)
    while not is_end(collection, it):
        yield get(collection, it)
        it = nxt(collection, it)
