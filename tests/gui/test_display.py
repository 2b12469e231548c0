"""gui.display: the X display check that keeps DearPyGui from aborting the process."""

from __future__ import annotations

from gui.display import display_available

from .conftest import start_xvfb


def test_no_display_variable(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    assert not display_available()


def test_a_display_nobody_serves(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":4242")
    assert not display_available()


def test_a_running_server(x_display, monkeypatch):
    monkeypatch.setenv("DISPLAY", x_display)
    assert display_available()


def test_a_server_without_glx(monkeypatch):
    """DearPyGui needs OpenGL over X: without GLX the window is not tried."""
    proc, display = start_xvfb("-extension", "GLX")
    try:
        monkeypatch.setenv("DISPLAY", display)
        assert not display_available()
    finally:
        proc.terminate()
        proc.wait(timeout=10)

