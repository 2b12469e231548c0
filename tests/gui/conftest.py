"""GUI tests: an X display of their own for the window tests."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import time

import pytest


def start_xvfb(*args: str) -> tuple[subprocess.Popen, str]:
    """Xvfb on a free display number (``args`` added to its command line), once it answers
    an X connection; (process, display name)."""
    from gui.display import _library

    xlib = _library("X11")
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    for number in range(91, 100):
        if os.path.exists(f"/tmp/.X11-unix/X{number}") or os.path.exists(f"/tmp/.X{number}-lock"):
            continue
        proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x800x24", *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and proc.poll() is None:
            handle = xlib.XOpenDisplay(f":{number}".encode())
            if handle:
                xlib.XCloseDisplay(handle)
                return proc, f":{number}"
            time.sleep(0.1)
        proc.kill()
        proc.wait(timeout=10)
    pytest.fail("could not start Xvfb on displays :91-:99")


@pytest.fixture(scope="session")
def x_display():
    """Our own Xvfb for DearPyGui (FACTS: it renders under Xvfb through Mesa; it has no
    headless mode), also on a desktop: the tests read pixels and the mouse, which a real
    screen's window manager and its user would change. $DISPLAY points at it meanwhile."""
    if shutil.which("Xvfb") is None:
        pytest.fail("GUI tests need Xvfb (apt-get install xvfb; `make test` installs it)")
    proc, display = start_xvfb()
    before = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    yield display
    proc.terminate()
    proc.wait(timeout=10)
    if before is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = before
