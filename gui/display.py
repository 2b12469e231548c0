"""Is there a screen to open the window on?

DearPyGui has no headless mode: without a reachable X display its GLFW backend fails an
assertion and aborts the whole process, audio and all (FACTS). So ``musicmill run`` asks
first, by opening and closing an X connection through Xlib, and runs without the window
when the answer is no.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os


def display_available() -> bool:
    """True when ``$DISPLAY`` names an X server that accepts a connection."""
    if not os.environ.get("DISPLAY"):
        return False
    name = ctypes.util.find_library("X11")
    if name is None:
        return False
    try:
        xlib = ctypes.CDLL(name)
    except OSError:
        return False
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = xlib.XOpenDisplay(None)
    if not handle:
        return False
    xlib.XCloseDisplay(handle)
    return True
