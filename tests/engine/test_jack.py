"""Starting and stopping the JACK dummy server (engine/jack.py)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from engine import jack

IGNORES_SIGTERM = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                   "print('ready', flush=True); time.sleep(60)")


@pytest.fixture(autouse=True)
def keep_portaudio(monkeypatch):
    # stop_server closes PortAudio first; these stand-in servers have no client of ours,
    # and closing it here would leave the rest of the session without PortAudio
    monkeypatch.setattr(jack, "release_portaudio", lambda: None)


def test_a_server_that_ignores_sigterm_is_killed(monkeypatch):
    monkeypatch.setattr(jack, "STOP_TIMEOUT_S", 0.5)
    proc = subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline() == "ready\n"  # the handler is in place before we stop it
    jack.stop_server(proc)
    assert proc.returncode == -signal.SIGKILL


def test_a_server_that_stops_on_sigterm_is_not_killed():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    jack.stop_server(proc)
    assert proc.returncode == -signal.SIGTERM
