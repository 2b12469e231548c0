"""The LV2 features this host gives every plugin it instantiates.

- ``urid:map`` / ``urid:unmap``: URIs to integers and back (plugins map at instantiation;
  the table only grows, so an id never changes meaning);
- ``options:options``: the sample rate and the block lengths the host runs (at most
  ``max_block_frames``, often fewer: the control grid cuts blocks);
- ``buf-size:boundedBlockLength``: no run is longer than the maximum above;
- ``log:log``: messages counted, not printed, by a Numba C function that is safe on the
  audio thread (no GIL, no I/O); the last format string is kept for the stats.

A plugin requiring anything else (``worker:schedule``, ``state:mapPath``, ...) is refused
with the missing features named.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np
from numba import carray, cfunc, njit, types

from engine.pointers import address_of, i64_ptr

URID_MAP = "http://lv2plug.in/ns/ext/urid#map"
URID_UNMAP = "http://lv2plug.in/ns/ext/urid#unmap"
OPTIONS = "http://lv2plug.in/ns/ext/options#options"
BOUNDED = "http://lv2plug.in/ns/ext/buf-size#boundedBlockLength"
LOG = "http://lv2plug.in/ns/ext/log#log"
PROVIDED = (URID_MAP, URID_UNMAP, OPTIONS, BOUNDED, LOG)
# lv2core "features" that are promises about the plugin, not things the host hands over
PLUGIN_PROPERTIES = ("http://lv2plug.in/ns/lv2core#hardRTCapable",
                     "http://lv2plug.in/ns/lv2core#inPlaceBroken",
                     "http://lv2plug.in/ns/lv2core#isLive")
ATOM_CHUNK = "http://lv2plug.in/ns/ext/atom#Chunk"
ATOM_SEQUENCE = "http://lv2plug.in/ns/ext/atom#Sequence"
ATOM_INT = "http://lv2plug.in/ns/ext/atom#Int"
ATOM_FLOAT = "http://lv2plug.in/ns/ext/atom#Float"
SAMPLE_RATE = "http://lv2plug.in/ns/ext/parameters#sampleRate"
MIN_BLOCK = "http://lv2plug.in/ns/ext/buf-size#minBlockLength"
MAX_BLOCK = "http://lv2plug.in/ns/ext/buf-size#maxBlockLength"
NOMINAL_BLOCK = "http://lv2plug.in/ns/ext/buf-size#nominalBlockLength"
SEQUENCE_SIZE = "http://lv2plug.in/ns/ext/buf-size#sequenceSize"

# the log's counters: messages, the last message's type (URID) and format string address
LOG_COUNT, LOG_TYPE, LOG_FORMAT = range(3)


class Feature(ctypes.Structure):
    _fields_ = [("URI", ctypes.c_char_p), ("data", ctypes.c_void_p)]


class Option(ctypes.Structure):
    _fields_ = [("context", ctypes.c_uint32), ("subject", ctypes.c_uint32),
                ("key", ctypes.c_uint32), ("size", ctypes.c_uint32),
                ("type", ctypes.c_uint32), ("value", ctypes.c_void_p)]


_MAP_FN = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_char_p)
_UNMAP_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32)


class _UridMapStruct(ctypes.Structure):
    _fields_ = [("handle", ctypes.c_void_p), ("map", _MAP_FN)]


class _UridUnmapStruct(ctypes.Structure):
    _fields_ = [("handle", ctypes.c_void_p), ("unmap", _UNMAP_FN)]


class _LogStruct(ctypes.Structure):
    _fields_ = [("handle", ctypes.c_void_p), ("printf", ctypes.c_void_p),
                ("vprintf", ctypes.c_void_p)]


@njit(nogil=True, cache=True, inline="always")
def _count_message(handle, type_urid, fmt):
    counters = carray(i64_ptr(address_of(handle)), (3,))
    counters[LOG_COUNT] += 1
    counters[LOG_TYPE] = type_urid
    counters[LOG_FORMAT] = address_of(fmt)
    return 0


@cfunc(types.int32(types.voidptr, types.uint32, types.voidptr), nopython=True, cache=True)
def _log_printf(handle, type_urid, fmt):
    return _count_message(handle, type_urid, fmt)


@cfunc(types.int32(types.voidptr, types.uint32, types.voidptr, types.voidptr),
       nopython=True, cache=True)
def _log_vprintf(handle, type_urid, fmt, args):
    return _count_message(handle, type_urid, fmt)


class UridTable:
    """The process's URI <-> URID table, shared by every plugin (ids start at 1)."""

    def __init__(self) -> None:
        self._ids: dict[bytes, int] = {}
        self._uris: list[ctypes.Array] = []  # C strings unmap hands out, kept alive
        self._lock = threading.Lock()
        self.map_fn = _MAP_FN(self._map)
        self.unmap_fn = _UNMAP_FN(self._unmap)

    def _map(self, handle, uri: bytes) -> int:
        return self.id(uri.decode("utf-8", "replace"))

    def _unmap(self, handle, urid: int) -> int | None:
        if 1 <= urid <= len(self._uris):
            return ctypes.addressof(self._uris[urid - 1])
        return None

    def id(self, uri: str) -> int:
        key = uri.encode()
        with self._lock:
            if key not in self._ids:
                self._uris.append(ctypes.create_string_buffer(key))
                self._ids[key] = len(self._uris)
            return self._ids[key]


URIDS = UridTable()


class HostFeatures:
    """The NULL-terminated ``LV2_Feature*`` array for instances at one rate and block."""

    def __init__(self, sample_rate_hz: float, max_block_frames: int,
                 sequence_bytes: int) -> None:
        self.log_counters = np.zeros(3, dtype=np.int64)
        self._rate = ctypes.c_float(sample_rate_hz)
        self._blocks = (ctypes.c_int32 * 4)(1, max_block_frames, max_block_frames,
                                            sequence_bytes)
        int_t, float_t = URIDS.id(ATOM_INT), URIDS.id(ATOM_FLOAT)
        opts = [(SAMPLE_RATE, float_t, ctypes.addressof(self._rate), 4),
                (MIN_BLOCK, int_t, ctypes.addressof(self._blocks), 4),
                (MAX_BLOCK, int_t, ctypes.addressof(self._blocks) + 4, 4),
                (NOMINAL_BLOCK, int_t, ctypes.addressof(self._blocks) + 8, 4),
                (SEQUENCE_SIZE, int_t, ctypes.addressof(self._blocks) + 12, 4)]
        self._options = (Option * (len(opts) + 1))(
            *(Option(0, 0, URIDS.id(key), size, type_, value)
              for key, type_, value, size in opts), Option())
        self._map = _UridMapStruct(None, URIDS.map_fn)
        self._unmap = _UridUnmapStruct(None, URIDS.unmap_fn)
        self._log = _LogStruct(self.log_counters.ctypes.data, _log_printf.address,
                               _log_vprintf.address)
        data = {URID_MAP: ctypes.addressof(self._map), URID_UNMAP: ctypes.addressof(self._unmap),
                OPTIONS: ctypes.addressof(self._options), BOUNDED: None,
                LOG: ctypes.addressof(self._log)}
        self._features = [Feature(uri.encode(), data[uri]) for uri in PROVIDED]
        self.array = (ctypes.POINTER(Feature) * (len(self._features) + 1))(
            *(ctypes.pointer(f) for f in self._features), None)

    def log_summary(self) -> dict:
        count = int(self.log_counters[LOG_COUNT])
        last = ""
        if count and self.log_counters[LOG_FORMAT]:
            # plugins log literal format strings, which live as long as their binary
            last = ctypes.string_at(int(self.log_counters[LOG_FORMAT])).decode(
                "utf-8", "replace").strip()
        return {"messages": count, "last": last}


def missing_features(required: tuple[str, ...]) -> list[str]:
    """The required features this host does not provide."""
    return [f for f in required if f not in PROVIDED and f not in PLUGIN_PROPERTIES]
