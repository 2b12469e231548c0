"""Is there a screen to open the window on?

DearPyGui has no headless mode: without a reachable X display its GLFW backend fails an
assertion and aborts the whole process, audio and all (FACTS), and an X server without the
GLX extension (OpenGL over X: some VNC and forwarded-X sessions) can fail the same way. So
``musicmill run`` asks first, by opening an X connection through Xlib and asking it for
GLX, and runs without the window when the answer is no.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os


def _library(name: str):
    path = ctypes.util.find_library(name)
    if path is None:
        return None
    try:
        return ctypes.CDLL(path)
    except OSError:
        return None


def display_available() -> bool:
    """True when ``$DISPLAY`` names an X server that accepts a connection and has GLX."""
    if not os.environ.get("DISPLAY"):
        return False
    xlib, gl = _library("X11"), _library("GL")
    if xlib is None or gl is None:
        return False
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    gl.glXQueryExtension.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int),
                                     ctypes.POINTER(ctypes.c_int)]
    handle = xlib.XOpenDisplay(None)
    if not handle:
        return False
    try:
        error_base, event_base = ctypes.c_int(), ctypes.c_int()
        return bool(gl.glXQueryExtension(handle, ctypes.byref(error_base),
                                         ctypes.byref(event_base)))
    finally:
        xlib.XCloseDisplay(handle)
