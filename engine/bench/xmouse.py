"""A performer's hand on an X display: pointer moves, button presses (the XTest extension) and
screenshots (``XGetImage``), through ctypes on libX11 and libXtst.

The window benchmark and its test work the window of a separate ``musicmill run`` process
the way a person would; the window cannot tell these events from a real mouse.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np

_Z_PIXMAP = 2
_ALL_PLANES = ctypes.c_ulong(-1).value
_LEFT_BUTTON = 1


class _XImage(ctypes.Structure):
    # the leading fields of Xlib's XImage (X11/Xlib.h); the rest are never read
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
                ("format", ctypes.c_int), ("data", ctypes.POINTER(ctypes.c_uint8)),
                ("byte_order", ctypes.c_int), ("bitmap_unit", ctypes.c_int),
                ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int),
                ("depth", ctypes.c_int), ("bytes_per_line", ctypes.c_int),
                ("bits_per_pixel", ctypes.c_int)]


def _library(name: str) -> ctypes.CDLL:
    path = ctypes.util.find_library(name)
    if path is None:
        raise RuntimeError(f"lib{name} not found: install it with "
                           f"`apt-get install -y lib{name.lower()}6`")
    return ctypes.CDLL(path)


class XMouse:
    """The pointer and the screen of X display ``display`` (e.g. ``":91"``)."""

    def __init__(self, display: str) -> None:
        self._x = x = _library("X11")
        self._t = t = _library("Xtst")
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XDefaultRootWindow.restype = ctypes.c_ulong
        x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x.XFlush.argtypes = [ctypes.c_void_p]
        x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        x.XGetImage.restype = ctypes.POINTER(_XImage)
        x.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                                ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
        x.XDestroyImage.argtypes = [ctypes.POINTER(_XImage)]
        for name in ("XDisplayWidth", "XDisplayHeight"):
            getattr(x, name).argtypes = [ctypes.c_void_p, ctypes.c_int]
        t.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                           ctypes.c_int, ctypes.c_ulong]
        t.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                           ctypes.c_ulong]
        self._dpy = x.XOpenDisplay(display.encode())
        if not self._dpy:
            raise RuntimeError(f"cannot open X display {display}")
        self._root = x.XDefaultRootWindow(self._dpy)

    def screen_size(self) -> tuple[int, int]:
        """Width and height of the first screen in pixels."""
        return self._x.XDisplayWidth(self._dpy, 0), self._x.XDisplayHeight(self._dpy, 0)

    def move(self, x: float, y: float) -> None:
        """The pointer to screen pixel (``x``, ``y``)."""
        self._t.XTestFakeMotionEvent(self._dpy, -1, int(round(x)), int(round(y)), 0)
        self._x.XFlush(self._dpy)

    def press(self, down: bool) -> None:
        """The left button pressed (``down``) or released."""
        self._t.XTestFakeButtonEvent(self._dpy, _LEFT_BUTTON, int(down), 0)
        self._x.XFlush(self._dpy)

    def screenshot(self) -> np.ndarray:
        """The whole screen as drawn now, ``(h, w, rgb)`` uint8."""
        width, height = self.screen_size()
        image = self._x.XGetImage(self._dpy, self._root, 0, 0, width, height, _ALL_PLANES,
                                  _Z_PIXMAP)
        if not image:
            raise RuntimeError("XGetImage failed")
        try:
            im = image.contents
            if im.bits_per_pixel != 32:
                raise RuntimeError(f"unsupported screen depth: {im.bits_per_pixel} bits a pixel")
            raw = np.ctypeslib.as_array(im.data, shape=(im.height * im.bytes_per_line,))
            rows = raw.reshape(im.height, im.bytes_per_line)[:, :4 * im.width]
            bgrx = rows.reshape(im.height, im.width, 4)
            return bgrx[:, :, 2::-1].copy()  # little-endian TrueColor: B, G, R, unused
        finally:
            self._x.XDestroyImage(image)

    def close(self) -> None:
        if self._dpy:
            self._x.XCloseDisplay(self._dpy)
            self._dpy = None


def write_png(path, rgb: np.ndarray) -> None:
    """``rgb`` (``(h, w, 3)`` uint8) as an 8-bit RGB PNG: a screenshot for the docs."""
    import struct
    import zlib

    h, w, _ = rgb.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = np.concatenate([np.zeros((h, 1), np.uint8),  # filter type 0 before each row
                           np.ascontiguousarray(rgb, np.uint8).reshape(h, 3 * w)], axis=1)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)) + chunk(b"IEND", b""))
